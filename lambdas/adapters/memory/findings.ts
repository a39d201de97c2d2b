import type { Finding } from '../../contracts/finding';
import type { FindingsPublisher, PublishFailure } from '../../core/ports';

/**
 * In-memory findings publisher: records what was published. Can be told to fail findings (by a
 * predicate, e.g. on kind) or to throw altogether, to exercise the use case's failure handling.
 */
export class InMemoryFindingsPublisher implements FindingsPublisher {
  readonly published: Finding[] = [];
  calls = 0;
  failIf: ((f: Finding) => boolean) | undefined;
  throwWith: Error | undefined;

  async publish(findings: readonly Finding[]): Promise<{ published: number; failed: PublishFailure[] }> {
    this.calls++;
    if (this.throwWith) throw this.throwWith;
    const failed: PublishFailure[] = [];
    findings.forEach((f, index) => {
      if (this.failIf?.(f)) failed.push({ index, reason: 'simulated failure: queue unavailable' });
      else this.published.push(structuredClone(f));
    });
    return { published: findings.length - failed.length, failed };
  }
}
