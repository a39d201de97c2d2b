import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadScenario,
  type Scenario,
  type ScenarioInput,
  validateScenario,
} from '../../../lambdas/sim/scenario';

/** A small valid scenario in input form; tests override what they need. */
export function baseInput(overrides: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    name: 'unit',
    seed: 42,
    start: '2026-09-14T00:00:00Z',
    duration: '6h',
    tick: '1m',
    fleet: [
      { cluster: 'train-a', region: 'us-east-1', instanceType: 'p5.48xlarge', nodes: 12, gpusPerNode: 8 },
      { cluster: 'train-b', region: 'us-west-2', instanceType: 'p4d.24xlarge', nodes: 4, gpusPerNode: 8 },
    ],
    workload: { jobsPerDay: 400, mix: { interactive: 0.6, batch: 0.39, distributed: 0.01 }, seasonal: [] },
    maintenance: [],
    faults: [],
    ...overrides,
  };
}

export function scenarioFrom(input: ScenarioInput): Scenario {
  const result = validateScenario(input);
  if (!result.ok) throw new Error(`test scenario is invalid:\n${result.errors.join('\n')}`);
  return result.scenario;
}

export function committedScenario(file: string): Scenario {
  const path = join(import.meta.dirname, '../../../scenarios', file);
  const result = loadScenario(readFileSync(path, 'utf8'), path);
  if (!result.ok) throw new Error(`${file} is invalid:\n${result.errors.join('\n')}`);
  return result.scenario;
}

export const MIN = 60_000;
export const HOUR = 3_600_000;
