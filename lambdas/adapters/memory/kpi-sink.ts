import type { KpiKey, KpiValue } from '../../contracts/kpis';
import type { KpiSink } from '../../core/ports';

/** In-memory KpiSink: keeps every emitted value, for tests and the scenario report. */
export class InMemoryKpiSink implements KpiSink {
  readonly values: KpiValue[] = [];

  async emit(values: readonly KpiValue[]): Promise<void> {
    this.values.push(...values.map((v) => ({ ...v, dimensions: { ...v.dimensions } })));
  }

  /** The latest value of a KPI with exactly these dimensions, if any. */
  latest(key: KpiKey, dimensions: Readonly<Record<string, string>> = {}): number | undefined {
    const want = JSON.stringify(Object.entries(dimensions).sort());
    for (let i = this.values.length - 1; i >= 0; i--) {
      const v = this.values[i];
      if (v && v.key === key && JSON.stringify(Object.entries(v.dimensions).sort()) === want) return v.value;
    }
    return undefined;
  }
}
