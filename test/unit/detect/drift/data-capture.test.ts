import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Finding, findingSchema } from '../../../../lambdas/contracts/finding';
import {
  type CheckDriftInput,
  checkDrift,
  type FeatureRow,
  type FeatureSpec,
  parseDataCapture,
} from '../../../../lambdas/core/detect/drift/data-capture';
import { normal, prng } from '../synthetic';

const FEATURES: FeatureSpec[] = [
  { name: 'account_length', type: 'numeric' },
  { name: 'day_mins', type: 'numeric' },
  { name: 'state', type: 'categorical' },
  { name: 'intl_plan', type: 'categorical' },
];

const jsonl = readFileSync(
  new URL('../../../fixtures/model-monitor/data-capture.jsonl', import.meta.url),
  'utf8',
);

describe('parseDataCapture', () => {
  const parsed = parseDataCapture(jsonl, FEATURES, {
    file: 'churn-xgb-prod/AllTraffic/2026/11/24/08/a.jsonl',
  });

  it('reads CSV, multi-record CSV, JSON, base64 CSV and base64 JSON { instances } payloads', () => {
    expect(parsed.rows).toEqual([
      { account_length: 132, day_mins: 265.1, state: 'CA', intl_plan: 'no' },
      { account_length: 87, day_mins: 161.6, state: 'NY', intl_plan: 'yes' },
      { account_length: 101, day_mins: 243.4, state: 'TX', intl_plan: 'no' },
      { account_length: 45, day_mins: 197.4, state: 'OH', intl_plan: 'no' },
      { account_length: 118, day_mins: 184.5, state: 'WA', intl_plan: 'no' },
      { account_length: 75, day_mins: 129.1, state: 'CA', intl_plan: 'no' },
      { account_length: 64, day_mins: 346.8, state: 'NJ', intl_plan: 'yes' },
    ]);
  });

  it('reports every bad line with its number and reason', () => {
    const file = 'churn-xgb-prod/AllTraffic/2026/11/24/08/a.jsonl';
    expect(parsed.bad).toEqual([
      { file, line: 6, reason: 'expected 4 values, got 3' },
      { file, line: 7, reason: 'not JSON' },
      { file, line: 8, reason: `feature 'account_length' is not a number: "abc"` },
    ]);
  });

  it('spans the inference times of the good lines', () => {
    expect(parsed.window).toEqual({
      startMs: Date.parse('2026-11-24T08:24:40Z'),
      endMs: Date.parse('2026-11-24T08:29:58Z'),
    });
  });

  it.each([
    {
      name: 'a line that is not a capture record',
      line: '{"eventMetadata":{"eventId":"x"}}',
      reason: 'not a Data Capture record: captureData: ',
    },
    {
      name: 'an unknown encoding',
      line: '{"captureData":{"endpointInput":{"mode":"INPUT","data":"1,2,CA,no","encoding":"XML"}},"eventMetadata":{"eventId":"x"}}',
      reason: 'not a Data Capture record: captureData.endpointInput.encoding',
    },
    {
      name: 'base64 of an unsupported content type',
      line: '{"captureData":{"endpointInput":{"observedContentType":"application/x-npy","mode":"INPUT","data":"AAAA","encoding":"BASE64"}},"eventMetadata":{"eventId":"x"}}',
      reason: "base64 payload of unsupported content type 'application/x-npy'",
    },
    {
      name: 'a JSON payload missing a feature (null) is fine',
      line: '{"captureData":{"endpointInput":{"mode":"INPUT","data":"{\\"account_length\\":3,\\"day_mins\\":1.5,\\"state\\":\\"CA\\"}","encoding":"JSON"}},"eventMetadata":{"eventId":"x"}}',
      reason: undefined,
    },
  ])('$name', ({ line, reason }) => {
    const out = parseDataCapture(`${line}\n`, FEATURES);
    if (reason === undefined) {
      expect(out.bad).toEqual([]);
      expect(out.rows).toEqual([{ account_length: 3, day_mins: 1.5, state: 'CA', intl_plan: null }]);
    } else {
      expect(out.rows).toEqual([]);
      expect(out.bad).toHaveLength(1);
      expect(out.bad[0]?.line).toBe(1);
      expect(out.bad[0]?.reason).toContain(reason);
    }
  });

  it('reads the output side when asked (prediction drift)', () => {
    const out = parseDataCapture(jsonl, [{ name: 'score', type: 'numeric' }], { source: 'output' });
    expect(out.rows.slice(0, 2)).toEqual([{ score: 0.01076381653547287 }, { score: 0.12 }]);
    // Line 2 holds two input records but "0.8512,0.0433" is one output row of two values: a bad line.
    expect(out.bad.map((b) => b.line)).toContain(2);
  });
});

/** Rows shaped like the churn endpoint's traffic, with optional shifts. */
function rows(
  seed: number,
  n: number,
  opts: { dayMinsShift?: number; stateMix?: Record<string, number> } = {},
) {
  const rand = prng(seed);
  const z = normal(rand);
  const mix = opts.stateMix ?? { CA: 0.4, NY: 0.3, TX: 0.2, WA: 0.1 };
  const out: FeatureRow[] = [];
  for (let i = 0; i < n; i++) {
    let u = rand();
    let state = 'CA';
    for (const [k, w] of Object.entries(mix)) {
      u -= w;
      if (u <= 0) {
        state = k;
        break;
      }
    }
    out.push({
      account_length: Math.round(100 + 40 * z()),
      // day_mins has sd 55; a 0.5σ shift is +27.5 minutes.
      day_mins: 180 + 55 * z() + 55 * (opts.dayMinsShift ?? 0),
      state,
      intl_plan: rand() < 0.1 ? 'yes' : 'no',
    });
  }
  return out;
}

const NOW = Date.UTC(2026, 10, 24, 9, 5);
const WINDOW = { startMs: Date.UTC(2026, 10, 24, 8), endMs: Date.UTC(2026, 10, 24, 9) };

function check(input: Partial<CheckDriftInput> & Pick<CheckDriftInput, 'recent'>) {
  const result = checkDrift({
    baseline: rows(1, 2_000),
    features: FEATURES,
    endpoint: 'churn-xgb-prod',
    team: 'growth-ml',
    window: WINDOW,
    nowMs: NOW,
    ...input,
  });
  for (const f of result.findings) expect(findingSchema.parse(f)).toEqual(f);
  return result;
}

/** Drifted features of the (single) endpoint finding, worst first, from its evidence keys. */
const driftedFeatures = (findings: Finding[]) => {
  const drift = findings.filter((f) => f.kind === 'model.drift.data_quality');
  expect(drift.length).toBeLessThanOrEqual(1);
  return Object.keys(drift[0]?.evidence.values ?? {})
    .filter((k) => k.endsWith('.n_recent'))
    .map((k) => k.slice(0, -'.n_recent'.length));
};

describe('checkDrift', () => {
  it.each([
    { name: 'no shift', recent: () => rows(2, 2_000), drifted: [] },
    {
      name: 'a 0.5σ mean shift of day_mins',
      recent: () => rows(3, 2_000, { dayMinsShift: 0.5 }),
      drifted: ['day_mins'],
    },
    {
      name: 'a state mix change',
      recent: () => rows(4, 2_000, { stateMix: { CA: 0.15, NY: 0.3, TX: 0.2, WA: 0.35 } }),
      drifted: ['state'],
    },
    {
      name: 'a state never seen in the baseline (8 % NV)',
      recent: () => rows(5, 2_000, { stateMix: { CA: 0.32, NY: 0.3, TX: 0.2, WA: 0.1, NV: 0.08 } }),
      drifted: ['state'],
    },
  ])('$name → drift in $drifted', ({ recent, drifted }) => {
    const { findings } = check({ recent: recent() });
    expect(driftedFeatures(findings)).toEqual(drifted);
  });

  it('a drift finding carries, per drifted feature, PSI, KS, p and both sample sizes, and the thresholds', () => {
    const { findings, features } = check({ recent: rows(3, 2_000, { dayMinsShift: 0.5 }) });
    const [f] = findings;
    const dayMins = features.find((r) => r.feature === 'day_mins');
    expect(dayMins?.verdict).toBe('drift');
    expect(findings).toHaveLength(1);
    expect(f).toMatchObject({
      kind: 'model.drift.data_quality',
      severity: 'ticket',
      cause: 'model',
      labels: { endpoint: 'churn-xgb-prod', team: 'growth-ml' },
      runbook: 'docs/runbooks/model.drift.data_quality.md',
      detectedAt: NOW,
      evidence: { window: WINDOW },
    });
    expect(f?.labels.feature).toBeUndefined();
    const values = f?.evidence.values ?? {};
    expect(Object.keys(values).sort()).toEqual([
      'day_mins.ks',
      'day_mins.n_baseline',
      'day_mins.n_recent',
      'day_mins.p',
      'day_mins.psi',
      'features_checked',
      'features_drifted',
      'ks_p_value_threshold',
      'ks_statistic_min',
      'psi_threshold',
    ]);
    expect(values).toMatchObject({
      'day_mins.n_baseline': 2_000,
      'day_mins.n_recent': 2_000,
      features_checked: 4,
      features_drifted: 1,
      psi_threshold: 0.2,
      ks_p_value_threshold: 0.01,
      ks_statistic_min: 0.1,
    });
    expect(values['day_mins.ks']).toBeGreaterThan(0.15);
    expect(values['day_mins.p']).toBeLessThan(0.01);
    expect(f?.title).toMatch(
      /^1 of 4 features drifted on endpoint churn-xgb-prod: day_mins \(KS D 0\.\d+\)$/,
    );
    expect(f?.evidence.detail).toContain('baseline_drift_check');
    expect(f?.evidence.detail).toContain('day_mins: numeric, KS D=');
  });

  it('several drifted features are ONE finding for the endpoint, listed worst first', () => {
    const recent = rows(7, 2_000, {
      dayMinsShift: 0.5,
      stateMix: { CA: 0.05, NY: 0.15, TX: 0.2, WA: 0.6 },
    });
    const { findings, features } = check({ recent });
    expect(features.filter((r) => r.verdict === 'drift').map((r) => r.feature)).toEqual([
      'day_mins',
      'state',
    ]);
    const drift = findings.filter((f) => f.kind === 'model.drift.data_quality');
    expect(drift).toHaveLength(1);
    const state = features.find((r) => r.feature === 'state');
    const dayMins = features.find((r) => r.feature === 'day_mins');
    // state: PSI far beyond 0.2; day_mins: KS D ≈ 0.2 against a floor of 0.1, PSI under 0.2.
    const stateScore = (state?.psi ?? 0) / 0.2;
    const dayScore = Math.max(
      (dayMins?.ks ?? 0) / 0.1,
      (dayMins?.psi ?? 0) > 0.2 ? (dayMins?.psi ?? 0) / 0.2 : 0,
    );
    const worstFirst = stateScore > dayScore ? ['state', 'day_mins'] : ['day_mins', 'state'];
    expect(driftedFeatures(findings)).toEqual(worstFirst);
    expect(drift[0]?.title).toMatch(
      new RegExp(
        `^2 of 4 features drifted on endpoint churn-xgb-prod: ${worstFirst[0]} \\(.+\\), ${worstFirst[1]} \\(`,
      ),
    );
    expect(drift[0]?.evidence.values?.['features_drifted']).toBe(2);
  });

  it('thresholds are configurable: a loose PSI limit lets the mix change pass', () => {
    const recent = rows(4, 2_000, { stateMix: { CA: 0.15, NY: 0.3, TX: 0.2, WA: 0.35 } });
    expect(driftedFeatures(check({ recent, thresholds: { psi: 5 } }).findings)).toEqual([]);
  });

  it('KS alone flags the 0.5σ shift (PSI limit out of reach), and its D floor can silence it', () => {
    const recent = rows(3, 2_000, { dayMinsShift: 0.5 });
    expect(driftedFeatures(check({ recent, thresholds: { psi: 5 } }).findings)).toEqual(['day_mins']);
    // D ≈ 0.2 here: an effect-size floor above it leaves only the (unreachable) PSI test.
    expect(driftedFeatures(check({ recent, thresholds: { psi: 5, ksStatisticMin: 0.3 } }).findings)).toEqual(
      [],
    );
  });

  it('too few recent samples → one info finding, no verdicts', () => {
    const { findings, features } = check({ recent: rows(6, 40), thresholds: { minSamples: 100 } });
    expect(features.map((f) => f.verdict)).toEqual([
      'insufficient',
      'insufficient',
      'insufficient',
      'insufficient',
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: 'model.drift.insufficient_data',
      severity: 'info',
      evidence: { values: { min_samples: 100, features: 4 } },
    });
    expect(findings[0]?.evidence.detail).toContain(
      'account_length: n baseline 2000, n recent 40 (need 100 each)',
    );
  });

  it('missing values count towards neither side', () => {
    const recent = rows(2, 150).map((r, i) => (i < 100 ? { ...r, intl_plan: null } : r));
    const { features } = check({ recent });
    expect(features.find((f) => f.feature === 'intl_plan')).toMatchObject({
      nRecent: 50,
      verdict: 'insufficient',
    });
    expect(features.find((f) => f.feature === 'state')).toMatchObject({ nRecent: 150 });
  });

  it('bad capture lines become one info finding with their line numbers', () => {
    const parsed = parseDataCapture(jsonl, FEATURES, { file: 'a.jsonl' });
    const { findings } = check({ recent: rows(2, 2_000), badLines: parsed.bad });
    expect(findings.map((f) => f.kind)).toEqual(['model.drift.capture_invalid']);
    expect(findings[0]?.evidence.values).toEqual({ bad_lines: 3, rows: 2_000 });
    expect(findings[0]?.evidence.detail).toBe(
      `a.jsonl:6: expected 4 values, got 3; a.jsonl:7: not JSON; a.jsonl:8: feature 'account_length' is not a number: "abc"`,
    );
  });
});
