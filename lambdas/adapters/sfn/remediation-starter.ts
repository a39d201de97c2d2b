import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Workflow } from '../../contracts/incidents-config';
import { STATE_MACHINE_OF_WORKFLOW } from '../../contracts/notifications-config';
import type { RemediationStarter } from '../../core/ports';
import { errorName } from '../aws-retry';

/**
 * RemediationStarter on Step Functions (Standard): StartExecution with the router's execution
 * name (`<incident id>-<workflow>`), which Standard workflows keep unique for 90 days, so a
 * redelivered batch cannot start a second remediation. ExecutionAlreadyExists answers with the
 * ARN of the existing execution, derived (state machine ARN with `:stateMachine:` → `:execution:`
 * plus the name) rather than described, so the router needs no states:DescribeExecution on
 * `execution:<machine>:*`.
 *
 * The input is the router's (incidentId, fingerprint, kind, labels, approvalRequired, title)
 * plus what infra/constructs/remediation.ts reads: `table` and `key` (the incident item, in
 * attribute-value form, where each step appends its audit entry), `policy`, `summary`, and the
 * target: `instanceId` (the node label) for quarantine-node, `trainingJobName` (the job label)
 * for stop-job.
 */
export class SfnRemediationStarter implements RemediationStarter {
  constructor(
    private readonly sfn: SFNClient,
    /**
     * By router workflow (the ARN of STATE_MACHINE_OF_WORKFLOW[workflow], wired from the env var
     * STATE_MACHINE_ARN_ENV_OF_WORKFLOW[workflow]); retrain is absent without a retrain pipeline.
     */
    private readonly stateMachineArns: Readonly<Partial<Record<Workflow, string>>>,
    private readonly incidentsTable: string,
  ) {}

  async start(
    workflow: Workflow,
    executionName: string,
    input: Readonly<Record<string, unknown>>,
  ): Promise<{ executionId: string }> {
    const stateMachineArn = this.stateMachineArns[workflow];
    if (stateMachineArn === undefined) {
      throw new Error(
        `No state machine for remediation workflow "${workflow}" (${STATE_MACHINE_OF_WORKFLOW[workflow]}) in this stack (retrain needs notifications.remediation.retrainPipelineName)`,
      );
    }
    const name = executionNameOf(executionName);
    try {
      const res = await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name,
          input: JSON.stringify(executionInput(workflow, input, this.incidentsTable)),
        }),
      );
      if (res.executionArn === undefined) {
        throw new Error(`StartExecution of ${stateMachineArn} (${name}) returned no executionArn`);
      }
      return { executionId: res.executionArn };
    } catch (err) {
      if (errorName(err) !== 'ExecutionAlreadyExists') throw err;
      return { executionId: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}` };
    }
  }
}

/** Step Functions execution names: 1-80 characters of [A-Za-z0-9-_]. */
export function executionNameOf(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

export function executionInput(
  workflow: Workflow,
  input: Readonly<Record<string, unknown>>,
  table: string,
): Record<string, unknown> {
  const labels = (input.labels ?? {}) as Record<string, string | undefined>;
  const fingerprint = String(input.fingerprint ?? '');
  const target =
    workflow === 'quarantine-node'
      ? { instanceId: labels.node ?? '' }
      : workflow === 'stop-job'
        ? { trainingJobName: labels.job ?? '' }
        : {};
  return {
    ...input,
    table,
    key: { id: { S: fingerprint } },
    policy: input.approvalRequired === true ? 'approval' : 'automatic',
    summary: String(input.title ?? input.kind ?? ''),
    ...target,
  };
}
