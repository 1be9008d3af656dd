/**
 * Optimistic locking over HTTP (RFC 9110 §8.8.3, §13.1.1; RFC 6585 §3). The record's version is
 * its entity tag (`ETag: "7"`); a write carries the version it was based on in `If-Match`. A
 * stale write is refused with 412 and the current version, so an edit is never silently lost;
 * a write that carries no precondition where one is required is refused with 428, so a client
 * that forgot the header cannot overwrite blindly either.
 *
 * Wire format (the offline client relies on it): strong ETag `"<version>"`; 412
 * `PRECONDITION_FAILED` / 409 `VERSION_CONFLICT` as problem+json with `currentVersion` and, when
 * the route supplies it, `current`; 428 `PRECONDITION_REQUIRED`.
 */
import { BallastError, isVersionConflict } from '@ballast/core';
import { invalidArgument, parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';

/** The version a write expects: a number, or `'*'` (any current version: explicit last-write-wins). */
export type ExpectedVersion = number | '*';

/** Options for {@link expectedVersion} and {@link assertIfMatch}. */
export interface IfMatchOptions {
  /** Whether a missing `If-Match` is refused with 428 `PRECONDITION_REQUIRED`. Default `true`. */
  readonly required?: boolean;
}

/** Options for {@link assertIfMatch}. */
export interface AssertIfMatchOptions extends IfMatchOptions {
  /** The current record, sent back as `current` in the 412 so the client can merge. Default: none. */
  readonly current?: Record<string, unknown>;
}

const ifMatchOptionsSchema = z.strictObject({ required: z.boolean().default(true) });
const assertOptionsSchema = ifMatchOptionsSchema.extend({
  current: z.record(z.string(), z.unknown()).optional(),
});
const versionSchema = z.strictObject({
  version: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

/**
 * The strong entity tag of a version: `versionETag(7)` → `"7"`. Set it as `ETag` on every read
 * and write response of a versioned record.
 */
export function versionETag(version: number): string {
  parseOptions(versionSchema, { version }, 'versionETag()');
  return `"${version}"`;
}

interface ParsedIfMatch {
  readonly any: boolean;
  /** Versions named by strong, numeric entity tags. */
  readonly versions: readonly number[];
  /** Whether the header listed tags that can never match a version (weak or not numeric). */
  readonly unmatchable: number;
}

// RFC 9110 §8.8.3: entity-tag = [ W/ ] DQUOTE *etagc DQUOTE, in a list whose empty elements a
// recipient must ignore (§5.6.1.2: `,"7"` and `"7",,` are `"7"`). Sticky, so a hostile header
// is read in one pass.
const entityTag = /(?:\s*,)*\s*(W\/)?"([^"]*)"\s*(?:,|$)/y;
const emptyElementsToTheEnd = /[\s,]*$/y;

function parseIfMatch(value: string): ParsedIfMatch | undefined {
  if (value.trim() === '*') return { any: true, versions: [], unmatchable: 0 };
  const versions: number[] = [];
  let unmatchable = 0;
  entityTag.lastIndex = 0;
  while (entityTag.lastIndex < value.length) {
    const at = entityTag.lastIndex;
    emptyElementsToTheEnd.lastIndex = at;
    if (emptyElementsToTheEnd.test(value)) break;
    const match = entityTag.exec(value);
    if (!match || entityTag.lastIndex === at) return undefined;
    const [, weak, opaque = ''] = match;
    // If-Match uses the strong comparison: a weak tag never matches (RFC 9110 §13.1.1). A
    // number past the largest safe integer is not a version either (no version can be one),
    // and reading it would round it to a different number.
    const version = /^(0|[1-9][0-9]{0,15})$/.test(opaque) ? Number(opaque) : Number.NaN;
    if (weak === undefined && Number.isSafeInteger(version)) versions.push(version);
    else unmatchable += 1;
  }
  return versions.length + unmatchable > 0 ? { any: false, versions, unmatchable } : undefined;
}

function headerValue(ifMatch: string | readonly string[] | null | undefined): string | undefined {
  const joined = typeof ifMatch === 'string' ? ifMatch : ifMatch?.join(', ');
  return joined === undefined || joined.trim() === '' ? undefined : joined;
}

function malformed(): BallastError {
  return new BallastError('VALIDATION_FAILED', {
    message: 'If-Match is not a list of entity tags',
    details: { field: 'If-Match' },
  });
}

function required(): BallastError {
  return new BallastError('PRECONDITION_REQUIRED', {
    message: 'This write needs an If-Match header with the version being edited',
  });
}

/**
 * The version a write must find, from the request's `If-Match`, for an atomic conditional write
 * (`updateWithVersion` in `@ballast/adapters/postgres`, then {@link preconditionFailed} on a
 * conflict, or all in one with {@link writeIfMatch}).
 *
 * - `"7"` → `7`; `*` → `'*'` (any version: the record must exist);
 * - missing → 428 `PRECONDITION_REQUIRED`, or `undefined` with `required: false`;
 * - only weak or non-numeric tags → 412 `PRECONDITION_FAILED` (none can match a version);
 * - several different versions, or not an entity-tag list → 400 `VALIDATION_FAILED`.
 */
export function expectedVersion(
  ifMatch: string | readonly string[] | null | undefined,
  options: IfMatchOptions = {},
): ExpectedVersion | undefined {
  const parsed = parseOptions(ifMatchOptionsSchema, options, 'expectedVersion()');
  checkIfMatch(ifMatch, 'expectedVersion()');
  const value = headerValue(ifMatch);
  if (value === undefined) {
    if (parsed.required) throw required();
    return undefined;
  }
  const tags = parseIfMatch(value);
  if (tags === undefined) throw malformed();
  if (tags.any) return '*';
  // A header sent twice reaches us joined (`"7", "7"`): the same version named twice is one.
  const [version, ...more] = new Set(tags.versions);
  if (version === undefined) {
    throw new BallastError('PRECONDITION_FAILED', {
      message: 'If-Match names no strong version tag, so it can never match',
    });
  }
  if (more.length > 0) {
    throw new BallastError('VALIDATION_FAILED', {
      message: 'If-Match names several versions; send the one being edited',
      details: { field: 'If-Match' },
    });
  }
  return version;
}

/**
 * Compares `If-Match` with a version the route has read (the read-then-compare path, e.g. an
 * in-memory store or a row locked `FOR UPDATE`). Throws 412 `PRECONDITION_FAILED` with
 * `currentVersion` (and `current` when given) when no tag matches, 428 when the header is missing
 * and required. `*` matches any existing record.
 */
export function assertIfMatch(
  ifMatch: string | readonly string[] | null | undefined,
  currentVersion: number,
  options: AssertIfMatchOptions = {},
): void {
  const parsed = parseOptions(assertOptionsSchema, options, 'assertIfMatch()');
  checkIfMatch(ifMatch, 'assertIfMatch()');
  parseOptions(versionSchema, { version: currentVersion }, 'assertIfMatch()');
  const value = headerValue(ifMatch);
  if (value === undefined) {
    if (parsed.required) throw required();
    return;
  }
  const tags = parseIfMatch(value);
  if (tags === undefined) throw malformed();
  if (tags.any || tags.versions.includes(currentVersion)) return;
  throw new BallastError('PRECONDITION_FAILED', {
    message: `If-Match does not name the current version ${currentVersion}`,
    details: {
      currentVersion,
      ...(parsed.current === undefined ? {} : { current: parsed.current }),
    },
  });
}

/**
 * The 412 for a write that carried `If-Match` and lost the race: `PRECONDITION_FAILED` with the
 * conflict's `currentVersion` and `current`. Anything that is not a version conflict is returned
 * unchanged, so it can sit in a `catch` that rethrows.
 */
export function preconditionFailed(error: unknown): unknown {
  if (!isVersionConflict(error)) return error;
  return new BallastError('PRECONDITION_FAILED', {
    message: error.message,
    cause: error,
    details: { ...error.details },
  });
}

/**
 * Reads the expected version from `If-Match`, runs `write` with it, and answers a lost race with
 * 412 instead of 409: the conditional write of RFC 9110 in one call.
 *
 * @example
 * ```ts
 * const sale = await writeIfMatch(req.get('if-match'), (version) =>
 *   updateWithVersion(db, 'sales', { id, version }, { quantity }),
 * );
 * res.set('ETag', versionETag(sale.version)).json(sale);
 * ```
 */
export async function writeIfMatch<T>(
  ifMatch: string | readonly string[] | null | undefined,
  write: (version: ExpectedVersion) => Promise<T> | T,
): Promise<T> {
  checkIfMatch(ifMatch, 'writeIfMatch()');
  if (typeof write !== 'function') throw invalidArgument('writeIfMatch()', 'write', 'a function');
  const version = expectedVersion(ifMatch) as ExpectedVersion;
  try {
    return await write(version);
  } catch (error) {
    throw preconditionFailed(error);
  }
}

/** Throws `INVALID_OPTIONS` unless `ifMatch` is a header value as frameworks hand it over. */
function checkIfMatch(ifMatch: unknown, where: string): void {
  if (ifMatch == null || typeof ifMatch === 'string') return;
  if (Array.isArray(ifMatch) && ifMatch.every((value) => typeof value === 'string')) return;
  throw invalidArgument(where, 'ifMatch', 'a header value (string, string[] or none)');
}
