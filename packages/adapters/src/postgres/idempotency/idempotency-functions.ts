/**
 * The two statements of every first execution — the claim and the completion — as PL/pgSQL
 * functions created next to the table. Sent as plain SQL, each was parsed and planned again on
 * every call (pg and Kysely send unnamed statements), which cost the database more than the
 * business INSERT it guards: measured on Postgres 15, the claim's CTE ~280 µs of backend CPU
 * against ~100 µs as a function call, whose plans PL/pgSQL caches per connection. The SQL inside
 * is the statement it replaces, so every atomicity argument made for it still holds: one
 * statement decides, under the primary key or a row condition.
 *
 * The functions live in the table's schema and are named after the table (`<table>_claim`,
 * `<table>_complete`), so several tables in one database each have their own. The
 * transaction-bound forms are procedures (`<table>_tx_claim`, `<table>_tx_complete`), for the
 * reason given where they are created. Without a schema
 * the table and its functions resolve through `search_path`, as the table did before. Names stay
 * within Postgres' 63 bytes: a table name has at most 48 characters, a suffix at most 15.
 */
import { quoteQualified } from '../table-identifier.js';

/** The quoted names of a table's functions, for DDL and for calls. */
export interface IdempotencyFunctionNames {
  readonly claim: string;
  readonly claimJson: string;
  readonly complete: string;
  readonly claimBatch: string;
  readonly completeBatch: string;
  readonly claimInTransaction: string;
  readonly completeInTransaction: string;
  /** The functions the transaction-bound forms replaced, which the migration drops. */
  readonly replacedClaimInTransaction: string;
  readonly replacedCompleteInTransaction: string;
}

/** The argument types of each function, for a `regprocedure` look-up (the start-up check). */
export const claimArgumentTypes = '(text, text, text, text, timestamptz, timestamptz, timestamptz)';
export const claimJsonArgumentTypes = claimArgumentTypes;
export const completeArgumentTypes = '(text, text, text, json, timestamptz, timestamptz)';

/** Quoted, schema-qualified (when there is a schema) names of the table's functions. */
export function idempotencyFunctionNames(
  tableName: string,
  schema: string | undefined,
): IdempotencyFunctionNames {
  const qualified = (name: string) => quoteQualified(name, schema);
  return {
    claim: qualified(`${tableName}_claim`),
    claimJson: qualified(`${tableName}_claim_json`),
    complete: qualified(`${tableName}_complete`),
    claimBatch: qualified(`${tableName}_claim_batch`),
    completeBatch: qualified(`${tableName}_complete_batch`),
    claimInTransaction: qualified(`${tableName}_tx_claim`),
    completeInTransaction: qualified(`${tableName}_tx_complete`),
    replacedClaimInTransaction: qualified(`${tableName}_claim_in_tx`),
    replacedCompleteInTransaction: qualified(`${tableName}_complete_in_tx`),
  };
}

/**
 * How long a batch waits for a row lock before it gives up and its calls go one by one: far
 * longer than two batches that share a key wait for each other (one statement), far shorter
 * than the engine's store timeout, which would otherwise answer 503 for every batch mate.
 */
const batchLockTimeout = '100ms';

/** The table's lease and expiry as whole epoch milliseconds: a number to pg, no date to parse. */
const epochMsOf = (column: string) => `round(extract(epoch from ${column}) * 1000)::float8`;

// The single claim's and completion's parameters, shared by their forms.
const claimParameters = `p_scope text, p_key text, p_fingerprint text, p_owner_token text,
  p_lease_expires_at timestamptz, p_expires_at timestamptz, p_now timestamptz`;
const completeParameters = `p_scope text, p_key text, p_owner_token text, p_result json,
  p_now timestamptz, p_expires_at timestamptz`;

/**
 * The SQLSTATEs the transaction-bound forms raise (class `BL`, which no Postgres condition
 * uses): the key exists, so the claim was not made (its row travels with the error); the
 * completion matched no row.
 */
export const keyExistsState = 'BLIDM';
export const completionMissedState = 'BLIDC';

/**
 * `CREATE OR REPLACE FUNCTION` for the claim and the completion of `table` (quoted, qualified).
 * Column references are qualified throughout (`#variable_conflict use_column` as well), so the
 * output parameters, which share names with table columns, never shadow them. Both return one
 * row (no set-returning function, so no tuple store per call).
 */
export function idempotencyFunctionStatements(
  table: string,
  names: IdempotencyFunctionNames,
): string[] {
  // Both claim forms start with it: the key in flight, or nothing written when it exists.
  const insertKey = `INSERT INTO ${table} AS t
    (scope, key, fingerprint, state, owner_token, lease_expires_at, expires_at, created_at)
  VALUES (p_scope, p_key, p_fingerprint, 'in_flight', p_owner_token,
    p_lease_expires_at, p_expires_at, p_now)
  ON CONFLICT (scope, key) DO NOTHING;`;
  // Both claim forms read the existing row with it, into `existing` (NULL when it vanished).
  const selectExisting = `SELECT json_build_object('fingerprint', t.fingerprint, 'state', t.state,
    'result', CASE WHEN t.state = 'completed' THEN t.result END,
    'lease_expires_ms', ${epochMsOf('t.lease_expires_at')},
    'expires_ms', ${epochMsOf('t.expires_at')})
  INTO existing
  FROM ${table} AS t WHERE t.scope = p_scope AND t.key = p_key;`;
  // Both completion forms: the compare-and-set, then (nothing matched) the owner's own record.
  const updateToCompleted = `UPDATE ${table} AS t SET
    state = 'completed',
    result = p_result,
    expires_at = CASE
      WHEN p_expires_at - t.expires_at BETWEEN interval '-1 minute' AND interval '1 minute'
      THEN t.expires_at ELSE p_expires_at END,
    completed_at = p_now
  WHERE t.scope = p_scope AND t.key = p_key
    AND t.state = 'in_flight' AND t.owner_token = p_owner_token AND t.expires_at > p_now;`;
  const completedByOwner = `EXISTS (
    SELECT 1 FROM ${table} AS t
    WHERE t.scope = p_scope AND t.key = p_key
      AND t.state = 'completed' AND t.owner_token = p_owner_token)`;
  return [
    // Inserts the key in flight; when it exists (ON CONFLICT DO NOTHING writes nothing, so a
    // replay is a read), a second statement reads it. In READ COMMITTED that statement has a
    // snapshot of its own, so it also sees a row committed while the INSERT waited on it (a
    // concurrent claimant, or a transaction-bound duplicate). One row out: `inserted` true, or
    // the existing row, or all NULL when it was deleted in between (the caller claims again).
    `CREATE OR REPLACE FUNCTION ${names.claim}(
  ${claimParameters},
  OUT inserted boolean, OUT fingerprint text, OUT state text, OUT result json,
  OUT lease_expires_ms float8, OUT expires_ms float8)
LANGUAGE plpgsql VOLATILE AS $function$
#variable_conflict use_column
BEGIN
  ${insertKey}
  IF FOUND THEN
    inserted := true;
    RETURN;
  END IF;
  SELECT false, t.fingerprint, t.state, CASE WHEN t.state = 'completed' THEN t.result END,
    ${epochMsOf('t.lease_expires_at')}, ${epochMsOf('t.expires_at')}
  INTO inserted, fingerprint, state, result, lease_expires_ms, expires_ms
  FROM ${table} AS t WHERE t.scope = p_scope AND t.key = p_key;
END
$function$`,
    // The same claim as one json value, which a single claim calls as `SELECT f(...)`. Called
    // in FROM (`SELECT * FROM <table>_claim(...)`), a function with OUT parameters costs the
    // parser a range-table entry built from its row type and the executor a function scan with
    // a tuple store, on every call: measured with callgrind on Postgres 15, ~79,000 of the
    // ~650,000 instructions of a transaction-bound first execution. `true` when inserted; the
    // existing row as an object (times as epoch milliseconds, `result` embedded as stored, so
    // its text and key order are what was recorded); NULL when it vanished in between. The
    // batch below keeps calling <table>_claim, whose rows it returns as they are; both run the
    // same two statements.
    `CREATE OR REPLACE FUNCTION ${names.claimJson}(
  ${claimParameters})
RETURNS json
LANGUAGE plpgsql VOLATILE AS $function$
#variable_conflict use_column
DECLARE
  existing json;
BEGIN
  ${insertKey}
  IF FOUND THEN
    RETURN 'true'::json;
  END IF;
  ${selectExisting}
  RETURN existing;
END
$function$`,
    // A compare-and-set on the owner token (fencing). The expiry set by the claim is kept when
    // the requested one is within a minute of it: expires_at is indexed, and leaving it
    // unchanged makes the completion a HOT update (same page, no index writes). When nothing
    // matched, a read tells a completion this owner already wrote (a retried record whose first
    // answer was lost: true) from a takeover (false), in the same call.
    `CREATE OR REPLACE FUNCTION ${names.complete}(
  ${completeParameters})
RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $function$
#variable_conflict use_column
BEGIN
  ${updateToCompleted}
  IF FOUND THEN
    RETURN true;
  END IF;
  RETURN ${completedByOwner};
END
$function$`,
    // Several claims in one statement (the store batches concurrent ones, see
    // statement-batcher.ts): the claim function for each element, in the given order, each of
    // its statements with a snapshot of its own, as if sent one by one. One commit for all.
    // A key another transaction holds uncommitted (a transaction-bound claim) would make every
    // batch mate wait for that transaction: past `batchLockTimeout` the batch fails with
    // lock_not_available and the store sends its claims one by one (idempotency-statements.ts).
    `CREATE OR REPLACE FUNCTION ${names.claimBatch}(
  p_scope text[], p_key text[], p_fingerprint text[], p_owner_token text[],
  p_lease_expires_at timestamptz[], p_expires_at timestamptz[], p_now timestamptz[])
RETURNS TABLE (ordinal integer, inserted boolean, fingerprint text, state text, result json,
  lease_expires_ms float8, expires_ms float8)
LANGUAGE plpgsql VOLATILE SET lock_timeout = '${batchLockTimeout}' AS $function$
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_key, 1), 0) LOOP
    RETURN QUERY SELECT i, c.* FROM ${names.claim}(p_scope[i], p_key[i], p_fingerprint[i],
      p_owner_token[i], p_lease_expires_at[i], p_expires_at[i], p_now[i]) AS c;
  END LOOP;
END
$function$`,
    // Several completions in one statement: the completion function for each element, with the
    // same bound on waiting for another transaction's row lock.
    `CREATE OR REPLACE FUNCTION ${names.completeBatch}(
  p_scope text[], p_key text[], p_owner_token text[], p_result json[],
  p_now timestamptz[], p_expires_at timestamptz[])
RETURNS TABLE (ordinal integer, done boolean)
LANGUAGE plpgsql VOLATILE SET lock_timeout = '${batchLockTimeout}' AS $function$
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_key, 1), 0) LOOP
    RETURN QUERY SELECT i, ${names.complete}(p_scope[i], p_key[i], p_owner_token[i],
      p_result[i], p_now[i], p_expires_at[i]);
  END LOOP;
END
$function$`,
    // The claim for withIdempotency's one-trip message (`BEGIN; CALL <this>(…)`, see
    // idempotency-one-trip.ts), whose rows Kysely cannot return: a claim made is the silent
    // success, any other answer raises keyExistsState and stops the message. The claim's json
    // goes in the error's COLUMN field, which the client receives and the server log omits, so
    // a replay does not copy a recorded result into the log (its MESSAGE and STATEMENT are
    // logged). The claim's two statements are written out here rather than calling
    // <table>_claim_json, and both forms are procedures: `CALL` evaluates its arguments and
    // calls, where `SELECT f(…)` is planned and run by the executor, and a nested PL/pgSQL
    // call costs a call frame and an expression of its own. Measured with callgrind on Postgres
    // 15, the two layers and the two SELECTs cost ~70,000 of the ~620,000 instructions of a
    // transaction-bound first execution (~465,000 of them Ballast's).
    `CREATE OR REPLACE PROCEDURE ${names.claimInTransaction}(
  ${claimParameters})
LANGUAGE plpgsql AS $function$
#variable_conflict use_column
DECLARE
  existing json;
BEGIN
  ${insertKey}
  IF FOUND THEN
    RETURN;
  END IF;
  ${selectExisting}
  RAISE EXCEPTION USING ERRCODE = '${keyExistsState}',
    MESSAGE = 'idempotency key exists: withIdempotency() answers from its row (not a failure)',
    COLUMN = coalesce(existing::text, 'null');
END
$function$`,
    // The completion for the message that also commits (`CALL <this>(…); COMMIT`): when it
    // matches no row it raises, so the COMMIT after it never runs and the operation's writes
    // never commit without their key. The completion's statements, written out as above.
    `CREATE OR REPLACE PROCEDURE ${names.completeInTransaction}(
  ${completeParameters})
LANGUAGE plpgsql AS $function$
#variable_conflict use_column
BEGIN
  ${updateToCompleted}
  IF FOUND THEN
    RETURN;
  END IF;
  IF NOT ${completedByOwner} THEN
    RAISE EXCEPTION USING ERRCODE = '${completionMissedState}',
      MESSAGE = 'idempotency key changed inside its own transaction';
  END IF;
END
$function$`,
    // The functions the two procedures replace (created by unreleased builds of this version):
    // nothing calls them any more.
    `DROP FUNCTION IF EXISTS ${names.replacedClaimInTransaction}${claimArgumentTypes}`,
    `DROP FUNCTION IF EXISTS ${names.replacedCompleteInTransaction}${completeArgumentTypes}`,
  ];
}
