import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { RunOutcome, RunTask } from './run-outcome';

/**
 * Runs latency tasks in forked worker processes (each a tsx child running
 * bench/lib/latency-worker.ts), `workers` at a time. The simulator is single-threaded CPU work,
 * so processes, not async, are what make N seeds finish sooner. A task that throws fails the
 * whole benchmark with the worker's stack: a crashed run is never reported as "not detected".
 */
export async function runPool(
  tasks: readonly RunTask[],
  options: { workers?: number; onDone?: (done: number, total: number, o: RunOutcome) => void } = {},
): Promise<RunOutcome[]> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), tasks.length));
  const results: RunOutcome[] = new Array(tasks.length);
  let next = 0;
  let done = 0;
  const children: ChildProcess[] = [];
  const workerPath = new URL('./latency-worker.ts', import.meta.url).pathname;
  try {
    await Promise.all(
      Array.from({ length: workers }, async () => {
        const child = fork(workerPath, [], {
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        children.push(child);
        for (;;) {
          const id = next++;
          const task = tasks[id];
          if (task === undefined) break;
          const outcome = await new Promise<RunOutcome>((resolve, reject) => {
            const onExit = (code: number | null) =>
              reject(new Error(`latency worker exited (code ${code}) during ${JSON.stringify(task)}`));
            child.once('exit', onExit);
            child.once('message', (msg: { id: number; outcome?: RunOutcome; error?: string }) => {
              child.off('exit', onExit);
              if (msg.outcome !== undefined) resolve(msg.outcome);
              else
                reject(new Error(`latency run ${JSON.stringify(task)} failed: ${msg.error ?? 'no detail'}`));
            });
            child.send({ id, task });
          });
          results[id] = outcome;
          done++;
          options.onDone?.(done, tasks.length, outcome);
        }
        child.disconnect();
      }),
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.connected) c.kill();
  }
  return results;
}
