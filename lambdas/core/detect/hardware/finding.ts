import {
  type Cause,
  FINDING_SCHEMA_VERSION,
  type Finding,
  type FindingLabels,
  type Severity,
} from '../../../contracts/finding';
import type { GpuLabels } from '../../model';

export interface HardwareFindingSpec {
  readonly kind: string;
  readonly severity: Severity;
  readonly cause: Cause;
  readonly title: string;
  readonly summary: string;
  readonly labels: GpuLabels | FindingLabelsSource;
  readonly window: { readonly startMs: number; readonly endMs: number };
  readonly values: Readonly<Record<string, number>>;
  readonly detail?: string;
}

type FindingLabelsSource = Pick<GpuLabels, 'cluster' | 'region' | 'node' | 'gpu' | 'job' | 'team'>;

export function findingLabels(l: FindingLabelsSource): FindingLabels {
  const out: Record<string, string> = {};
  // Empty strings would fail the finding schema; an absent label says the same thing.
  for (const k of ['cluster', 'region', 'node', 'gpu', 'job', 'team'] as const) {
    const v = l[k];
    if (v !== undefined && v !== '') out[k] = v.slice(0, 256);
  }
  return out;
}

export function hardwareFinding(spec: HardwareFindingSpec, nowMs: number): Finding {
  const values = Object.fromEntries(
    Object.entries(spec.values).map(([k, v]) => [k, Math.round(v * 100) / 100] as const),
  );
  return {
    schemaVersion: FINDING_SCHEMA_VERSION,
    kind: spec.kind,
    severity: spec.severity,
    cause: spec.cause,
    title: spec.title.length > 200 ? `${spec.title.slice(0, 199)}…` : spec.title,
    summary: spec.summary.slice(0, 4_000),
    labels: findingLabels(spec.labels),
    evidence: {
      values,
      window: { startMs: spec.window.startMs, endMs: Math.max(spec.window.startMs, spec.window.endMs) },
      ...(spec.detail !== undefined ? { detail: spec.detail.slice(0, 4_000) } : {}),
    },
    runbook: `docs/runbooks/${spec.kind}.md`,
    detectedAt: nowMs,
  };
}
