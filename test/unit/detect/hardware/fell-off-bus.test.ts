import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../../../lambdas/core/time';
import { gpuLabels, kinds, min, minutes, NODE, node, OTHER_NODE, runAll } from './fixtures';

const ALL = [0, 1, 2, 3, 4, 5, 6, 7];
const WITHOUT_7 = [0, 1, 2, 3, 4, 5, 6];

describe('detectHardware: a GPU that fell off the bus', () => {
  it('pages, naming node and GPU, when one GPU stops while its node still reports', () => {
    const { perRun } = runAll([{ samples: node(ALL, 0, 5) }, { samples: node(WITHOUT_7, 5, 5) }]);
    expect(perRun.map(kinds)).toEqual([[], ['gpu.fell_off_bus']]);
    const f = perRun[1]?.[0];
    expect(f).toMatchObject({
      severity: 'page',
      cause: 'hardware',
      labels: { cluster: 'train-a', region: 'us-east-1', node: NODE, gpu: '7', team: 'llm' },
      evidence: { window: { startMs: min(5), endMs: min(10) }, values: { silentMinutes: 5 } },
    });
    expect(f?.title).toContain(`Drain node ${NODE}`);
    expect(f?.summary).toContain(`Drain node ${NODE}`);
  });

  it.each([
    {
      name: 'the whole node is silent (another node reports)',
      second: node(ALL, 5, 5, { node: OTHER_NODE }),
    },
    { name: 'the window is empty', second: [] },
    {
      name: 'the GPU sends only some minutes of the window',
      second: [...node(WITHOUT_7, 5, 5), ...minutes(7, 9, 1)],
    },
  ])('stays quiet when $name', ({ second }) => {
    const { perRun } = runAll([{ samples: node(ALL, 0, 5) }, { samples: second, nowMs: min(11) }]);
    expect(perRun[1]).toEqual([]);
  });

  it('counts a per-host series as the node reporting', () => {
    const host = { time: min(6), labels: gpuLabels(0, { gpu: 'all' }), values: { power: 4_900 } };
    const { perRun } = runAll([{ samples: node([0, 1], 0, 5) }, { samples: [host] }]);
    expect(perRun[1]?.map((f) => f.labels.gpu).sort()).toEqual(['0', '1']);
  });

  it('pages once while the GPU stays gone, re-arms when it returns, forgets it after a day', () => {
    const { perRun, state } = runAll([
      { samples: node(ALL, 0, 5) },
      { samples: node(WITHOUT_7, 5, 5) },
      { samples: node(WITHOUT_7, 10, 5) },
      { samples: node(ALL, 15, 5) },
      { samples: node(WITHOUT_7, 20, 5) },
    ]);
    expect(perRun.map(kinds)).toEqual([[], ['gpu.fell_off_bus'], [], [], ['gpu.fell_off_bus']]);

    const later = min(20) + DAY_MS + HOUR_MS;
    const { perRun: afterADay, state: pruned } = runAll(
      [{ samples: node(WITHOUT_7, (later - min(0)) / 60_000, 5) }],
      undefined,
      state,
    );
    expect(afterADay[0]).toEqual([]);
    expect(Object.keys(pruned.gpus)).toHaveLength(7);
  });
});
