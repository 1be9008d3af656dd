/**
 * An `InboxStore` in the memory of one process: for tests, the demo and the in-process
 * publisher. There is no transaction (handlers receive `undefined`), so the "processed" mark is
 * set right after the handler resolves: a crash between the two forgets the mark, which in one
 * process also forgets the delivery, so nothing is doubled. Not shared between processes.
 *
 * Bounded: past `maxEntries` the oldest marks are forgotten (a redelivery of such an event
 * would run again), and that is logged, never silent.
 */
import { BallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { InboxOutcome, InboxRef, InboxStore } from './inbox-store.js';

/** Options for {@link MemoryInboxStore}. */
export interface MemoryInboxStoreOptions {
  /** Most "processed" marks kept; the oldest go first. Default `100_000`. */
  maxEntries?: number;
  /** Warned when a mark is forgotten to make room. Default: none. */
  logger?: Logger;
}

const optionsSchema = v.object({
  maxEntries: v.optional(v.number({ min: 1, integer: true })),
  logger: v.optional(v.logger()),
});

const refSchema = v.object({
  consumer: v.string({ minLength: 1, maxLength: 200 }),
  eventId: v.string({ minLength: 1, maxLength: 200 }),
});

/**
 * The in-memory inbox.
 *
 * @example
 * ```ts
 * const inbox = new MemoryInboxStore();
 * await inbox.runOnce({ consumer: 'emails', eventId: event.id }, async () => sendEmail(event));
 * ```
 */
export class MemoryInboxStore implements InboxStore<undefined> {
  readonly #done = new Map<string, true>();
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #maxEntries: number;
  readonly #logger: Logger;

  constructor(options: MemoryInboxStoreOptions = {}) {
    const parsed = parseOptions(optionsSchema, options, 'new MemoryInboxStore()');
    this.#maxEntries = parsed.maxEntries ?? 100_000;
    this.#logger = parsed.logger ?? noopLogger;
  }

  /** Whether `ref` was handled (and is still remembered). */
  has(ref: InboxRef): boolean {
    return this.#done.has(keyOf(ref));
  }

  /** How many marks are kept. */
  get size(): number {
    return this.#done.size;
  }

  async runOnce<T>(
    ref: InboxRef,
    handle: (transaction: undefined) => Promise<T>,
  ): Promise<InboxOutcome<T>> {
    parseOptions(refSchema, ref, 'inbox.runOnce()');
    if (typeof handle !== 'function') {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'Invalid options for inbox.runOnce(): "handle": expected a function',
        details: { field: 'handle' },
      });
    }
    const key = keyOf(ref);
    // A concurrent delivery of the same event waits for the first; if that one failed, this
    // one runs, as a redelivery would.
    for (;;) {
      if (this.#done.has(key)) return { kind: 'duplicate' };
      const running = this.#running.get(key);
      if (running === undefined) break;
      await running.then(
        () => undefined,
        () => undefined,
      );
    }
    const run = Promise.resolve().then(() => handle(undefined));
    this.#running.set(key, run);
    try {
      const value = await run;
      this.#remember(key, ref);
      return { kind: 'ran', value };
    } finally {
      this.#running.delete(key);
    }
  }

  #remember(key: string, ref: InboxRef): void {
    this.#done.set(key, true);
    if (this.#done.size <= this.#maxEntries) return;
    const oldest = this.#done.keys().next().value;
    if (oldest !== undefined) this.#done.delete(oldest);
    this.#logger.warn(
      { consumer: ref.consumer, maxEntries: this.#maxEntries },
      'memory inbox full: forgot the oldest processed mark (a redelivery of it would run again)',
    );
  }
}

// JSON of the pair, not a separator: no consumer name and event id can spell another pair's key.
function keyOf(ref: InboxRef): string {
  return JSON.stringify([ref.consumer, ref.eventId]);
}
