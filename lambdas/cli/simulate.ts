import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadScenario } from '../sim/index';
import {
  type DeliveredNotification,
  reportOf,
  runSimulation,
  SIMULATION_BACKENDS,
  type SimulationBackend,
  summaryOf,
} from '../wiring/simulation';
import type { CliIo } from './detect';

/**
 * `fleetwatch simulate --scenario <file> [--backend memory|moto] [--json <out.json>] [--report <dir>]`:
 * runs a scenario through the real use cases on a virtual clock (lambdas/wiring/simulation.ts),
 * prints each notification as it is delivered, and writes the JSON summary and the HTML report.
 * Exit status: 0 ran, 2 usage error or invalid scenario (its validation errors on stderr).
 */

export const SIMULATE_USAGE = `Usage: fleetwatch simulate --scenario <file> [--backend memory|moto] [--json <out.json>] [--report <dir>]

Runs a scenario file (YAML or JSON, see docs/scenarios.md) through collection, detection and the
incident router on a virtual clock, and prints every notification as it is delivered:
  <virtual time>  <severity>  <event>  <subject>

  --scenario <file>   the scenario to run (required)
  --backend <name>    memory (in-memory stores and queues; the default) or moto (real DynamoDB,
                      SQS and SNS calls to a moto_server the run starts and stops; needs moto_server on PATH)
  --json <file>       write the run summary (faults, latency, false and duplicate notifications, API calls)
  --report <dir>      write <dir>/index.html, a self-contained report with charts
`;

export interface SimulateIo extends CliIo {
  /** Writes a file, creating its directory. @default node:fs */
  writeFile?(path: string, text: string): Promise<void>;
}

function isBackend(name: string): name is SimulationBackend {
  return (SIMULATION_BACKENDS as readonly string[]).includes(name);
}

async function writeWithDirs(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text, 'utf8');
}

export function formatDelivery(n: DeliveredNotification): string {
  const at = new Date(n.atMs).toISOString().replace('.000Z', 'Z');
  return `${at}  ${n.severity.padEnd(6)}  ${n.event.padEnd(8)}  ${n.subject}\n`;
}

export async function runSimulate(args: string[], io: SimulateIo): Promise<number> {
  let values: { scenario?: string; backend?: string; json?: string; report?: string; help?: boolean };
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' },
        backend: { type: 'string', default: 'memory' },
        json: { type: 'string' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (e) {
    io.stderr(`fleetwatch simulate: ${(e as Error).message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(SIMULATE_USAGE);
    return 0;
  }
  if (values.scenario === undefined) {
    io.stderr(`fleetwatch simulate: --scenario <file> is required\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  const backend = values.backend ?? 'memory';
  if (!isBackend(backend)) {
    io.stderr(
      `fleetwatch simulate: --backend must be one of ${SIMULATION_BACKENDS.join(', ')}, got "${backend}"\n`,
    );
    return 2;
  }
  let text: string;
  try {
    text = await io.readFile(values.scenario);
  } catch (e) {
    io.stderr(`fleetwatch simulate: cannot read scenario ${values.scenario}: ${(e as Error).message}\n`);
    return 2;
  }
  const loaded = loadScenario(text, values.scenario);
  if (!loaded.ok) {
    io.stderr(
      `fleetwatch simulate: invalid scenario ${values.scenario}:\n${loaded.errors.map((e) => `  - ${e}`).join('\n')}\n`,
    );
    return 2;
  }
  const scenario = loaded.scenario;
  io.stdout(
    `Simulating ${scenario.name}: ${new Date(scenario.startMs).toISOString()} + ${Math.round(scenario.durationMs / 60_000)} min, backend ${backend}\n`,
  );
  const result = await runSimulation(scenario, {
    backend,
    onNotification: (n) => io.stdout(formatDelivery(n)),
  });
  const summary = summaryOf(result);
  const detected = summary.faults.filter((f) => f.detected).length;
  io.stdout(
    `Done in ${summary.runtimeSeconds} s: ${detected}/${summary.faults.length} faults detected, ` +
      `${summary.falseNotifications.length} false notifications, ${summary.notificationsDuringMaintenance.length} during maintenance, ` +
      `${summary.duplicateNotifications} duplicates\n`,
  );
  const write = io.writeFile ?? writeWithDirs;
  if (values.json !== undefined) {
    await write(values.json, `${JSON.stringify(summary, null, 2)}\n`);
    io.stdout(`Summary: ${values.json}\n`);
  }
  if (values.report !== undefined) {
    const path = join(values.report, 'index.html');
    await write(path, reportOf(result, summary));
    io.stdout(`Report: ${path}\n`);
  }
  return 0;
}
