import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Finding, findingSchema } from '../../../../lambdas/contracts/finding';
import {
  type MonitoringExecutionSummaryInput,
  monitoringExecutionSummarySchema,
} from '../../../../lambdas/contracts/model-monitor';
import {
  type MonitorExecution,
  type MonitorSchedule,
  modelMonitorFindings,
  numbersFromDescription,
} from '../../../../lambdas/core/detect/drift/model-monitor';
import { HOUR_MS, MINUTE_MS } from '../../../../lambdas/core/time';

function fixture(name: string): unknown {
  return JSON.parse(
    readFileSync(new URL(`../../../fixtures/model-monitor/${name}.json`, import.meta.url), 'utf8'),
  );
}

/** 2026-11-24 09:00 UTC: an hourly schedule's run for the 08:00–09:00 data. */
const SCHEDULED = Date.UTC(2026, 10, 24, 9);
const NOW = SCHEDULED + 25 * MINUTE_MS;
const ARN = 'arn:aws:sagemaker:us-east-1:123456789012:processing-job/model-monitoring-202611240900-0c5e1b2a';

function summary(patch: Partial<MonitoringExecutionSummaryInput> = {}) {
  return monitoringExecutionSummarySchema.parse({
    MonitoringScheduleName: 'churn-dq',
    ScheduledTime: new Date(SCHEDULED),
    MonitoringExecutionStatus: 'Completed',
    MonitoringType: 'DataQuality',
    EndpointName: 'churn-xgb-prod',
    ProcessingJobArn: ARN,
    ...patch,
  });
}

const schedules: MonitorSchedule[] = [
  { name: 'churn-dq', endpoint: 'churn-xgb-prod', monitoringType: 'DataQuality', team: 'growth-ml' },
];

function run(executions: MonitorExecution[], nowMs = NOW, s = schedules): Finding[] {
  const findings = modelMonitorFindings({ schedules: s, executions, nowMs });
  // Every finding must survive the wire schema exactly as produced.
  for (const f of findings) expect(findingSchema.parse(f)).toEqual(f);
  return findings;
}

describe('monitoring execution summary contract', () => {
  it('accepts the SDK shape (Date) and the JSON shape (ISO string) alike, plus unknown fields', () => {
    const fromSdk = summary();
    const fromJson = monitoringExecutionSummarySchema.parse({
      ...fromSdk,
      ScheduledTime: '2026-11-24T09:00:00Z',
      CreationTime: '2026-11-24T09:02:13Z',
    });
    expect(fromSdk.ScheduledTime).toBe(SCHEDULED);
    expect(fromJson.ScheduledTime).toBe(SCHEDULED);
  });

  it.each(['Running', 'completedwithviolations', ''])('rejects the status %j', (status) => {
    expect(() => summary({ MonitoringExecutionStatus: status as 'Completed' })).toThrow();
  });
});

describe('constraint_violations.json → findings', () => {
  it.each([
    {
      name: 'data quality (prebuilt container)',
      file: 'data-quality-constraint_violations',
      type: 'DataQuality' as const,
      kind: 'model.drift.data_quality',
      expected: [
        {
          title: 'feature Account Length (data_type_check)',
          values: { expected_pct: 100, observed_pct: 0 },
        },
        { title: 'feature Day Mins (baseline_drift_check)', values: { distance: 0.27, threshold: 0.1 } },
        { title: 'feature Night Calls (baseline_drift_check)', values: { distance: 0.2701, threshold: 0 } },
      ],
    },
    {
      name: 'bias drift',
      file: 'bias-drift-constraint_violations',
      type: 'ModelBias' as const,
      kind: 'model.drift.bias',
      expected: [
        {
          title: 'CI for facet Account Length=(1.0, 10.0] (bias_drift_check)',
          values: { value: 0.0751544567666083 },
        },
        {
          title: 'DPPL for facet Account Length=(1.0, 10.0] (bias_drift_check)',
          values: { value: -0.0791244970125596 },
        },
      ],
    },
    {
      name: 'feature attribution drift',
      file: 'feature-attribution-constraint_violations',
      type: 'ModelExplainability' as const,
      kind: 'model.drift.feature_attribution',
      expected: [
        {
          title: 'SHAP attribution of label label0 (feature_attribution_drift_check)',
          values: { value: 0.7639720923277322, threshold: 0.9 },
        },
      ],
    },
    {
      name: 'BYOC NLP example (constraints_violations.json, extra fields)',
      file: 'byoc-nlp-constraints_violations',
      type: 'DataQuality' as const,
      kind: 'model.drift.data_quality',
      expected: [
        {
          title: 'feature sent_mmd_score (baseline_drift_check)',
          values: { distance: 0.0312, threshold: 0.0125 },
        },
      ],
    },
  ])('$name: one finding per violation', ({ file, type, kind, expected }) => {
    const report = fixture(file);
    const findings = run([
      {
        summary: summary({ MonitoringType: type, MonitoringExecutionStatus: 'CompletedWithViolations' }),
        report,
      },
    ]);
    expect(findings.map((f) => f.kind)).toEqual(expected.map(() => kind));
    expect(findings.map((f) => f.title)).toEqual(
      expected.map((e) => `${type} violation on churn-xgb-prod: ${e.title}`),
    );
    expect(findings.map((f) => f.evidence.values)).toEqual(expected.map((e) => e.values));
    for (const f of findings) {
      expect(f).toMatchObject({
        severity: 'ticket',
        cause: 'model',
        labels: { endpoint: 'churn-xgb-prod', team: 'growth-ml' },
        runbook: `docs/runbooks/${kind}.md`,
        detectedAt: NOW,
        evidence: { window: { startMs: SCHEDULED - HOUR_MS, endMs: SCHEDULED } },
      });
    }
    // Each violated feature is its own incident: the feature label keeps their fingerprints apart.
    expect(new Set(findings.map((f) => f.labels.feature)).size).toBe(findings.length);
    const violations = (report as { violations: { description: string }[] }).violations;
    expect(findings.map((f) => f.evidence.detail)).toEqual(
      violations.map((v) => expect.stringContaining(v.description)),
    );
  });

  it('model quality: one finding per metric (shape from the example notebooks; AWS documents none)', () => {
    const report = {
      violations: [
        {
          constraint_check_type: 'LessThanThreshold',
          description: "Metric weightedF2 with 0.6330 was LessThanThreshold '0.7208'",
          metric_name: 'weightedF2',
        },
      ],
    };
    const findings = run([
      {
        summary: summary({
          MonitoringType: 'ModelQuality',
          MonitoringExecutionStatus: 'CompletedWithViolations',
        }),
        report,
      },
    ]);
    expect(findings.map((f) => [f.kind, f.title, f.evidence.values])).toEqual([
      [
        'model.drift.model_quality',
        'ModelQuality violation on churn-xgb-prod: metric weightedF2 (LessThanThreshold)',
        { value: 0.633, threshold: 0.7208 },
      ],
    ]);
  });

  it('takes the schedule type when the execution summary carries none', () => {
    const exec = summary({ MonitoringExecutionStatus: 'CompletedWithViolations' });
    delete (exec as { MonitoringType?: string }).MonitoringType;
    const findings = run([{ summary: exec, report: fixture('bias-drift-constraint_violations') }], NOW, [
      { name: 'churn-dq', endpoint: 'churn-xgb-prod', monitoringType: 'ModelBias' },
    ]);
    expect(findings.map((f) => f.kind)).toEqual(['model.drift.bias', 'model.drift.bias']);
  });

  it.each([
    { name: 'missing object', report: undefined, detail: 'constraint_violations.json not found' },
    { name: 'text that was not JSON', report: '{"violations": [', detail: 'not JSON: {"violations": [' },
    { name: 'no violations array', report: { version: '1.0' }, detail: 'violations: ' },
    {
      name: 'a violation without feature_name',
      report: { violations: [{ constraint_check_type: 'baseline_drift_check', description: 'x' }] },
      detail: 'violations.0.feature_name: ',
    },
    { name: 'an empty list', report: { violations: [] }, detail: 'violations is empty' },
  ])('a report with $name is a report_invalid finding, not silence', ({ report, detail }) => {
    const findings = run([
      { summary: summary({ MonitoringExecutionStatus: 'CompletedWithViolations' }), report },
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.kind).toBe('model.monitor.report_invalid');
    expect(findings[0]?.evidence.detail).toContain(detail);
    expect(findings[0]?.evidence.detail).toContain(ARN);
  });

  it('a bias report read as data quality fails validation (wrong monitoring type is visible)', () => {
    const findings = run([
      {
        summary: summary({
          MonitoringExecutionStatus: 'CompletedWithViolations',
          MonitoringType: 'DataQuality',
        }),
        report: fixture('bias-drift-constraint_violations'),
      },
    ]);
    expect(findings.map((f) => f.kind)).toEqual(['model.monitor.report_invalid']);
  });
});

describe('execution status and staleness', () => {
  it.each([
    { status: 'Completed', kinds: [] },
    { status: 'InProgress', kinds: [] },
    { status: 'Pending', kinds: [] },
    { status: 'Stopped', kinds: [] },
    { status: 'Failed', kinds: ['model.monitor.execution_failed'] },
  ] as const)('latest execution $status, fresh → $kinds', ({ status, kinds }) => {
    const findings = run([
      {
        summary: summary({
          MonitoringExecutionStatus: status,
          FailureReason:
            status === 'Failed'
              ? 'AlgorithmError: Error: Encoding mismatch: Encoding is JSON for endpointInput, but Encoding is base64 for endpointOutput.'
              : undefined,
        }),
      },
    ]);
    expect(findings.map((f) => f.kind)).toEqual(kinds);
    if (status === 'Failed')
      expect(findings[0]?.evidence.detail).toContain('AlgorithmError: Error: Encoding mismatch');
  });

  it('a failure without FailureReason says so', () => {
    const [f] = run([{ summary: summary({ MonitoringExecutionStatus: 'Failed' }) }]);
    expect(f?.evidence.detail).toContain('no FailureReason given');
  });

  // Hourly, k = 2, buffer 20 min: stale once the latest run is more than 2 h 20 min old.
  it.each([
    { name: 'just inside the limit', ageMin: 140, stale: false },
    { name: 'one minute past it', ageMin: 141, stale: true },
    { name: 'a day old', ageMin: 24 * 60, stale: true },
  ])('latest execution $name ($ageMin min) → stale: $stale', ({ ageMin, stale }) => {
    const findings = run([{ summary: summary() }], SCHEDULED + ageMin * MINUTE_MS);
    expect(findings.map((f) => f.kind)).toEqual(stale ? ['model.monitor.stale'] : []);
    if (stale) expect(findings[0]?.evidence.values).toEqual({ age_min: ageMin, limit_min: 140 });
  });

  it('judges staleness by the newest execution, whatever the input order', () => {
    const old = summary({ ScheduledTime: new Date(SCHEDULED - 5 * HOUR_MS) });
    expect(run([{ summary: summary() }, { summary: old }])).toEqual([]);
  });

  it('a daily schedule is judged on its own interval', () => {
    const daily: MonitorSchedule[] = [
      { name: 'churn-dq', endpoint: 'churn-xgb-prod', intervalMs: 24 * HOUR_MS },
    ];
    expect(run([{ summary: summary() }], SCHEDULED + 30 * HOUR_MS, daily)).toEqual([]);
    expect(run([{ summary: summary() }], SCHEDULED + 49 * HOUR_MS, daily).map((f) => f.kind)).toEqual([
      'model.monitor.stale',
    ]);
  });

  it("the schedule's own last execution time counts when no new execution arrived", () => {
    const known: MonitorSchedule[] = [
      { name: 'churn-dq', endpoint: 'churn-xgb-prod', lastScheduledMs: SCHEDULED },
    ];
    expect(run([], NOW, known)).toEqual([]);
    const [f] = run([], SCHEDULED + 3 * HOUR_MS, known);
    expect(f?.evidence.values).toEqual({ age_min: 180, limit_min: 140 });
    expect(f?.evidence.detail).toContain(
      'latest execution scheduled 2026-11-24T09:00:00.000Z, older than 2 × interval',
    );
  });

  it('a schedule with no execution at all is stale', () => {
    const findings = run([], NOW);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'model.monitor.stale',
      labels: { endpoint: 'churn-xgb-prod', team: 'growth-ml' },
      evidence: { values: { limit_min: 140 } },
    });
    expect(findings[0]?.title).toContain('no executions');
  });

  it('severity is configurable per kind', () => {
    const findings = modelMonitorFindings({
      schedules,
      executions: [{ summary: summary({ MonitoringExecutionStatus: 'Failed' }) }],
      nowMs: NOW,
      options: { severity: { 'model.monitor.execution_failed': 'page' } },
    });
    expect(findings.map((f) => f.severity)).toEqual(['page']);
  });
});

describe('numbers from description strings', () => {
  it.each([
    ['Baseline drift distance: 0.27 exceeds threshold: 0.1', { distance: 0.27, threshold: 0.1 }],
    ['Numerical distance: 0.2701 exceeds numerical threshold: 0', { distance: 0.2701, threshold: 0 }],
    [
      'Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. Observed: Only 0.0% of data is Integral.',
      { expected_pct: 100, observed_pct: 0 },
    ],
    ["Metric weightedF2 with 0.63 was LessThanThreshold '0.72'", { value: 0.63, threshold: 0.72 }],
    ['Value 1.2e-3 does not meet the constraint requirement', { value: 0.0012 }],
    ['There are missing columns in current dataset.', {}],
  ])('%s', (description, values) => {
    expect(numbersFromDescription(description)).toEqual(values);
  });
});
