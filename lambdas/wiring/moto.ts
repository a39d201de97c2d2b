import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Starts moto_server (a local AWS API emulator, see docs and local-aws notes) on a free loopback
 * port and stops it. Used by the vitest global setup (test/support/moto-server.ts re-exports it),
 * `npm run demo` and `fleetwatch simulate --backend moto`. Not part of any Lambda: only entry
 * points (the CLI, tests) start processes.
 */
export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export class MotoMissingError extends Error {
  constructor() {
    super(
      "moto_server was not found on PATH. FleetWatch's integration tests and demo run against it. " +
        "Install it with: pip install 'moto[server]==5.2.1'",
    );
  }
}

export function motoAvailable(): boolean {
  const r = spawnSync('moto_server', ['--help'], { stdio: 'ignore' });
  return r.status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('could not allocate a free port'));
      });
    });
  });
}

export async function startMoto(): Promise<MotoServer> {
  if (!motoAvailable()) throw new MotoMissingError();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      }),
  };
}

/** moto's internal state dump (written Timestream records, SNS notifications...). */
export async function motoState(endpoint: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${endpoint}/moto-api/data.json`);
  return (await res.json()) as Record<string, unknown>;
}
