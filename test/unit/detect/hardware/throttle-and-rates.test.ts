import { describe, expect, it } from 'vitest';
import { decodeClockEvents } from '../../../../lambdas/core/detect/hardware';
import { kinds, min, minutes, runAll } from './fixtures';

describe('detectHardware: throttling by clock event reasons', () => {
  // One 10-minute window; `mask` per minute.
  it.each([
    {
      name: 'hw_thermal (0x40) for 7 min',
      masks: [0, 0, 0, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40],
      kind: 'gpu.throttle.thermal',
      minutes: 7,
    },
    {
      name: 'sw_thermal (0x20) for the whole window',
      masks: Array(10).fill(0x20),
      kind: 'gpu.throttle.thermal',
      minutes: 10,
    },
    {
      name: 'sw power cap (0x4) for 6 min, then clear',
      masks: [0x4, 0x4, 0x4, 0x4, 0x4, 0x4, 0, 0, 0, 0],
      kind: 'gpu.throttle.power',
      minutes: 6,
    },
    {
      name: 'hw power brake (0x80) with idle bit',
      masks: Array(10).fill(0x81),
      kind: 'gpu.throttle.power',
      minutes: 10,
    },
    {
      name: 'hw_slowdown (0x8) for 5 min',
      masks: [0, 0, 0, 0, 0, 0x8, 0x8, 0x8, 0x8, 0x8],
      kind: 'gpu.throttle.hw_slowdown',
      minutes: 5,
    },
    {
      name: 'one missing minute does not end the run',
      masks: [0x40, 0x40, 0x40, undefined, 0x40, 0x40, 0, 0, 0, 0],
      kind: 'gpu.throttle.thermal',
      minutes: 6,
    },
  ])('tickets $name', ({ masks, kind, minutes: expectedMinutes }) => {
    const { perRun } = runAll([{ samples: minutes(4, 0, 10, (i) => ({ clock_events: masks[i] })) }]);
    expect(kinds(perRun[0] ?? [])).toEqual([kind]);
    const f = perRun[0]?.[0];
    if (!f) throw new Error('expected a finding');
    expect(f.severity).toBe('ticket');
    expect(f.cause).toBe('hardware');
    expect(f.evidence.values?.minutes).toBe(expectedMinutes);
    expect(f.evidence.window.endMs - f.evidence.window.startMs).toBe(expectedMinutes * 60_000);
    expect(f.title).toContain(`for ${expectedMinutes} min`);
  });

  it.each([
    { name: 'idle (0x1)', masks: Array(10).fill(0x1) },
    { name: 'application clocks setting (0x2)', masks: Array(10).fill(0x2) },
    { name: 'sync boost (0x10) and display clocks (0x100)', masks: Array(10).fill(0x110) },
    {
      name: 'thermal for 4 min, under the 5 min threshold',
      masks: [0, 0x40, 0x40, 0x40, 0x40, 0, 0, 0, 0, 0],
    },
    {
      name: 'two 3-minute thermal runs split by a clear minute',
      masks: [0x40, 0x40, 0x40, 0, 0x40, 0x40, 0x40, 0, 0, 0],
    },
  ])('stays quiet for $name', ({ masks }) => {
    const { perRun } = runAll([{ samples: minutes(4, 0, 10, (i) => ({ clock_events: masks[i] })) }]);
    expect(perRun[0]).toEqual([]);
  });

  it('counts a throttle that spans runs and reports it once, with its full duration and start', () => {
    const { perRun, state } = runAll([
      { samples: minutes(4, 0, 5, (i) => ({ clock_events: i >= 2 ? 0x40 : 0 })) }, // 3 min
      { samples: minutes(4, 5, 5, () => ({ clock_events: 0x40 })) }, // 8 min: report
      { samples: minutes(4, 10, 5, () => ({ clock_events: 0x40 })) }, // still going: quiet
    ]);
    expect(perRun.map(kinds)).toEqual([[], ['gpu.throttle.thermal'], []]);
    const f = perRun[1]?.[0];
    expect(f?.evidence.values?.minutes).toBe(8);
    expect(f?.evidence.window).toEqual({ startMs: min(2), endMs: min(10) });
    expect(Object.values(state.gpus)[0]?.episodes?.thermal).toEqual({ s: min(2), l: min(14), r: true });
  });

  it('decodes the reasons in the summary', () => {
    expect(decodeClockEvents(0x61)).toEqual(['gpu_idle', 'sw_thermal', 'hw_thermal']);
    const { perRun } = runAll([{ samples: minutes(4, 0, 6, () => ({ clock_events: 0x60 })) }]);
    expect(perRun[0]?.[0]?.summary).toContain('sw_thermal, hw_thermal');
  });
});

describe('detectHardware: temperature over the GPU model’s slowdown limit', () => {
  it.each([
    // p5 (H100) slows down at 87 °C, p4d (A100) at 85 °C.
    { name: 'H100 at 90 °C for 4 min', type: 'p5.48xlarge', temps: [80, 84, 88, 90, 90, 89], expected: 4 },
    { name: 'A100 at 86 °C for 3 min', type: 'p4d.24xlarge', temps: [83, 84, 86, 86, 86, 84], expected: 3 },
    {
      name: 'H100 at 86 °C (under 87)',
      type: 'p5.48xlarge',
      temps: [86, 86, 86, 86, 86, 86],
      expected: undefined,
    },
    {
      name: 'H100 at 90 °C for only 2 min',
      type: 'p5.48xlarge',
      temps: [80, 90, 90, 80, 90, 90],
      expected: undefined,
    },
    {
      name: 'an instance type not in the catalogue',
      type: 'x9.metal',
      temps: Array(6).fill(99),
      expected: undefined,
    },
  ])('$name', ({ type, temps, expected }) => {
    const samples = minutes(2, 0, 6, (i) => ({ temperature: temps[i] }), { instanceType: type });
    const [findings = []] = runAll([{ samples }]).perRun;
    if (expected === undefined) {
      expect(findings).toEqual([]);
      return;
    }
    expect(kinds(findings)).toEqual(['gpu.temperature.over_limit']);
    expect(findings[0]?.evidence.values).toMatchObject({ minutes: expected, maxTempC: Math.max(...temps) });
  });

  it('takes a per-instance-type limit from the options', () => {
    const samples = minutes(2, 0, 6, () => ({ temperature: 84 }), { instanceType: 'x9.metal' });
    const [findings = []] = runAll([{ samples }], { slowdownTempC: { 'x9.metal': 80 } }).perRun;
    expect(findings[0]?.evidence.values).toEqual({ limitC: 80, minutes: 6, maxTempC: 84 });
  });
});

describe('detectHardware: PCIe replay and NVLink error rates', () => {
  it.each([
    { name: 'PCIe replays at 20/min', signal: 'pcie_replay', perMin: 20, expected: ['gpu.pcie_replay.rate'] },
    { name: 'PCIe replays at 2/min', signal: 'pcie_replay', perMin: 2, expected: [] },
    {
      name: 'NVLink errors at 50/min',
      signal: 'nvlink_errors',
      perMin: 50,
      expected: ['gpu.nvlink.error_rate'],
    },
    { name: 'NVLink errors at 5/min', signal: 'nvlink_errors', perMin: 5, expected: [] },
  ] as const)('$name', ({ signal, perMin, expected }) => {
    const samples = minutes(1, 0, 6, (i) => ({ [signal]: 4_000 + i * perMin }));
    const [findings = []] = runAll([{ samples }]).perRun;
    expect(kinds(findings)).toEqual(expected);
    if (expected.length > 0) expect(findings[0]?.evidence.values?.perMinute).toBe(perMin);
  });

  it('NVLink errors are the communication fabric (cause network), PCIe replays the GPU host link (hardware)', () => {
    const nv = runAll([{ samples: minutes(1, 0, 6, (i) => ({ nvlink_errors: i * 50 })) }]).perRun[0] ?? [];
    const pcie = runAll([{ samples: minutes(1, 0, 6, (i) => ({ pcie_replay: i * 20 })) }]).perRun[0] ?? [];
    expect(nv.map((f) => [f.kind, f.cause])).toEqual([['gpu.nvlink.error_rate', 'network']]);
    expect(pcie.map((f) => [f.kind, f.cause])).toEqual([['gpu.pcie_replay.rate', 'hardware']]);
  });

  it('reports an elevated rate once per episode and not for a counter reset', () => {
    const ramp = (base: number, step: number) => (i: number) => ({ pcie_replay: base + i * step });
    const { perRun } = runAll([
      { samples: minutes(1, 0, 5, ramp(100, 30)) },
      { samples: minutes(1, 5, 5, ramp(300, 30)) },
      { samples: minutes(1, 10, 5, ramp(0, 1)) }, // counter reset by a GPU reset, then calm
      { samples: minutes(1, 15, 5, ramp(10, 40)) },
    ]);
    expect(perRun.map(kinds)).toEqual([['gpu.pcie_replay.rate'], [], [], ['gpu.pcie_replay.rate']]);
  });
});
