import { describe, expect, it } from 'vitest';
import { newestWins } from '../../../lambdas/core/jobs/newest-wins';
import type { ApplyOutcome } from '../../../lambdas/core/ports';

describe('newestWins', () => {
  it.each<[string, number | undefined, number, ApplyOutcome]>([
    ['nothing stored', undefined, 5, 'applied'],
    ['incoming newer', 5, 6, 'applied'],
    ['same LastModifiedTime (redelivery)', 5, 5, 'duplicate'],
    ['incoming older (out of order)', 5, 4, 'stale'],
    ['stored at epoch 0', 0, 0, 'duplicate'],
  ])('%s → %s', (_label, stored, incoming, expected) => {
    expect(newestWins(stored, incoming)).toBe(expected);
  });
});
