import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectHardware } from '../../../lambdas/core/detect/hardware';
import { hardwareStateSchema } from '../../../lambdas/core/detect/hardware/state';
import { kinds, min, minutes, NODE, node, runAll } from './hardware/fixtures';

describe('detectHardware: Xid', () => {
  it.each([
    { code: 79, kind: 'gpu.xid.fatal', severity: 'page', cause: 'hardware', text: /reboot/ },
    { code: 48, kind: 'gpu.xid.fatal', severity: 'page', cause: 'hardware', text: /reset GPU 3/ },
    { code: 95, kind: 'gpu.xid.fatal', severity: 'page', cause: 'hardware', text: /reset GPU 3/ },
    { code: 74, kind: 'gpu.xid.fatal', severity: 'page', cause: 'hardware', text: /NVLink/ },
    {
      code: 13,
      kind: 'gpu.xid.application',
      severity: 'info',
      cause: 'software',
      text: /llm-pretrain-7b-0412/,
    },
    { code: 31, kind: 'gpu.xid.application', severity: 'info', cause: 'software', text: /page fault/ },
    { code: 45, kind: 'gpu.xid.application', severity: 'info', cause: 'software', text: /killed/ },
    { code: 94, kind: 'gpu.xid.application', severity: 'ticket', cause: 'software', text: /Contained/ },
    { code: 63, kind: 'gpu.xid.trend', severity: 'info', cause: 'hardware', text: /remapping/ },
    { code: 92, kind: 'gpu.xid.trend', severity: 'info', cause: 'hardware', text: /single-bit/ },
    {
      code: 62,
      kind: 'gpu.xid.reset_required',
      severity: 'ticket',
      cause: 'hardware',
      text: /reset of GPU 3/,
    },
    { code: 171, kind: 'gpu.xid.unknown', severity: 'ticket', cause: 'hardware', text: /Xid catalog/ },
  ])('Xid $code → $kind ($severity, $cause)', ({ code, kind, severity, cause, text }) => {
    // The gauge turns to the code in minute 2 and stays there.
    const samples = [...node([0, 1, 2], 0, 5), ...minutes(3, 0, 5, (i) => ({ xid: i >= 2 ? code : 0 }))];
    const [findings = []] = runAll([{ samples }]).perRun;
    expect(findings).toHaveLength(1);
    const f = findings[0];
    expect(f).toMatchObject({ kind, severity, cause, labels: { node: NODE, gpu: '3', team: 'llm' } });
    expect(f?.evidence.values).toEqual({ xid: code });
    expect(f?.evidence.window).toEqual({ startMs: min(2), endMs: min(5) });
    expect(f?.runbook).toBe(`docs/runbooks/${kind}.md`);
    expect(`${f?.summary}`).toMatch(text);
    if (severity === 'page') {
      expect(f?.title).toContain(`Drain node ${NODE}`);
      expect(f?.summary).toContain(`Drain node ${NODE}`);
    }
    if (cause === 'software') expect(f?.labels.job).toBe('llm-pretrain-7b-0412');
  });

  it('reports a code that stays on the gauge once, and again after the gauge cleared', () => {
    const xidAt = (codes: number[]) => (i: number) => ({ xid: codes[i] ?? 0 });
    const { perRun } = runAll([
      { samples: minutes(5, 0, 5, xidAt([0, 0, 79, 79, 79])) },
      { samples: minutes(5, 5, 5, xidAt([79, 79, 79, 79, 79])) },
      { samples: minutes(5, 10, 5, xidAt([0, 0, 0, 79, 79])) },
    ]);
    expect(perRun.map(kinds)).toEqual([['gpu.xid.fatal'], [], ['gpu.xid.fatal']]);
  });

  it('reports each different code within one window', () => {
    const codes = [0, 13, 13, 48, 48];
    const { perRun } = runAll([{ samples: minutes(0, 0, 5, (i) => ({ xid: codes[i] ?? 0 })) }]);
    expect(perRun[0]?.map((f) => f.evidence.values?.xid)).toEqual([13, 48]);
  });
});

describe('detectHardware: ECC and row remapping', () => {
  const dbe = (vals: number[]) => (i: number) => ({ ecc_dbe: vals[i] ?? 0 });

  it.each([
    {
      name: 'an increase inside the window pages',
      runs: [[0, 0, 1, 1, 1]],
      expected: [['gpu.ecc.uncorrectable']],
    },
    {
      name: 'an increase across the run boundary pages',
      runs: [
        [2, 2, 2, 2, 2],
        [3, 3, 3, 3, 3],
      ],
      expected: [[], ['gpu.ecc.uncorrectable']],
    },
    {
      name: 'a counter reset (driver reload) is not an error',
      runs: [
        [2, 2, 2, 0, 0],
        [0, 0, 0, 0, 0],
      ],
      expected: [[], []],
    },
    {
      // After a reset the counter restarts from zero, so a reading of 1 is one new error.
      name: 'an error right after a counter reset still pages',
      runs: [[2, 2, 0, 1, 1]],
      expected: [['gpu.ecc.uncorrectable']],
    },
    { name: 'a non-zero counter first seen, flat, is not news', runs: [[4, 4, 4, 4, 4]], expected: [[]] },
  ])('uncorrectable: $name', ({ runs, expected }) => {
    const { perRun } = runAll(runs.map((vals, r) => ({ samples: minutes(1, r * 5, 5, dbe(vals)) })));
    expect(perRun.map(kinds)).toEqual(expected);
    const page = perRun.flat()[0];
    if (page) {
      expect(page.severity).toBe('page');
      expect(page.title).toContain(`Drain node ${NODE}`);
      expect(page.evidence.values?.increase).toBe(1);
    }
  });

  it.each([
    // 10 per minute over 4 minutes = 600/h, far above 100/h.
    {
      name: '600/h is above the absolute limit',
      sbe: [100, 110, 120, 130, 140],
      expected: ['gpu.ecc.correctable_rate'],
    },
    // 4 in 4 minutes = 60/h: under the limit and no history to rise against.
    { name: '60/h without history stays quiet', sbe: [100, 101, 102, 103, 104], expected: [] },
  ])('correctable: $name', ({ sbe, expected }) => {
    const { perRun } = runAll([{ samples: minutes(2, 0, 5, (i) => ({ ecc_sbe: sbe[i] ?? 0 })) }]);
    expect(kinds(perRun[0] ?? [])).toEqual(expected);
  });

  it('tickets a correctable rate rising well above the GPU’s own recent rate, once', () => {
    // Six runs at 1 per 5 min (~12/h) set the recent rate; 3 per 5 min (36/h) is under 5× of it and
    // lifts it to ~16/h; 7 per 5 min (84/h, under the 100/h limit) is over 5 × 16 → ticket; the next run
    // (30 per 5 min = 360/h) is still high, so it is not reported again.
    const per5 = [1, 1, 1, 1, 1, 1, 3, 7, 30];
    let counter = 1_000;
    const runs = per5.map((inc, r) => {
      const start = counter;
      counter += inc;
      // The increase lands in the last minute of the window.
      return { samples: minutes(2, r * 5, 5, (i) => ({ ecc_sbe: i === 4 ? start + inc : start })) };
    });
    const { perRun, state } = runAll(runs);
    expect(perRun.map(kinds)).toEqual([
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      ['gpu.ecc.correctable_rate'],
      [], // still high: already reported
    ]);
    const f = perRun[7]?.[0];
    expect(f?.evidence.values?.perHour).toBe(84);
    expect(f?.evidence.values?.recentPerHour).toBeCloseTo(16, 0);
    expect(Object.values(state.gpus)[0]?.open).toEqual(['ecc_correctable_rate']);
  });

  it('pages a row remap failure once while the flag stays set, and again after it was cleared', () => {
    const flag = (v: number[]) => (i: number) => ({ row_remap_failure: v[i] ?? 0 });
    const { perRun } = runAll([
      { samples: minutes(6, 0, 5, flag([0, 0, 0, 1, 1])) },
      { samples: minutes(6, 5, 5, flag([1, 1, 1, 1, 1])) },
      { samples: minutes(6, 10, 5, flag([0, 0, 0, 0, 0])) },
      { samples: minutes(6, 15, 5, flag([0, 1, 1, 1, 1])) },
    ]);
    expect(perRun.map(kinds)).toEqual([['gpu.row_remap_failure'], [], [], ['gpu.row_remap_failure']]);
    expect(perRun[0]?.[0]?.summary).toContain(`Drain node ${NODE}`);
  });
});

describe('detectHardware: state', () => {
  it('keeps a few numbers per GPU and round-trips through JSON', () => {
    const samples = [
      ...node([0, 1, 2, 3, 4, 5, 6], 0, 5),
      ...minutes(7, 0, 5, (i) => ({ xid: i > 2 ? 92 : 0, clock_events: 0x40, ecc_sbe: 10 + i })),
    ];
    const out = detectHardware({ samples, state: undefined, nowMs: min(6) });
    const json = JSON.stringify(out.state);
    expect(hardwareStateSchema.parse(JSON.parse(json))).toEqual(out.state);
    expect(Object.keys(out.state.gpus)).toHaveLength(8);
    // About 300 bytes per GPU: 1,200 GPUs stay well under DynamoDB's 400 KB item limit.
    expect(json.length / 8).toBeLessThan(400);
  });

  it('gives the same findings and state whatever the order of the samples', () => {
    const samples = [
      ...node([0, 1, 2], 0, 8),
      ...minutes(3, 0, 8, (i) => ({
        xid: i > 3 ? 79 : 0,
        clock_events: i > 0 ? 0x20 : 0,
        ecc_dbe: i > 5 ? 1 : 0,
      })),
    ];
    const sorted = detectHardware({ samples, state: undefined, nowMs: min(9) });
    expect(kinds(sorted.findings).sort()).toEqual([
      'gpu.ecc.uncorrectable',
      'gpu.throttle.thermal',
      'gpu.xid.fatal',
    ]);
    fc.assert(
      fc.property(fc.shuffledSubarray(samples, { minLength: samples.length }), (shuffled) => {
        const out = detectHardware({ samples: shuffled, state: undefined, nowMs: min(9) });
        expect(out.findings).toEqual(sorted.findings);
        expect(out.state).toEqual(sorted.state);
      }),
      { numRuns: 50 },
    );
  });
});
