/**
 * A transaction opened together with its first statement and committed together with its last,
 * each pair as one simple-protocol message on a connection taken from the pool.
 *
 * Kysely's `db.transaction()` sends `BEGIN` and `COMMIT` as messages of their own, so a
 * transaction of n statements costs n + 2 round trips: on a loaded machine each is a socket
 * write and a wake-up on both sides, and the connection is held for all of them. Here the caller
 * gets a real Kysely `Transaction` pinned to that connection in between, whose queries go as
 * usual; it cannot open connections or transactions of its own.
 *
 * Two things the simple protocol imposes on callers. It takes no parameters, so the statements
 * carry their values as literals (`sql-literal.ts`). Through Kysely a message of several
 * statements returns no rows (node-pg answers an array of results, Kysely reads `.rows` of it),
 * so the opening and closing statements speak through errors: a statement that must stop the
 * transaction raises, and the rest of its message (the `COMMIT`) never runs. Drivers that prepare
 * every statement (PGlite) refuse two commands in one message; callers then take
 * `db.transaction()`.
 */
import { BallastError } from '@ballast/core';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  Transaction,
} from 'kysely';

/** What a run answers when the driver refused two commands in one message (nothing ran). */
export const oneTripUnsupported = Symbol('one-trip transaction unsupported');

/** How a one-trip transaction ended, unless it threw. */
export type OneTripOutcome<T> =
  /** The opening statement failed: the transaction was rolled back, `error` is the driver's. */
  | { readonly kind: 'refused'; readonly error: unknown }
  /** `handle` returned `value` and the transaction committed. */
  | { readonly kind: 'committed'; readonly value: T }
  | typeof oneTripUnsupported;

/** A statement a prepared-only driver refuses: several commands in one message. */
const syntaxErrorState = '42601';

/**
 * Runs transactions in one trip each, for `caller` (named in the errors a misused transaction
 * throws, e.g. `'inbox.runOnce()'`).
 */
export function oneTripTransactions(caller: string) {
  const finished = () =>
    new BallastError('INVALID_OPTIONS', {
      message: `${caller}: the transaction is finished; run every query of the callback before it returns`,
      retryable: false,
    });
  const notHere = () =>
    new BallastError('INVALID_OPTIONS', {
      message: `${caller}: the callback's transaction runs queries only (no transaction, connection or introspection of its own)`,
      retryable: false,
    });
  const unavailable = () => Promise.reject(notHere());
  const noDriver: Driver = {
    init: unavailable,
    acquireConnection: unavailable,
    beginTransaction: unavailable,
    commitTransaction: unavailable,
    rollbackTransaction: unavailable,
    releaseConnection: unavailable,
    destroy: unavailable,
  };
  const refuse = () => {
    throw notHere();
  };
  const noDialect: Dialect = {
    createDriver: () => noDriver,
    createQueryCompiler: refuse,
    createAdapter: refuse,
    createIntrospector: refuse,
  };

  /**
   * Sends `BEGIN; <opening>`, runs `handle` in the transaction, then sends
   * `<closing(value)>; COMMIT` (`closing` may answer `''`). A failure of `handle` or of the
   * closing message rolls back and rejects with its error as it is.
   */
  return async function runInOneTrip<DB, T>(
    db: Kysely<DB>,
    opening: string,
    handle: (transaction: Transaction<DB>) => Promise<T>,
    closing: (value: T) => string = () => '',
  ): Promise<OneTripOutcome<T>> {
    const executor = db.getExecutor();
    return executor.provideConnection(async (connection) => {
      try {
        await connection.executeQuery(CompiledQuery.raw(`BEGIN; ${opening}`));
      } catch (error) {
        await rollBack(connection);
        const code = (error as { code?: unknown } | null)?.code;
        return code === syntaxErrorState ? oneTripUnsupported : { kind: 'refused', error };
      }
      // As in Kysely's own transactions: a query sent after `handle` returned must fail, not run
      // on a connection the pool has handed to someone else.
      let open = true;
      const pinned = executor.withConnectionProvider({
        provideConnection: (consumer) => (open ? consumer(connection) : Promise.reject(finished())),
      });
      const transaction = new Transaction<DB>({
        config: { dialect: noDialect },
        dialect: noDialect,
        driver: noDriver,
        executor: pinned,
      });
      try {
        const value = await handle(transaction);
        open = false;
        const last = closing(value);
        await connection.executeQuery(
          CompiledQuery.raw(last === '' ? 'COMMIT' : `${last}; COMMIT`),
        );
        return { kind: 'committed', value };
      } catch (error) {
        open = false;
        await rollBack(connection);
        throw error;
      }
    });
  };
}

async function rollBack(connection: DatabaseConnection): Promise<void> {
  // A failed rollback leaves nothing to undo here: the error that led to it is the one to see.
  await connection.executeQuery(CompiledQuery.raw('ROLLBACK')).catch(() => undefined);
}
