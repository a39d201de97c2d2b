import type { OpsMetricKey } from '../../contracts/metrics';
import type { Log, OpsMetrics } from '../../core/ports';

/** In-memory Log and OpsMetrics: used by tests and the simulator's memory backend. */
export class RecordingOpsMetrics implements OpsMetrics {
  readonly entries: { metric: OpsMetricKey; value: number; dimensions: Readonly<Record<string, string>> }[] =
    [];

  count(metric: OpsMetricKey, value: number, dimensions: Readonly<Record<string, string>> = {}): void {
    this.entries.push({ metric, value, dimensions });
  }

  /** Sum of a metric, optionally only where every given dimension matches. */
  total(metric: OpsMetricKey, where: Readonly<Record<string, string>> = {}): number {
    return this.entries
      .filter((e) => e.metric === metric && Object.entries(where).every(([k, v]) => e.dimensions[k] === v))
      .reduce((sum, e) => sum + e.value, 0);
  }
}

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

export class RecordingLog implements Log {
  readonly lines: LogLine[] = [];
  debug(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'debug', message, attributes });
  }
  info(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', message, attributes });
  }
  error(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', message, attributes });
  }
  find(level: LogLine['level'], fragment: string): LogLine[] {
    return this.lines.filter((l) => l.level === level && l.message.includes(fragment));
  }
}
