/**
 * The replay-guard port. A signature and a timestamp prove who sent a request and when, but
 * not that it arrives only once: inside the tolerance window a captured request verifies again.
 * A `NonceStore` closes that gap by remembering every nonce it has seen until the request's
 * timestamp leaves the window. Its one job is to make "seen before?" and "remember it" a single
 * atomic step across every process that shares the store; the verifier owns everything else.
 *
 * Implementations: {@link MemoryNonceStore} (one process, tests, demo) in `@ballast/core`;
 * Redis and Postgres in `@ballast/adapters/redis` and `@ballast/adapters/postgres`.
 */

/**
 * Remembers nonces until they expire.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({
 *   secret: process.env.INTERNAL_SIGNING_SECRET!,
 *   canonical: 'strict',
 *   nonceStore: new MemoryNonceStore(),
 * });
 * ```
 */
export interface NonceStore {
  /**
   * Atomically records `nonce` unless it is already recorded and not yet expired.
   *
   * Returns `true` when the nonce was not known (first sighting: it is now stored until
   * `expiresAt`) and `false` when it was already stored and unexpired (a replay). Two concurrent
   * calls with the same nonce must never both return `true`.
   *
   * A store that cannot answer (database down) must throw, never return `true`: the verifier
   * then refuses the request rather than let a replay through.
   *
   * @param nonce opaque string chosen by the verifier (already namespaced and validated, at most
   *   a few hundred characters of printable ASCII).
   * @param expiresAt epoch milliseconds after which the nonce may be forgotten: the moment the
   *   request's timestamp leaves the verifier's tolerance window, so a replay after that is
   *   refused as expired instead.
   */
  checkAndStore(nonce: string, expiresAt: number): Promise<boolean>;
}
