import { describe, expect, it } from 'vitest';
import { DEFAULT_INHIBITION_RULES } from '../../../lambdas/contracts/calendar';
import { evaluate } from '../../../lambdas/core/incidents/pipeline';
import { inhibitionStage } from '../../../lambdas/core/incidents/stages/inhibition';
import type { ActiveIncident } from '../../../lambdas/core/incidents/stages/stage';
import { alert, ctx, T0 } from './fixtures';

/**
 * Issues 3/4: a stalled, hung or idle job stops checkpointing too. Its job.checkpoint_stale is a
 * symptom of the job incident already open: one job, one incident (the default rule
 * "job-stop-mutes-checkpoint-stale"), whatever the job incident's severity (a stalled batch job
 * is a ticket, like the checkpoint finding).
 */

const JOB = { cluster: 'train-b', region: 'us-east-1', job: 'nlp-dist-1', team: 'ml' };
const checkpoint = alert({
  kind: 'job.checkpoint_stale',
  severity: 'ticket',
  cause: 'data-io',
  labels: { ...JOB, node: 'i-7' },
});
const open = (kind: string, labels: Record<string, string> = JOB, severity: 'page' | 'ticket' = 'ticket') =>
  ({ ...alert({ kind, severity, cause: 'software', labels }), status: 'open' }) as ActiveIncident;

describe('default inhibition: a job stop mutes the stale checkpoint of the same job', () => {
  it('is a default rule', () => {
    expect(DEFAULT_INHIBITION_RULES.map((r) => r.name)).toContain('job-stop-mutes-checkpoint-stale');
  });

  for (const kind of ['job.progress_stalled', 'job.hung', 'job.gpus_idle']) {
    it(`an open ${kind} of the same job mutes job.checkpoint_stale`, () => {
      const source = open(kind);
      const v = inhibitionStage(checkpoint, ctx({}, T0, [source]));
      expect(v.muted).toBe(true);
      if (v.muted) {
        expect(v.reason).toContain(`(${kind}, cluster=train-b, job=nlp-dist-1)`);
        expect(v.reason).toContain('job-stop-mutes-checkpoint-stale');
      }
      // Through the whole pipeline as the router evaluates it.
      expect(evaluate(checkpoint, ctx({}, T0, [source])).muted).toBe(true);
    });
  }

  const notMuted: { name: string; active: ActiveIncident[] }[] = [
    { name: 'another job', active: [open('job.progress_stalled', { ...JOB, job: 'other' })] },
    { name: 'same job name on another cluster', active: [open('job.hung', { ...JOB, cluster: 'train-a' })] },
    {
      name: 'a pending stop (not yet an incident)',
      active: [{ ...open('job.gpus_idle'), status: 'pending' }],
    },
    { name: 'a slow job (not stopped: it still checkpoints, later)', active: [open('job.progress_slow')] },
    { name: 'no incident at all', active: [] },
  ];
  for (const c of notMuted) {
    it(`does not mute it for ${c.name}`, () => {
      expect(inhibitionStage(checkpoint, ctx({}, T0, c.active)).muted).toBe(false);
    });
  }

  it('does not mute the job stop itself when the checkpoint incident opened first', () => {
    const stall = alert({ kind: 'job.progress_stalled', severity: 'ticket', cause: 'software', labels: JOB });
    const ck = { ...checkpoint, status: 'open' } as ActiveIncident;
    expect(inhibitionStage(stall, ctx({}, T0, [ck])).muted).toBe(false);
  });
});
