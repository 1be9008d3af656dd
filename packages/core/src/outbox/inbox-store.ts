/**
 * The inbox port: the "processed once" guard of an at-least-once consumer. A queue engine may
 * deliver an event again (a worker died after the effect, a stalled job was retried); the inbox
 * makes the effect happen once. Implementations: memory (core), Postgres/Kysely (the mark is
 * written in the handler's own transaction, so the effect and the mark commit together) and
 * Redis (weaker: the mark and an effect outside Redis are not atomic).
 */

/** Names one delivery: which consumer handles which event. Two consumers of one event are apart. */
export interface InboxRef {
  readonly consumer: string;
  readonly eventId: string;
}

/** The outcome of {@link InboxStore.runOnce}. */
export type InboxOutcome<T> =
  | { readonly kind: 'ran'; readonly value: T }
  | { readonly kind: 'duplicate' };

/**
 * Runs a handler at most once per {@link InboxRef} that succeeded.
 *
 * Contract: `runOnce` calls `handle` unless a previous call for the same ref succeeded, in which
 * case it answers `duplicate` without calling it. When `handle` throws, nothing is recorded and
 * the error propagates, so a redelivery runs it again. Concurrent calls for one ref run `handle`
 * at most once to success (Postgres: the inbox row's unique key makes the second transaction
 * wait, then answer `duplicate`). `Transaction` is what `handle` receives to write its effect in
 * (a Kysely `Transaction` for Postgres, `undefined` where there is none).
 */
export interface InboxStore<Transaction = undefined> {
  runOnce<T>(
    ref: InboxRef,
    handle: (transaction: Transaction) => Promise<T>,
  ): Promise<InboxOutcome<T>>;
}
