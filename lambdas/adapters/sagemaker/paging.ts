/**
 * NextToken paging for SageMaker's List* APIs, shared by the Model Monitor and training-job
 * adapters. SageMaker listings have been seen to page forever (a known bug with
 * LastModifiedTimeAfter hands back a token it already returned), so every listing stops on a
 * repeated token or at a page cap, and the caller is told why so it can warn and count.
 */

/** Why a listing stopped before the service said it was done. */
export type EarlyStop = 'repeated-token' | 'page-cap';

/**
 * Yields each page `fetchPage` returns, passing the previous page's NextToken (undefined for the
 * first). Ends when a page has no (or an empty) NextToken; ends early, after calling `onEarlyStop`
 * with the number of pages read, when a token repeats or `maxPages` pages have been read. Pages
 * are yielded before the check, so nothing already fetched is lost.
 */
export async function* followNextToken<Page extends { readonly NextToken?: string | undefined }>(
  fetchPage: (token: string | undefined) => Promise<Page>,
  maxPages: number,
  onEarlyStop: (pages: number, why: EarlyStop) => void,
): AsyncGenerator<Page, void, undefined> {
  const seen = new Set<string>();
  let token: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await fetchPage(token);
    yield page;
    const next = page.NextToken;
    if (next === undefined || next === '') return;
    if (seen.has(next) || pages >= maxPages) {
      onEarlyStop(pages, seen.has(next) ? 'repeated-token' : 'page-cap');
      return;
    }
    seen.add(next);
    token = next;
  }
}
