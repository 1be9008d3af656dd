/**
 * How writers wake sleeping relays without a NOTIFY from every commit.
 *
 * A transaction that has sent a NOTIFY takes a database-wide lock when it commits and holds it
 * through its commit record's disk flush (Postgres `PreCommit_Notify`), so notifying commits
 * run one at a time and lose group commit: with every publish notifying, writers queue behind
 * each other. So a writer notifies only while some relay sleeps, and relays say so with two
 * session-level advisory locks on their LISTEN connection:
 *
 * - the **sleeping lock**: a relay holds it exclusively while it sleeps. In the statement that
 *   inserts the events, a writer tries to take it shared for its transaction
 *   (`pg_try_advisory_xact_lock_shared`): when that fails (a relay holds it, or is waiting for
 *   it) the writer notifies; when it succeeds no relay sleeps, nobody is notified, and the
 *   writer holds the lock until it commits or rolls back.
 * - the **sleeper lock**: one connection at a time may take the sleeping lock; a relay whose
 *   connection cannot take this one sleeps without it, since writers already notify for the
 *   relay that holds it (and that relay, once awake, claims for everyone).
 *
 * No wake-up is lost: a relay going to sleep takes the sleeping lock, which waits until every
 * writer that found it free (and so did not notify) has finished; its commit is then visible, so
 * the claim the relay makes next sees the rows. A writer that comes after the request notifies.
 * A relay that cannot get the lock within `lock_timeout` (a writer kept its transaction open)
 * stays awake and claims again later. Several relays, in one process or many, keep this: the
 * claim itself never depended on the wake-up (`FOR UPDATE SKIP LOCKED`, `outbox-claim.ts`).
 */
import { sqlStringLiteral as literal } from '../sql-literal.js';
import { claimLockName } from './outbox-claim.js';

/**
 * How long a relay going to sleep waits for writers that did not notify, ms. Short, because the
 * wait blocks the LISTEN connection: a commit that notifies meanwhile is seen only when it ends
 * (measured: with 100 ms, a loaded machine's slow commits put 100 ms on the outbox's p99).
 */
export const sleepLockTimeoutMs = 10;

/** The lock a sleeping relay holds and writers try; see the header. */
export function sleepingLockName(table: { tableName: string; schema?: string | undefined }) {
  return `${claimLockName(table)}:sleeping`;
}

/** The SQL a relay's LISTEN connection runs, for one table and its NOTIFY channel. */
export function wakeUpStatements(
  table: { tableName: string; schema?: string | undefined },
  channel: string,
) {
  const sleeping = `hashtext(${literal(sleepingLockName(table))})`;
  const sleeper = `hashtext(${literal(`${claimLockName(table)}:sleeper`)})`;
  return {
    /** Once per connection, before anything else. */
    setUp: `SET lock_timeout = ${sleepLockTimeoutMs}`,
    /**
     * Takes the sleeper lock if free, then the sleeping lock, waiting (up to `lock_timeout`)
     * for writers that did not notify. One row, `slept`: `true` when this connection now holds
     * both, null when another holds the sleeper lock.
     */
    sleep: `SELECT CASE WHEN pg_try_advisory_lock(${sleeper})
      THEN pg_advisory_lock(${sleeping}) IS NOT NULL END AS slept`,
    /**
     * After `sleep` failed. Postgres may grant the sleeping lock in the instant its
     * `lock_timeout` fires and still fail the statement, leaving the session holding a lock it
     * was told it did not get (seen here once in some 50 timeouts near 10 ms): writers would
     * then notify for ever. So it is given back when held, looked up rather than unlocked
     * blindly, which would put a warning in the server's log at every timeout.
     */
    resign: `SELECT pg_advisory_unlock(${sleeper}), (
      SELECT count(pg_advisory_unlock(${sleeping})) FROM pg_locks
      WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
        AND mode = 'ExclusiveLock' AND objsubid = 1 AND objid = ${sleeping}::oid)`,
    /** Writers stop notifying on this connection's account. */
    wake: `SELECT pg_advisory_unlock(${sleeping}), pg_advisory_unlock(${sleeper})`,
    /** Wakes every relay (one leaving: another takes over). */
    notify: `SELECT pg_notify(${literal(channel)}, '')`,
  };
}
