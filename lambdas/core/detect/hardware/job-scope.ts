import type { Finding } from '../../../contracts/finding';
import type { GpuSample } from '../../model';
import { findingLabels } from './finding';

/**
 * Interconnect findings of a multi-node job, scoped to the job (issue 5, network_degradation).
 *
 * NVLink/fabric errors on the nodes one distributed job holds are one fault as far as anyone on
 * call is concerned: the job's collectives stall on the interconnect. Reported per node they made
 * one incident per node (two notifications for one fault), and grouping cannot merge them (it
 * needs `groupNodesPerCluster` nodes, and would then speak for the whole cluster). So when the
 * samples say which job held the node (the job label, or placement via samplesByJob), the run's
 * findings of one kind on that job's nodes become ONE finding labelled with the job
 * ({ cluster, region, job, team }; no node, no GPU), naming the nodes and GPUs in its evidence.
 *
 * Findings on a node no job holds, or on a single-node job, stay as they are (node grouping
 * already makes one incident of them). Kinds in scope: `gpu.nvlink.*` only; an ECC or Xid fault is
 * the GPU's own and must keep pointing at the node to drain.
 */
export const JOB_SCOPED_KINDS = /^gpu\.nvlink\./;

export function scopeInterconnectToJobs(
  findings: readonly Finding[],
  byJob: ReadonlyMap<string, readonly GpuSample[]>,
): Finding[] {
  // node (cluster|region|node) → the one multi-node job holding it; ambiguous nodes are left out.
  const holder = new Map<string, { job: string; team: string | undefined } | null>();
  for (const [job, samples] of byJob) {
    const nodes = new Set(samples.map((s) => nodeKey(s.labels)));
    if (nodes.size < 2) continue;
    const team = samples.find((s) => s.labels.team !== undefined)?.labels.team;
    for (const n of nodes) holder.set(n, holder.has(n) && holder.get(n)?.job !== job ? null : { job, team });
  }

  const jobOf = (f: Finding) => {
    const { cluster, region, node } = f.labels;
    if (!JOB_SCOPED_KINDS.test(f.kind) || cluster === undefined || region === undefined || node === undefined)
      return undefined;
    return holder.get(nodeKey({ cluster, region, node })) ?? undefined;
  };
  const groupKey = (f: Finding, job: string) => `${f.kind}|${f.labels.cluster}|${f.labels.region}|${job}`;
  const parts = new Map<string, Finding[]>();
  for (const f of findings) {
    const held = jobOf(f);
    if (held !== undefined)
      parts.set(groupKey(f, held.job), [...(parts.get(groupKey(f, held.job)) ?? []), f]);
  }
  // One finding per job and kind, in the place of its first part.
  const out: Finding[] = [];
  const emitted = new Set<string>();
  for (const f of findings) {
    const held = jobOf(f);
    if (held === undefined) {
      out.push(f);
      continue;
    }
    const key = groupKey(f, held.job);
    if (emitted.has(key)) continue;
    emitted.add(key);
    out.push(jobFinding(parts.get(key) ?? [f], held.job, held.team));
  }
  return out;
}

function jobFinding(parts: readonly Finding[], job: string, team: string | undefined): Finding {
  const first = parts[0];
  if (first === undefined) throw new Error('jobFinding: no parts (internal)');
  const where = parts
    .map((p) => `${p.labels.node ?? '?'}${p.labels.gpu !== undefined ? ` GPU ${p.labels.gpu}` : ''}`)
    .sort();
  const nodes = [...new Set(parts.map((p) => p.labels.node ?? '?'))].sort();
  const values: Record<string, number> = {};
  for (const p of parts)
    for (const [k, v] of Object.entries(p.evidence.values ?? {})) values[k] = Math.max(values[k] ?? v, v);
  values['nodes'] = nodes.length;
  values['gpus'] = parts.length;
  const startMs = Math.min(...parts.map((p) => p.evidence.window.startMs));
  const endMs = Math.max(...parts.map((p) => p.evidence.window.endMs));
  const severity = parts.some((p) => p.severity === 'page')
    ? 'page'
    : parts.some((p) => p.severity === 'ticket')
      ? 'ticket'
      : 'info';
  const title = `Job ${job}: ${first.kind} on ${nodes.length} of its nodes (${nodes.join(', ')})`;
  return {
    ...first,
    severity,
    title: title.length > 200 ? `${title.slice(0, 199)}…` : title,
    summary:
      `${first.summary ?? first.title} The same fault shows on ${nodes.length} nodes held by the distributed job ${job} (${where.join('; ')}): one interconnect problem of the job, reported once. Check the fabric and NVLink of these nodes; the job runs at the pace of its slowest link.`.slice(
        0,
        4_000,
      ),
    labels: findingLabels({
      cluster: first.labels.cluster ?? '',
      region: first.labels.region ?? '',
      node: '',
      gpu: '',
      job,
      ...(team !== undefined ? { team } : {}),
    }),
    evidence: {
      values,
      window: { startMs, endMs },
      detail: `job-scoped: ${where.join('; ')}`.slice(0, 4_000),
    },
  };
}

function nodeKey(l: { readonly cluster: string; readonly region: string; readonly node: string }): string {
  return `${l.cluster}|${l.region}|${l.node}`;
}
