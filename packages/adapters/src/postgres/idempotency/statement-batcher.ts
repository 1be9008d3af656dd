/**
 * Group commit for the store's two hot statements. Every claim and every completion in store
 * mode is a transaction of its own: one round trip, one parse, one WAL flush. Under load most of
 * a keyed request's database cost was that overhead, not the row it writes. The batcher sends a
 * call at once while fewer than `maxInFlight` batches are running (an idle store adds no wait);
 * calls that arrive while they run are queued and go together as the next batch, one statement
 * and one commit for all of them.
 *
 * A batch fails as a whole (the database went away, the table is not migrated), and every call in
 * it rejects with that error, exactly as each would have alone.
 */

interface Waiting<Item, Outcome> {
  readonly item: Item;
  readonly resolve: (outcome: Outcome) => void;
  readonly reject: (error: unknown) => void;
}

/** Sends items to `runBatch` in batches; see the file comment. */
export class StatementBatcher<Item, Outcome> {
  readonly #runBatch: (items: readonly Item[]) => Promise<readonly Outcome[]>;
  readonly #maxInFlight: number;
  readonly #maxBatchSize: number;
  #queue: Waiting<Item, Outcome>[] = [];
  #inFlight = 0;

  /**
   * @param runBatch runs the items as one statement and returns one outcome per item, in order.
   * @param maxInFlight batches running at once (each holds one pooled connection).
   * @param maxBatchSize items per batch, so one statement stays short.
   */
  constructor(
    runBatch: (items: readonly Item[]) => Promise<readonly Outcome[]>,
    maxInFlight: number,
    maxBatchSize: number,
  ) {
    this.#runBatch = runBatch;
    this.#maxInFlight = maxInFlight;
    this.#maxBatchSize = maxBatchSize;
  }

  /** Resolves with the item's outcome once its batch has run. */
  submit(item: Item): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#send();
    });
  }

  #send(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatchSize);
      this.#inFlight++;
      this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#send();
      });
    }
  }

  async #run(batch: readonly Waiting<Item, Outcome>[]): Promise<void> {
    try {
      const outcomes = await this.#runBatch(batch.map((waiting) => waiting.item));
      batch.forEach((waiting, index) => {
        const outcome = outcomes[index];
        if (outcome === undefined) {
          waiting.reject(new Error('idempotency batch: no outcome for an item'));
        } else {
          waiting.resolve(outcome);
        }
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
