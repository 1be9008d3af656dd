/**
 * What the idempotency engine reports, for metrics and logs. Each event names the key and its
 * scope; none carries a request body or a recorded result, so a handler that ships events to a
 * metrics system cannot leak payloads.
 */

/** Fields every idempotency event carries. */
export interface IdempotencyEventBase {
  readonly scope: string;
  readonly key: string;
}

/** Every event by name, with its payload. */
export interface IdempotencyEventMap {
  /** This request now holds the key and runs the operation. */
  claim: IdempotencyEventBase & { readonly fingerprint: string; readonly takeover: boolean };
  /** The key was taken from a holder whose lease ran out (it crashed or hung). Also fires `claim`. */
  takeover: IdempotencyEventBase & { readonly fingerprint: string };
  /** A recorded result was returned instead of running the operation again. */
  replay: IdempotencyEventBase;
  /** The same request is still in flight elsewhere; the duplicate was refused (409). */
  conflict: IdempotencyEventBase & {
    readonly retryAfterSeconds: number;
    /** How long the duplicate waited (wait mode) before being refused; 0 without wait mode. */
    readonly waitedMs: number;
  };
  /** The key was reused for a request with another fingerprint (422). */
  mismatch: IdempotencyEventBase & { readonly state: 'in-flight' | 'completed' };
  /** The holder recorded its result; later duplicates replay it. */
  record: IdempotencyEventBase & { readonly heldMs: number };
  /** The holder gave the key back without a result, so a retry runs the operation again. */
  release: IdempotencyEventBase & {
    /** Why: `'error'` (the operation threw), `'not-recorded'` (the result was not to be kept), or the caller's reason. */
    readonly reason: string;
    /** `false` when the key was no longer this holder's (taken over, or the store failed). */
    readonly released: boolean;
    readonly heldMs: number;
  };
  /**
   * The holder lost the key to a takeover: its completion was refused (so it could not
   * overwrite the new holder's result) or its lease could not be extended.
   */
  fenced: IdempotencyEventBase & { readonly operation: 'complete' | 'extend-lease' };
  /**
   * The operation ran but its result could not be recorded: the store kept failing until the
   * holder's lease was about to end. The key stays in flight until its lease ends, and a retry
   * after that runs the operation again (store mode only; the transaction-bound mode cannot get
   * here). Alert on it: each one is a possible second execution.
   */
  unrecorded: IdempotencyEventBase & {
    /** Recording attempts made, the first included. */
    readonly attempts: number;
    /** The last failure's code: `IDEMPOTENCY_STORE_UNAVAILABLE` or `IDEMPOTENCY_STORE_NOT_MIGRATED`. */
    readonly code: string;
  };
  /**
   * The store could not be reached and `onStoreUnavailable: 'proceed'` let the operation run
   * without a claim: nothing guards it against a duplicate, and its result is not recorded.
   */
  unguarded: IdempotencyEventBase & { readonly code: string };
}

/** An event name: `'claim'`, `'replay'`, `'conflict'`… */
export type IdempotencyEventName = keyof IdempotencyEventMap;

/**
 * Event handlers, one optional function per event. A handler that throws is logged and ignored:
 * a metrics bug never fails a request.
 */
export type IdempotencyEventHandlers = {
  readonly [Name in IdempotencyEventName]?: (event: IdempotencyEventMap[Name]) => void;
};
