import { describe, expect, it } from 'vitest';
import { type EarlyStop, followNextToken } from '../../lambdas/adapters/sagemaker/paging';

/** Pages served from a list: each has its items and the NextToken the service would return. */
function serve(pages: { items: string[]; NextToken?: string }[]) {
  const tokensAsked: (string | undefined)[] = [];
  let i = 0;
  const fetchPage = async (token: string | undefined) => {
    tokensAsked.push(token);
    const page = pages[i++];
    if (page === undefined) throw new Error('fetched past the last page');
    return page;
  };
  return { fetchPage, tokensAsked };
}

async function collect(
  pages: { items: string[]; NextToken?: string }[],
  maxPages = 10,
): Promise<{ items: string[]; tokensAsked: (string | undefined)[]; stops: [number, EarlyStop][] }> {
  const { fetchPage, tokensAsked } = serve(pages);
  const stops: [number, EarlyStop][] = [];
  const items: string[] = [];
  for await (const p of followNextToken(fetchPage, maxPages, (n, why) => stops.push([n, why]))) {
    items.push(...p.items);
  }
  return { items, tokensAsked, stops };
}

describe('followNextToken', () => {
  it('follows tokens through short and empty pages until there is none', async () => {
    const r = await collect([
      { items: ['a'], NextToken: 't1' },
      { items: [], NextToken: 't2' },
      { items: ['b', 'c'], NextToken: '' },
    ]);
    expect(r).toEqual({ items: ['a', 'b', 'c'], tokensAsked: [undefined, 't1', 't2'], stops: [] });
  });

  it('stops on a token it has already seen, keeping the pages read', async () => {
    const r = await collect([
      { items: ['a'], NextToken: 't1' },
      { items: ['b'], NextToken: 't2' },
      { items: ['c'], NextToken: 't1' },
    ]);
    expect(r.items).toEqual(['a', 'b', 'c']);
    expect(r.stops).toEqual([[3, 'repeated-token']]);
  });

  it('stops at the page cap', async () => {
    const r = await collect(
      [
        { items: ['a'], NextToken: 't1' },
        { items: ['b'], NextToken: 't2' },
        { items: ['c'], NextToken: 't3' },
      ],
      2,
    );
    expect(r.items).toEqual(['a', 'b']);
    expect(r.tokensAsked).toEqual([undefined, 't1']);
    expect(r.stops).toEqual([[2, 'page-cap']]);
  });
});
