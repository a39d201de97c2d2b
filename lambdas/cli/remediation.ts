import { APPROVAL_DENIED_ERROR } from '../contracts/notifications-config';
import type { CliIo } from './detect';
import { incidentFingerprint } from './incidents';
import {
  actorOf,
  isoInstant,
  type OperatorContext,
  resolveTarget,
  TARGET_HELP,
  TARGET_OPTIONS,
  UsageError,
} from './operator';
import { onePositional, runCommand, type SubcommandInput } from './options';

/**
 * `fleetwatch remediation approve|deny <incidentId>`: settles the approval a remediation workflow
 * is waiting for. The workflow's approval step stored a Step Functions task token on the incident
 * item (docs/adr/0008); approving sends SendTaskSuccess with it, denying SendTaskFailure with
 * error FleetWatch.Denied. The workflow then records the outcome on the incident and removes the
 * token. Who may do this is decided by IAM (GetItem on the table, states:SendTask*).
 */

export const REMEDIATION_USAGE = `Usage:
  fleetwatch remediation approve <incidentId> [--note "..."] [--actor <name>]
  fleetwatch remediation deny <incidentId> --reason "..." [--actor <name>]

  --note     recorded with the approval in the incident's remediation audit
  --reason   why not (required for deny)
  --actor    who decides (default: $USER)
${TARGET_HELP}

Exit status: 0 ok, 2 bad input or nothing waiting for approval, 1 unexpected failure.`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  note: { type: 'string' },
  reason: { type: 'string' },
  actor: { type: 'string' },
} as const;

/** Step Functions answers these when the token is no longer waiting (settled, timed out, gone). */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export function runRemediation(args: string[], io: CliIo, given?: OperatorContext): Promise<number> {
  return runCommand(
    {
      name: 'remediation',
      usage: REMEDIATION_USAGE,
      options: OPTIONS,
      subcommands: { approve: (input) => decide('approve', input), deny: (input) => decide('deny', input) },
    },
    args,
    io,
    given,
  );
}

async function decide(
  sub: 'approve' | 'deny',
  { values, positionals, ctx }: SubcommandInput<typeof OPTIONS>,
): Promise<number> {
  const id = onePositional(sub, positionals, '<incidentId>');
  incidentFingerprint(id); // a malformed id is a usage error before any AWS call
  const reason = values.reason?.trim() ?? '';
  if (sub === 'deny' && reason === '')
    throw new UsageError('--reason: required to deny (it goes into the audit)');
  if (sub === 'approve' && values.reason !== undefined) {
    throw new UsageError('--reason: only for deny; use --note to annotate an approval');
  }
  const actor = actorOf(values.actor, ctx, '--actor');
  const target = resolveTarget(values, ctx);
  const { approvals } = ctx.makeDeps(target);

  const state = await approvals.pending(id);
  if (state === undefined) throw new UsageError(`${sub} ${id}: no such incident in table ${target.table}`);
  if (state.approval === undefined) {
    throw new UsageError(
      `${sub} ${id}: no remediation is waiting for approval (remediation status: ${state.status ?? 'none'})`,
    );
  }
  const { taskToken, workflow } = state.approval;
  const at = isoInstant(ctx.nowMs());
  try {
    if (sub === 'approve') {
      await approvals.approve(taskToken, {
        approvedBy: actor,
        at,
        ...(values.note?.trim() ? { note: values.note.trim() } : {}),
      });
    } else {
      await approvals.deny(taskToken, APPROVAL_DENIED_ERROR, JSON.stringify({ deniedBy: actor, at, reason }));
    }
  } catch (e) {
    const name = (e as Error).name;
    if (STALE_TOKEN_ERRORS.has(name)) {
      throw new UsageError(
        `${sub} ${id}: the approval is no longer waiting (${name}): it timed out or was already settled`,
      );
    }
    throw e;
  }
  const what = workflow ? `${workflow} for incident ${id}` : `remediation of incident ${id}`;
  if (values.json)
    ctx.io.stdout(
      `${JSON.stringify({ id, workflow, decision: sub === 'approve' ? 'approved' : 'denied', by: actor, at })}\n`,
    );
  else ctx.io.stdout(`${sub === 'approve' ? 'Approved' : 'Denied'} ${what} (${actor}).\n`);
  return 0;
}
