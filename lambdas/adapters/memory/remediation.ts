import type { Workflow } from '../../contracts/incidents-config';
import type { RemediationStarter } from '../../core/ports';

/** In-memory RemediationStarter: one execution per name, like Step Functions Standard. */
export class RecordingRemediationStarter implements RemediationStarter {
  readonly executions = new Map<string, { workflow: Workflow; input: Readonly<Record<string, unknown>> }>();

  async start(
    workflow: Workflow,
    executionName: string,
    input: Readonly<Record<string, unknown>>,
  ): Promise<{ executionId: string }> {
    if (!this.executions.has(executionName))
      this.executions.set(executionName, { workflow, input: structuredClone(input) });
    return { executionId: `arn:aws:states:us-east-1:000000000000:execution:${workflow}:${executionName}` };
  }
}
