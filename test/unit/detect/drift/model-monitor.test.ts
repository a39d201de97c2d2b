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
import { fitList } from '../../../../lambdas/core/detect/drift/summary';
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
  // One finding per execution (one check of one endpoint): subjects worst first, i.e. by how far
  // past the threshold (Night Calls' threshold is 0, so any distance is infinitely past it); their
  // numbers keyed `<subject>.<stat>`; no feature label, so the endpoint is one incident.
  it.each([
    {
      name: 'data quality (prebuilt container)',
      file: 'data-quality-constraint_violations',
      type: 'DataQuality' as const,
      kind: 'model.drift.data_quality',
      noun: 'features',
      expected: [
        {
          subject: 'Night Calls',
          brief: 'baseline_drift_check 0.2701, threshold 0',
          values: { distance: 0.2701, threshold: 0 },
        },
        {
          subject: 'Day Mins',
          brief: 'baseline_drift_check 0.27, threshold 0.1',
          values: { distance: 0.27, threshold: 0.1 },
        },
        {
          subject: 'Account Length',
          brief: 'data_type_check',
          values: { expected_pct: 100, observed_pct: 0 },
        },
      ],
    },
    {
      name: 'bias drift',
      file: 'bias-drift-constraint_violations',
      type: 'ModelBias' as const,
      kind: 'model.drift.bias',
      noun: 'bias metrics',
      expected: [
        {
          subject: 'CI for facet Account Length=(1.0, 10.0]',
          brief: 'bias_drift_check 0.0752',
          values: { value: 0.0751544567666083 },
        },
        {
          subject: 'DPPL for facet Account Length=(1.0, 10.0]',
          brief: 'bias_drift_check -0.0791',
          values: { value: -0.0791244970125596 },
        },
      ],
    },
    {
      name: 'feature attribution drift',
      file: 'feature-attribution-constraint_violations',
      type: 'ModelExplainability' as const,
      kind: 'model.drift.feature_attribution',
      noun: 'attributions',
      expected: [
        {
          subject: 'label label0',
          brief: 'feature_attribution_drift_check 0.764, threshold 0.9',
          values: { value: 0.7639720923277322, threshold: 0.9 },
        },
      ],
    },
    {
      name: 'BYOC NLP example (constraints_violations.json, extra fields)',
      file: 'byoc-nlp-constraints_violations',
      type: 'DataQuality' as const,
      kind: 'model.drift.data_quality',
      noun: 'features',
      expected: [
        {
          subject: 'sent_mmd_score',
          brief: 'baseline_drift_check 0.0312, threshold 0.0125',
          values: { distance: 0.0312, threshold: 0.0125 },
        },
      ],
    },
  ])(
    '$name: one finding for the execution, violations worst first',
    ({ file, type, kind, noun, expected }) => {
      const report = fixture(file);
      const findings = run([
        {
          summary: summary({ MonitoringType: type, MonitoringExecutionStatus: 'CompletedWithViolations' }),
          report,
        },
      ]);
      expect(findings).toHaveLength(1);
      const [f] = findings;
      expect(f?.kind).toBe(kind);
      // As many as fit in the 200-character title, then how many more.
      expect(f?.title).toBe(
        fitList(
          `${type}: ${expected.length} ${noun} drifted on endpoint churn-xgb-prod: `,
          expected.map((e) => `${e.subject} (${e.brief})`),
          ', ',
          200,
        ),
      );
      const values: Record<string, number> = { features_drifted: expected.length };
      for (const e of expected)
        for (const [k, v] of Object.entries(e.values)) values[`${e.subject}.${k}`] = v;
      expect(f?.evidence.values).toEqual(values);
      expect(f).toMatchObject({
        severity: 'ticket',
        cause: 'model',
        labels: { endpoint: 'churn-xgb-prod', team: 'growth-ml' },
        runbook: `docs/runbooks/${kind}.md`,
        detectedAt: NOW,
        evidence: { window: { startMs: SCHEDULED - HOUR_MS, endMs: SCHEDULED } },
      });
      expect(f?.labels.feature).toBeUndefined();
      const violations = (report as { violations: { description: string }[] }).violations;
      for (const v of violations) expect(f?.evidence.detail).toContain(v.description);
      expect(f?.evidence.detail).toContain('schedule churn-dq');
      // Worst first in the detail too.
      const at = expected.map((e) => f?.evidence.detail?.indexOf(`${e.subject}: `) ?? -1);
      expect(at.every((x) => x >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    },
  );

  it('two checks violated on one feature are one entry with both descriptions', () => {
    const report = {
      violations: [
        {
          feature_name: 'Day Mins',
          constraint_check_type: 'data_type_check',
          description:
            'Data type match requirement is not met. Expected match: 100.0%. Observed: Only 90.0% of data is Fractional.',
        },
        {
          feature_name: 'Day Mins',
          constraint_check_type: 'baseline_drift_check',
          description: 'Baseline drift distance: 0.5 exceeds threshold: 0.1',
        },
        {
          feature_name: 'Eve Mins',
          constraint_check_type: 'baseline_drift_check',
          description: 'Baseline drift distance: 0.3 exceeds threshold: 0.1',
        },
      ],
    };
    const findings = run([
      { summary: summary({ MonitoringExecutionStatus: 'CompletedWithViolations' }), report },
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.title).toBe(
      'DataQuality: 2 features drifted on endpoint churn-xgb-prod: Day Mins (data_type_check, baseline_drift_check 0.5, threshold 0.1), Eve Mins (baseline_drift_check 0.3, threshold 0.1)',
    );
    expect(findings[0]?.evidence.values).toMatchObject({
      features_drifted: 2,
      'Day Mins.expected_pct': 100,
      'Day Mins.observed_pct': 90,
      'Day Mins.distance': 0.5,
      'Eve Mins.distance': 0.3,
    });
  });

  it('model quality: one finding naming the metric (shape from the example notebooks; AWS documents none)', () => {
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
        'ModelQuality: 1 metrics drifted on endpoint churn-xgb-prod: weightedF2 (LessThanThreshold 0.633, threshold 0.7208)',
        { features_drifted: 1, 'weightedF2.value': 0.633, 'weightedF2.threshold': 0.7208 },
      ],
    ]);
  });

  it('takes the schedule type when the execution summary carries none', () => {
    const exec = summary({ MonitoringExecutionStatus: 'CompletedWithViolations' });
    delete (exec as { MonitoringType?: string }).MonitoringType;
    const findings = run([{ summary: exec, report: fixture('bias-drift-constraint_violations') }], NOW, [
      { name: 'churn-dq', endpoint: 'churn-xgb-prod', monitoringType: 'ModelBias' },
    ]);
    expect(findings.map((f) => f.kind)).toEqual(['model.drift.bias']);
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
