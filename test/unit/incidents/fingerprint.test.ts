import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, fnv1a64 } from '../../../lambdas/core/incidents/fingerprint';

const labelKeys = ['cluster', 'region', 'node', 'gpu', 'job', 'team', 'endpoint', 'feature'] as const;
const labelsArb = fc.dictionary(fc.constantFrom(...labelKeys), fc.string({ minLength: 1, maxLength: 12 }));

describe('fingerprint', () => {
  it('FNV-1a 64 matches the published test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });

  it('is stable across releases (a changed hash would reopen every incident)', () => {
    expect(fingerprintOf('gpu.xid.fatal', { cluster: 'train-a', node: 'i-1', gpu: '3' })).toBe(
      fingerprintOf('gpu.xid.fatal', { gpu: '3', node: 'i-1', cluster: 'train-a' }),
    );
    expect(fingerprintOf('gpu.xid.fatal', { cluster: 'train-a', node: 'i-1', gpu: '3' })).toMatch(
      /^[0-9a-f]{16}$/,
    );
  });

  it('property: independent of label order', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), labelsArb, (kind, labels) => {
        const reversed = Object.fromEntries(Object.entries(labels).reverse());
        expect(fingerprintOf(kind, reversed)).toBe(fingerprintOf(kind, labels));
      }),
    );
  });

  it('property: team is not identity; every identifying label is', () => {
    fc.assert(
      fc.property(labelsArb, fc.string({ minLength: 1, maxLength: 8 }), (labels, team) => {
        expect(fingerprintOf('k', { ...labels, team })).toBe(
          fingerprintOf('k', { ...labels, team: `${team}x` }),
        );
        expect(fingerprintOf('k', { ...labels, node: 'n1' })).not.toBe(
          fingerprintOf('k', { ...labels, node: 'n2' }),
        );
        expect(fingerprintOf('k1', labels)).not.toBe(fingerprintOf('k2', labels));
      }),
    );
  });

  it('separators inside values cannot fake another label set', () => {
    expect(fingerprintOf('k', { node: 'a","gpu","b' })).not.toBe(fingerprintOf('k', { node: 'a', gpu: 'b' }));
  });

  it('the hash is injectable', () => {
    expect(fingerprintOf('k', { node: 'a' }, () => 'fixed')).toBe('fixed');
  });
});
