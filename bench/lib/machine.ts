import { cpus, loadavg, totalmem } from 'node:os';

/** The machine a benchmark ran on, recorded next to its figures. */
export function machine(): {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  loadAverage: number[];
} {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
  };
}
