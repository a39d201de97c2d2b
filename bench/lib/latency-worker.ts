/**
 * Child process of the latency and cadence benchmarks (bench/lib/pool.ts forks it with tsx): runs
 * one latency scenario per message and sends back its score through runSimulation (memory backend):
 * cadence null is the config's collection cadence (5 min), a number overrides it.
 */
import type { FaultKind } from '../../lambdas/sim/scenario';
import { runSimulation, summaryOf } from '../../lambdas/wiring/simulation';
import { latencyScenario } from './latency-scenarios';
import type { RunOutcome, RunTask } from './run-outcome';

async function run(task: RunTask): Promise<RunOutcome> {
  const scenario = latencyScenario(task.kind as FaultKind, task.seedIndex);
  const result = await runSimulation(scenario, {
    backend: 'memory',
    ...(task.cadenceMinutes === null ? {} : { cadenceMinutes: task.cadenceMinutes }),
  });
  const summary = summaryOf(result);
  const fault = summary.faults[0];
  if (fault === undefined) throw new Error(`${scenario.name}: the summary has no fault`);
  return {
    task,
    scenario: scenario.name,
    fault: {
      detected: fault.detected,
      latencySeconds: fault.latencySeconds,
      severity: fault.severity,
      cause: fault.cause,
      status: fault.status,
      expectedSeverity: fault.expectedSeverity,
      expectedCause: fault.expectedCause,
    },
    falseNotifications: summary.falseNotifications.length,
    duplicateNotifications: summary.duplicateNotifications,
    apiCalls: summary.apiCalls,
    runtimeSeconds: result.runtimeSeconds,
    ...(task.cadenceMinutes === null ? {} : { runs: result.runs }),
  };
}

process.on('message', (msg: { id: number; task: RunTask }) => {
  run(msg.task).then(
    (outcome) => process.send?.({ id: msg.id, outcome }),
    (e: unknown) =>
      process.send?.({ id: msg.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
