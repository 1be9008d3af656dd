/**
 * A read cache for unstable internet (seed 002 §2, level C; issue 15 item 7): the last successful
 * answer of each GET is kept with the time it arrived, so a screen opened while offline shows
 * "data from 12 minutes ago" instead of an error. The network is always tried first; the cache
 * answers only when the network cannot (no answer, a timeout, a 5xx) — a 4xx is the server's
 * answer and is passed on. Entries live in IndexedDB (they survive a reload) or in memory.
 */
import { type Clock, isBallastError, systemClock } from '@ballast/core';
import { clientError } from '../errors/client-error.js';
import type { Client, RequestOptions } from '../fetch/create-client.js';
import {
  clockCheck,
  number,
  object,
  oneOf,
  optional,
  parseOptions,
  string,
} from '../options/option-checks.js';
import { clientSchema } from '../queue/shared-option-schemas.js';
import { indexedDbStore } from '../storage/indexeddb-store.js';

/** What {@link ReadCache.get} resolves with. */
export interface CachedRead<T> {
  data: T;
  /** `true` when the network could not answer and this is the last answer kept. */
  fromCache: boolean;
  /** When the answer arrived (epoch ms). */
  storedAt: number;
  /** How old the answer is, in ms (0 for a fresh one). */
  ageMs: number;
}

/** Options of {@link createReadCache}. */
export interface ReadCacheOptions {
  /** The client that reads (its base URL and headers). */
  client: Client;
  /** `'indexeddb'` (default where the platform has it) or `'memory'`. */
  storage?: 'indexeddb' | 'memory';
  /**
   * IndexedDB database name. Default `'ballast-read-cache'`. Use one per signed-in user or
   * tenant: the cache keeps answers on the device until `clear()`.
   */
  name?: string;
  /** Answers older than this are never served, in ms. Default 7 days. */
  maxAgeMs?: number;
  /** Most answers kept; the oldest go first. Default `200`. */
  maxEntries?: number;
  /** Source of time. Default: the system clock. */
  clock?: Clock;
}

/** The cache made by {@link createReadCache}. */
export interface ReadCache {
  /**
   * `GET path` through the client; keeps a successful answer, and serves the last one kept
   * when the network cannot answer.
   *
   * @throws BallastError the client's error when the network failed and nothing usable is
   *   kept, or when the server answered with an error (4xx).
   */
  get<T = unknown>(
    path: string,
    options?: Omit<RequestOptions, 'method' | 'body'>,
  ): Promise<CachedRead<T>>;
  /**
   * The last answer kept for `path`, without the network (to paint a screen at once). Pass
   * the same `headers` as to `get`: an answer is kept per path and request headers.
   */
  peek<T = unknown>(
    path: string,
    options?: Pick<RequestOptions, 'headers'>,
  ): Promise<CachedRead<T> | undefined>;
  /** Forgets every answer (on sign-out). */
  clear(): Promise<void>;
}

interface Entry {
  data: unknown;
  storedAt: number;
}

interface EntryStore {
  get(key: string): Promise<Entry | undefined>;
  set(key: string, entry: Entry): Promise<void>;
  delete(key: string): Promise<void>;
  entries(): Promise<[string, Entry][]>;
  clear(): Promise<void>;
}

function memoryStore(): EntryStore {
  const map = new Map<string, Entry>();
  return {
    get: async (key) => map.get(key),
    set: async (key, entry) => void map.set(key, structuredClone(entry)),
    delete: async (key) => void map.delete(key),
    entries: async () => [...map.entries()],
    clear: async () => map.clear(),
  };
}

function indexedDbEntries(name: string): EntryStore {
  const store = indexedDbStore(name, 'reads');
  return {
    get: (key) => store<Entry | undefined>('readonly', (reads) => reads.get(key)),
    set: (key, entry) => store('readwrite', (reads) => void reads.put(entry, key)),
    delete: (key) => store('readwrite', (reads) => void reads.delete(key)),
    async entries() {
      let keys: IDBRequest<IDBValidKey[]> | undefined;
      const values = await store<Entry[]>('readonly', (reads) => {
        keys = reads.getAllKeys();
        return reads.getAll();
      });
      return values.map((entry, index): [string, Entry] => [String(keys?.result[index]), entry]);
    },
    clear: () => store('readwrite', (reads) => void reads.clear()),
  };
}

type Parsed = Omit<ReadCacheOptions, 'name' | 'maxAgeMs' | 'maxEntries'> &
  Required<Pick<ReadCacheOptions, 'name' | 'maxAgeMs' | 'maxEntries'>>;

/** Whether the network (not the server) failed: the cache may answer instead. */
function networkFailed(error: unknown): boolean {
  if (!isBallastError(error)) return false;
  if (error.code === 'ABORTED') return false;
  return error.code === 'NETWORK_ERROR' || error.code === 'TIMEOUT' || error.status >= 500;
}

/**
 * Creates a read cache over a client.
 *
 * @example
 * ```ts
 * const reads = createReadCache({ client });
 * const { data, fromCache, ageMs } = await reads.get<Product[]>('/products');
 * if (fromCache) banner.textContent = `Data from ${Math.round(ageMs / 60_000)} minutes ago`;
 * ```
 * @throws BallastError `INVALID_OPTIONS` for a wrong option.
 */
export function createReadCache(options: ReadCacheOptions): ReadCache {
  const config: Parsed = parseOptions(
    object({
      client: clientSchema,
      storage: optional(oneOf('indexeddb', 'memory')),
      name: optional(string(1, 200), 'ballast-read-cache'),
      maxAgeMs: optional(number(1, Number.POSITIVE_INFINITY), 7 * 24 * 3600 * 1000),
      maxEntries: optional(number(1, 100_000), 200),
      clock: optional(clockCheck),
    }),
    options,
    'createReadCache()',
  );
  const clock = config.clock ?? systemClock;
  const useIndexedDb =
    (config.storage ?? (typeof globalThis.indexedDB === 'object' ? 'indexeddb' : 'memory')) ===
    'indexeddb';
  const store = useIndexedDb ? indexedDbEntries(config.name) : memoryStore();
  /**
   * The entry's key: the URL, and a SHA-256 of the request's own headers when it has any, so
   * an answer fetched with one user's `authorization` is never served to another's (and the
   * token itself is not written to disk). `undefined` when the platform cannot hash (a page
   * on plain http): such a request is then not cached at all.
   */
  const keyOf = async (path: string, headers: Record<string, string> | undefined) => {
    if (typeof path !== 'string' || path.length === 0) {
      throw clientError('INVALID_OPTIONS', {
        message: 'Invalid options for ReadCache.get(): "path": expected a non-empty string',
        details: { field: 'path' },
      });
    }
    const url = config.client.url(path);
    const pairs = Object.entries(headers ?? {})
      .map(([name, value]): [string, string] => [name.toLowerCase(), String(value)])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (pairs.length === 0) return url;
    const subtle = globalThis.crypto?.subtle;
    if (subtle === undefined) return undefined;
    const digest = await subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(pairs)));
    const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0'));
    return `${url}#headers:${hex.join('')}`;
  };

  async function usable<T>(key: string): Promise<CachedRead<T> | undefined> {
    const entry = await store.get(key);
    if (entry === undefined) return undefined;
    const ageMs = Math.max(0, clock.now() - entry.storedAt);
    if (ageMs > config.maxAgeMs) return undefined;
    return { data: entry.data as T, fromCache: true, storedAt: entry.storedAt, ageMs };
  }

  async function keep(key: string, data: unknown, storedAt: number) {
    await store.set(key, { data, storedAt });
    const all = await store.entries();
    if (all.length <= config.maxEntries) return;
    all.sort((a, b) => a[1].storedAt - b[1].storedAt);
    for (const [old] of all.slice(0, all.length - config.maxEntries)) await store.delete(old);
  }

  return {
    async get<T>(path: string, requestOptions: Omit<RequestOptions, 'method' | 'body'> = {}) {
      const key = await keyOf(path, requestOptions.headers);
      try {
        const { data, redirected } = await config.client.request<T>(path, requestOptions);
        const storedAt = clock.now();
        // A device out of space still shows fresh data; only the offline copy is missing. A
        // redirected answer is not kept over the last good one: it may be a captive portal's
        // sign-in page, which would then be served as the data for a week.
        if (key !== undefined && !redirected)
          await keep(key, data, storedAt).catch(() => undefined);
        return { data, fromCache: false, storedAt, ageMs: 0 };
      } catch (error) {
        if (!networkFailed(error) || key === undefined) throw error;
        const cached = await usable<T>(key).catch(() => undefined);
        if (cached === undefined) throw error;
        return cached;
      }
    },
    async peek(path, options = {}) {
      const key = await keyOf(path, options.headers);
      return key === undefined ? undefined : usable(key);
    },
    clear: () => store.clear(),
  };
}
