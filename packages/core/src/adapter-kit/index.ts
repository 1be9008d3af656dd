/**
 * `@ballast/core/adapter-kit`: what authors of framework adapters and store implementations
 * need and applications do not. These names follow semver like the main entry, but they serve
 * Ballast's own adapters first: read their TSDoc before relying on one. Applications import
 * from `@ballast/core`.
 */

// Backup sources and file stores: hash a stream once, as it passes.
export { digestStream } from '../backup/index.js';
// Body readers: one bounded reader of web streams for every layer that holds a whole body.
export { payloadTooLarge, type ReadBodyStreamOptions, readBodyStream } from '../body/index.js';
// Errors with their defaults given, not looked up: a browser-path package (the client) names the
// status, retryability and action of the few codes it builds, so a page does not carry the whole
// catalogue `new BallastError(code)` reads. What it builds is a `BallastError` all the same.
export { CodedError } from '../errors/coded-error.js';
// Event stores: the envelope rule consumers apply, so a store refuses at publish what they would
// dead-letter.
export { checkEnvelope } from '../events/envelope-check.js';
// Same-tick idempotency: the engine's synchronous begin, for framework hooks that carry on in
// the same tick when the store answers at once; the text rule scopes must meet in every store;
// the JSON string writer a guard uses to hand its record's JSON text to the store; the scope
// rule the engine and every idempotency layer apply alike.
export {
  type Awaitable,
  beginInSameTick,
  fingerprintInSameTick,
  type IdempotencyEngine,
  idempotencyScopeError,
  isPromiseLike,
  isStorableText,
  jsonStringLiteral,
  maxScopeLength,
  promiseFrom,
} from '../idempotency/index.js';
// Option validation: one helper for every public function, the error for a wrong non-options
// argument (worded like the helper's), core's small strict validator `v`
// (zod's option schemas for server-side adapters are on `@ballast/server/adapter-kit`), and the
// shape checks behind both.
export {
  assertFunction,
  hasMethods,
  invalidArgument,
  isAbortSignalLike,
  isClockLike,
  parseOptions,
  type StandardSchemaV1,
  v,
} from '../options/index.js';
// Outage classification: the codes of a connection that could not be made or was lost, as
// retry's classifier reads them, for a layer that must tell an outage from a bug alike.
export { connectionFailureCodes } from '../retry/connection-failure-codes.js';
// Object storage implementations: key rules, listing order, cancellation.
export { throwIfAborted } from '../storage/aborted-error.js';
export { assertStorageCallOptions } from '../storage/call-options.js';
export { assertContentType } from '../storage/content-type.js';
export { assertObjectKey, compareObjectKeys } from '../storage/object-key.js';
export {
  assertPutBody,
  contentLengthMismatch,
  putStreamFailed,
} from '../storage/put-body.js';
// Trace middleware: the trace fields of a middleware's options, for `createTraceReader()`.
export { pickTraceFromHeadersOptions } from '../trace/index.js';
