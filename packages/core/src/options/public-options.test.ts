/**
 * One sweep over core's public factories and functions that take options: each validates
 * through `parseOptions`, so a missing required options argument is `INVALID_OPTIONS` at
 * `(options)` (never a `TypeError`), an unknown key is refused by name, and the message names
 * the function the user called.
 */
import { describe, expect, it } from 'vitest';
import * as core from '../index.js';

type Call = (options: unknown) => unknown;

/** Runs `call`, synchronous or not, and returns what it threw or rejected with. */
async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

const noop = () => {};
const any = (value: unknown) => value as never;

// [what the user calls, the name errors must use, the call with `options` in the options slot]
const required: Array<[string, string, Call]> = [
  ['createBulkhead', 'createBulkhead()', (o) => core.createBulkhead(any(o))],
  ['createTimeout', 'createTimeout()', (o) => core.createTimeout(any(o))],
  ['createIdempotency', 'createIdempotency()', (o) => core.createIdempotency(any(o))],
  ['createSigner', 'createSigner()', (o) => core.createSigner(any(o))],
  ['createVerifier', 'createVerifier()', (o) => core.createVerifier(any(o))],
  ['createUploadTokens', 'createUploadTokens()', (o) => core.createUploadTokens(any(o))],
  ['new LocalPresigner', 'new LocalPresigner()', (o) => new core.LocalPresigner(any(o))],
  ['reconcile', 'reconcile()', (o) => core.reconcile(any(o))],
  [
    'scheduleReconciliation',
    'scheduleReconciliation()',
    (o) => core.scheduleReconciliation(any(o)),
  ],
  ['uploadThenRecord', 'uploadThenRecord()', (o) => core.uploadThenRecord(any(o))],
  ['uploadInTransaction', 'uploadInTransaction()', (o) => core.uploadInTransaction(any(o))],
  ['markThenDelete', 'markThenDelete()', (o) => core.markThenDelete(any(o))],
  ['issueSignedUpload', 'issueSignedUpload()', (o) => core.issueSignedUpload(any(o))],
  ['confirmUpload', 'confirmUpload()', (o) => core.confirmUpload(any(o))],
];

const optional: Array<[string, string, Call]> = [
  ['retry', 'retry()', (o) => core.retry(() => 'ok', any(o))],
  ['retryPolicy', 'retryPolicy()', (o) => core.retryPolicy(any(o))],
  ['createCircuitBreaker', 'createCircuitBreaker()', (o) => core.createCircuitBreaker(any(o))],
  ['createRetryBudget', 'createRetryBudget()', (o) => core.createRetryBudget(any(o))],
  ['withTimeout', 'withTimeout()', (o) => core.withTimeout(() => 'ok', 1_000, any(o))],
  ['saga', 'saga()', (o) => core.saga(any(o))],
  ['createTraceReader', 'createTraceReader()', (o) => core.createTraceReader(any(o))],
  ['generateSigningSecret', 'generateSigningSecret()', (o) => core.generateSigningSecret(any(o))],
  [
    'new MemoryIdempotencyStore',
    'new MemoryIdempotencyStore()',
    (o) => new core.MemoryIdempotencyStore(any(o)),
  ],
  ['new MemoryNonceStore', 'new MemoryNonceStore()', (o) => new core.MemoryNonceStore(any(o))],
  [
    'new MemoryObjectStorage',
    'new MemoryObjectStorage()',
    (o) => new core.MemoryObjectStorage(any(o)),
  ],
  [
    'bulkhead.execute',
    'bulkhead.execute()',
    (o) => core.createBulkhead({ maxConcurrent: 1 }).execute(noop, any(o)),
  ],
  [
    'circuitBreaker.execute',
    'circuitBreaker.execute()',
    (o) => core.createCircuitBreaker().execute(noop, any(o)),
  ],
  [
    'compose().execute',
    'compose().execute()',
    (o) => core.compose(core.createBulkhead({ maxConcurrent: 1 })).execute(noop, any(o)),
  ],
];

describe("core's public options", () => {
  it.each(required)(
    '%s() without options is INVALID_OPTIONS at (options)',
    async (_, where, call) => {
      const error = await failureOf(() => call(undefined));
      expect(core.isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      expect((error as Error).message).toContain(`Invalid options for ${where}: "(options)"`);
    },
  );

  it.each([...required, ...optional])(
    '%s() refuses an unknown key by name',
    async (_, where, call) => {
      const error = await failureOf(() => call({ typo: 1 }));
      expect(core.isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      expect((error as Error).message).toContain(`Invalid options for ${where}: "`);
      expect((error as Error).message).toMatch(
        /"typo": unknown option|"\(options\)"|"[a-zA-Z.]+": /,
      );
      if (!core.isBallastError(error)) return;
      const fields = (error.details.issues as Array<{ field: string }>).map((issue) => issue.field);
      // withTimeout(fn, ms, options) names the positional argument: `options.typo`.
      expect(fields.some((field) => field === 'typo' || field === 'options.typo')).toBe(true);
    },
  );

  it.each(optional)('%s() accepts a missing options argument', async (_, __, call) => {
    const error = await failureOf(() => call(undefined));
    expect(error).toBeUndefined();
  });
});
