/**
 * Reads a paged listing one item at a time, fetching the next page while the current one is
 * being processed, so a reconciliation pass waits for storage and the database at most once
 * per page each instead of once per row.
 */

/** One page and how to get the next. */
export interface FetchedPage<T, Cursor> {
  readonly items: readonly T[];
  /** Absent on the last page. */
  readonly next?: Cursor;
}

export class PageReader<T, Cursor> {
  readonly #fetch: (cursor: Cursor | undefined) => Promise<FetchedPage<T, Cursor>>;
  #items: readonly T[] = [];
  #index = 0;
  #pending: Promise<FetchedPage<T, Cursor>> | undefined;

  constructor(fetch: (cursor: Cursor | undefined) => Promise<FetchedPage<T, Cursor>>) {
    this.#fetch = fetch;
    this.#pending = this.#start(undefined);
  }

  /** The next item without consuming it; `undefined` at the end. */
  async peek(): Promise<T | undefined> {
    while (this.#index >= this.#items.length) {
      if (!this.#pending) return undefined;
      const page = await this.#pending;
      this.#items = page.items;
      this.#index = 0;
      this.#pending = page.next === undefined ? undefined : this.#start(page.next);
    }
    return this.#items[this.#index];
  }

  /**
   * The next item when no fetch is needed to know it (`undefined` at the end); `peek` otherwise.
   * Saves a promise per row on the hot path.
   */
  peekBuffered(): T | undefined | Promise<T | undefined> {
    if (this.#index < this.#items.length) return this.#items[this.#index];
    return this.#pending ? this.peek() : undefined;
  }

  /** Consumes the item `peek` returned. */
  take(): T {
    const item = this.#items[this.#index++];
    if (item === undefined) throw new RangeError('take() without a successful peek()');
    return item;
  }

  #start(cursor: Cursor | undefined): Promise<FetchedPage<T, Cursor>> {
    const fetching = this.#fetch(cursor);
    // A prefetch nobody awaits (the pass was aborted) must not become an unhandled rejection;
    // whoever awaits it still sees the error.
    fetching.catch(() => {});
    return fetching;
  }
}
