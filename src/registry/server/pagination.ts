// The `n` and `last` paging of tags/list and _catalog: results sorted lexically, those
// after `last`, at most n; when more remain, a Link header names the next page, as
// distribution does (RFC 5988 form, rel="next").
import { regError } from './errors.ts';

export interface Page {
  items: string[];
  /** The Link header value, when there is a next page. */
  link?: string;
}

/** Parses ?n=: undefined when absent, a non-negative integer, else PAGINATION_NUMBER_INVALID. */
export function parseN(raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw regError('PAGINATION_NUMBER_INVALID', { n: raw });
  return Number(raw);
}

/** One page of `all` (need not be sorted); `path` is the URL path the Link points back at. */
export function paginate(all: Iterable<string>, n: number | undefined, last: string | null, path: string): Page {
  let items = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (last) items = items.filter((s) => s > last);
  if (n === undefined || items.length <= n) return { items };
  const page = items.slice(0, n);
  // n=0 asks for nothing; no page could ever advance, so there is no next link.
  if (page.length === 0) return { items: page };
  const q = new URLSearchParams({ last: page[page.length - 1], n: String(n) });
  return { items: page, link: `<${path}?${q}>; rel="next"` };
}
