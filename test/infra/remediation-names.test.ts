import { Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { STATE_MACHINE_IDS } from '../../infra/constructs/remediation';
import { ENV } from '../../lambdas/contracts/env';
import { WORKFLOWS } from '../../lambdas/contracts/incident';
import { DEFAULT_REMEDIATION_RULES } from '../../lambdas/contracts/incidents-config';
import {
  REMEDIATION_WORKFLOWS,
  STATE_MACHINE_ARN_ENV_OF_WORKFLOW,
  STATE_MACHINE_OF_WORKFLOW,
} from '../../lambdas/contracts/notifications-config';
import { exampleConfig, synthFleetWatch } from './support/synth';

/**
 * The router names workflows stop-job, quarantine-node, retrain (policies, incident audit); the
 * state machines are stop-training-job, quarantine-node, retrain-on-drift. One mapping
 * (STATE_MACHINE_OF_WORKFLOW) ties them; this checks it end to end in the synthesized stack:
 * policy workflow → state machine → ARN in the router's environment under the right variable.
 */
const config = exampleConfig();
const { stacks, home } = synthFleetWatch(config, { nag: false });
const stack = stacks.home;
const policyWorkflows = [
  ...new Set([...WORKFLOWS, ...config.incidents.remediation.rules.map((r) => r.workflow)]),
];

describe('remediation workflow names', () => {
  it('map every router workflow to a distinct, existing state machine workflow', () => {
    const targets = WORKFLOWS.map((w) => STATE_MACHINE_OF_WORKFLOW[w]);
    expect(new Set(targets).size).toBe(WORKFLOWS.length);
    for (const t of targets) expect(REMEDIATION_WORKFLOWS).toContain(t);
    for (const r of DEFAULT_REMEDIATION_RULES) expect(WORKFLOWS).toContain(r.workflow);
  });

  it.each(policyWorkflows)('policy workflow %s has its state machine in the stack', (workflow) => {
    const machine = stack.remediation.stateMachineFor(workflow);
    expect(machine, `no state machine for ${workflow}`).toBeDefined();
    expect(machine?.node.id).toBe(STATE_MACHINE_IDS[STATE_MACHINE_OF_WORKFLOW[workflow]]);
  });

  it.each(policyWorkflows)('the router gets the ARN of %s under its environment variable', (workflow) => {
    const machine = stack.remediation.stateMachineFor(workflow);
    const route = stack.incidentRouter.route.function;
    const routeId = Stack.of(route).getLogicalId(route.node.defaultChild as never);
    const fn = home.toJSON().Resources[routeId] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const variable = ENV[STATE_MACHINE_ARN_ENV_OF_WORKFLOW[workflow]];
    const machineId = Stack.of(route).getLogicalId(machine?.node.defaultChild as never);
    expect(fn.Properties.Environment.Variables[variable]).toEqual({ Ref: machineId });
  });
});
