import { readFile } from 'node:fs/promises';
import { type CliIo, DETECT_USAGE, runDetect } from './detect';
import { INCIDENTS_USAGE, runIncidents } from './incidents';
import { MAINTENANCE_USAGE, runMaintenance } from './maintenance';
import { REMEDIATION_USAGE, runRemediation } from './remediation';
import { runSilence, SILENCE_USAGE } from './silence';
import { runSimulate, SIMULATE_USAGE } from './simulate';

/**
 * `fleetwatch <command> ...`: the offline CLI. Each subcommand is one row of COMMANDS, so adding
 * one (silence, incidents, simulate) touches nothing else here.
 */

interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  detect: {
    summary: 'find anomalies in a timestamp,value CSV (one metric series)',
    usage: DETECT_USAGE,
    run: runDetect,
  },
  simulate: {
    summary: 'run a scenario file through the real pipeline on a virtual clock (npm run demo)',
    usage: SIMULATE_USAGE,
    run: runSimulate,
  },
  silence: {
    summary: 'add, list or expire silences (mute matching alerts for a while)',
    usage: SILENCE_USAGE,
    run: (args, io) => runSilence(args, io),
  },
  maintenance: {
    summary: 'add or list maintenance windows (one-off, cron or RRULE in a time zone)',
    usage: MAINTENANCE_USAGE,
    run: (args, io) => runMaintenance(args, io),
  },
  incidents: {
    summary: 'list, acknowledge or resolve incidents',
    usage: INCIDENTS_USAGE,
    run: (args, io) => runIncidents(args, io),
  },
  remediation: {
    summary: 'approve or deny a remediation waiting for approval',
    usage: REMEDIATION_USAGE,
    run: (args, io) => runRemediation(args, io),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: fleetwatch <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "fleetwatch <command> --help" for the options of a command.`;
}

const processIo: CliIo = {
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (text) => {
    process.stderr.write(text);
  },
  readFile: (path) => readFile(path, 'utf8'),
};

/** Runs the CLI; returns the exit status (0 ok, 2 usage or input error, 1 unexpected failure). */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`fleetwatch: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    io.stderr(`fleetwatch ${name}: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
