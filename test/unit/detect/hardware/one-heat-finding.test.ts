import { describe, expect, it } from 'vitest';
import { kinds, minutes, runAll } from './fixtures';

/**
 * A hot GPU is throttled by design: one thermal problem must be one finding, not a throttle ticket
 * and a temperature ticket (the demo's duplicate notification for its thermal fault). Windows of
 * 5 minutes, as the collector runs; p5.48xlarge (H100) slows down at 87 °C.
 */

const HOT = 91;
/** Minute i of a window starting at `from`: hot from minute `hotFrom`, throttled from `throttleFrom`. */
const heat =
  (from: number, hotFrom: number, throttleFrom: number, coolFrom = Number.POSITIVE_INFINITY) =>
  (i: number) => {
    const m = from + i;
    const hot = m >= hotFrom && m < coolFrom;
    return {
      temperature: hot ? HOT : 70,
      clock_events: m >= throttleFrom && m < coolFrom ? 0x40 : 0,
    };
  };

describe('detectHardware: one finding per heat episode', () => {
  it('hot and throttled from the same minute: one throttle finding, carrying the temperature', () => {
    const w = (from: number) => minutes(1, from, 5, heat(from, 3, 3));
    const { perRun } = runAll([{ samples: w(0) }, { samples: w(5) }, { samples: w(10) }]);
    expect(perRun.map(kinds)).toEqual([[], ['gpu.throttle.thermal'], []]);
    const f = perRun[1]?.[0];
    expect(f?.evidence.values).toMatchObject({ minutes: 7, limitC: 87, maxTempC: HOT });
    expect(f?.summary).toContain('87 °C slowdown temperature');
  });

  it('the temperature reaches its 3 min first: it waits for the throttle (5 min) and is folded in', () => {
    const w = (from: number) => minutes(1, from, 5, heat(from, 1, 2));
    const { perRun } = runAll([{ samples: w(0) }, { samples: w(5) }, { samples: w(10) }]);
    expect(perRun.map(kinds)).toEqual([[], ['gpu.throttle.thermal'], []]);
    expect(perRun[1]?.[0]?.evidence.values?.maxTempC).toBe(HOT);
  });

  it('a throttle that stops short of 5 min does not swallow the heat: the temperature is reported', () => {
    // Hot from minute 1 on; throttled only in minutes 2-4.
    const w = (from: number) =>
      minutes(1, from, 5, (i) => ({
        temperature: from + i >= 1 ? HOT : 70,
        clock_events: from + i >= 2 && from + i < 5 ? 0x40 : 0,
      }));
    const { perRun } = runAll([{ samples: w(0) }, { samples: w(5) }, { samples: w(10) }]);
    expect(perRun.map(kinds)).toEqual([[], ['gpu.temperature.over_limit'], []]);
    expect(perRun[1]?.[0]?.evidence.values?.minutes).toBe(9);
  });

  it('hot and reported before any throttling: a later throttle of the same heat is not a second ticket', () => {
    const w = (from: number) => minutes(1, from, 5, heat(from, 0, 6));
    const { perRun } = runAll([{ samples: w(0) }, { samples: w(5) }, { samples: w(10) }, { samples: w(15) }]);
    expect(perRun.map(kinds)).toEqual([['gpu.temperature.over_limit'], [], [], []]);
  });

  it('throttled without being over the limit: the throttle alone, without temperature evidence', () => {
    const w = (from: number) =>
      minutes(1, from, 5, (i) => ({ temperature: 80, clock_events: from + i >= 1 ? 0x20 : 0 }));
    const { perRun } = runAll([{ samples: w(0) }, { samples: w(5) }]);
    expect(perRun.map(kinds)).toEqual([[], ['gpu.throttle.thermal']]);
    expect(perRun[1]?.[0]?.evidence.values?.maxTempC).toBeUndefined();
  });

  it('a new heat episode after cooling down is reported again', () => {
    const w = (from: number) =>
      minutes(1, from, 5, (i) => {
        const m = from + i;
        const hot = m < 10 || m >= 20;
        return { temperature: hot ? HOT : 70, clock_events: hot ? 0x40 : 0 };
      });
    const { perRun } = runAll([0, 5, 10, 15, 20, 25].map((from) => ({ samples: w(from) })));
    expect(perRun.map(kinds)).toEqual([['gpu.throttle.thermal'], [], [], [], ['gpu.throttle.thermal'], []]);
  });
});
