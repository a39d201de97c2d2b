import type { KnownChange, MaintenanceWindow, Silence } from '../../contracts/calendar';
import type { CalendarStore, ChangeLog } from '../../core/ports';

/** In-memory CalendarStore (silences and run-time maintenance windows). */
export class InMemoryCalendarStore implements CalendarStore {
  private readonly silenceItems = new Map<string, Silence>();
  private readonly windows = new Map<string, MaintenanceWindow>();

  async silences(nowMs: number): Promise<Silence[]> {
    return [...this.silenceItems.values()]
      .filter((s) => Date.parse(s.end) > nowMs)
      .map((s) => structuredClone(s));
  }

  async maintenanceWindows(): Promise<MaintenanceWindow[]> {
    return [...this.windows.values()].map((w) => structuredClone(w));
  }

  async putSilence(silence: Silence): Promise<void> {
    this.silenceItems.set(silence.id, structuredClone(silence));
  }

  async expireSilence(id: string, nowMs: number): Promise<boolean> {
    const s = this.silenceItems.get(id);
    if (s === undefined) return false;
    this.silenceItems.set(id, {
      ...s,
      end: new Date(Math.max(nowMs, Date.parse(s.start) + 1)).toISOString(),
    });
    return true;
  }

  async putMaintenanceWindow(id: string, window: MaintenanceWindow): Promise<void> {
    this.windows.set(id, structuredClone(window));
  }
}

/** In-memory ChangeLog: changes appended by tests. */
export class InMemoryChangeLog implements ChangeLog {
  readonly changes: KnownChange[] = [];
  async changesSince(sinceMs: number): Promise<KnownChange[]> {
    return this.changes.filter((c) => Date.parse(c.at) >= sinceMs);
  }
}
