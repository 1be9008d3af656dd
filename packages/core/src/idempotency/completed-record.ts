/**
 * How the memory store keeps a finished record: one flat string. A store that keeps a day of
 * keys holds hundreds of thousands of records, and the garbage collector copies and marks every
 * object it keeps: a record object with its boxed times and separate strings costs it several
 * objects per key, one flat string costs it one, with no pointers inside to trace.
 *
 * The string is a short header, then the fingerprint, the owner token and the result's JSON
 * text as they are: `<expiry>,<fingerprint length>,<owner token length>,<fingerprint><owner
 * token><JSON>`. Nothing in it is escaped or serialised again (the JSON comes from the caller,
 * or from one `JSON.stringify` of the result), so writing it costs a few concatenations. The
 * expiry, epoch milliseconds, is written as two small integers split at 2^30 (`<high>:<low>`),
 * which print without floating-point formatting; any other number as `~` and its JSON.
 */

/** A finished record as the memory store keeps it. */
export type CompletedRecord = string;

/** What a finished record holds, read back. */
export interface CompletedRecordFields {
  readonly expiresAt: number;
  readonly fingerprint: string;
  readonly ownerToken: string;
  readonly result: unknown;
}

const expirySplit = 2 ** 30;

/** The record of a finished key whose result's JSON text is `json`. */
export function completedRecord(
  expiresAt: number,
  fingerprint: string,
  ownerToken: string,
  json: string,
): CompletedRecord {
  const expiry =
    Number.isSafeInteger(expiresAt) && expiresAt >= 0
      ? `${Math.floor(expiresAt / expirySplit)}:${expiresAt % expirySplit}`
      : `~${JSON.stringify(expiresAt)}`;
  const record = `${expiry},${fingerprint.length},${ownerToken.length},${fingerprint}${ownerToken}${json}`;
  // V8 keeps a concatenation as a tree of its pieces (several heap objects). Reading a character
  // joins them into one flat string in place, which is all the garbage collector keeps from then on.
  record.charCodeAt(0);
  return record;
}

// Where the last integer read ended (just past its terminator): readers below hand it on
// without allocating a pair per call.
let readEnd = 0;

/** The decimal integer at `from`, up to `terminator`; sets `readEnd` past the terminator. */
function readInteger(record: string, from: number, terminator: number): number {
  let value = 0;
  let index = from;
  for (;;) {
    const code = record.charCodeAt(index);
    if (code === terminator) break;
    value = value * 10 + (code - 0x30);
    index++;
  }
  readEnd = index + 1;
  return value;
}

/**
 * When the record may be forgotten, read without the rest: sweeps and lookups read it for every
 * record they pass. Sets `readEnd` to where the fingerprint length starts.
 */
export function expiresAtOf(record: CompletedRecord): number {
  if (record.charCodeAt(0) === 0x7e) {
    const comma = record.indexOf(',');
    readEnd = comma + 1;
    // JSON writes a number that is not finite as null: such a record never expires early.
    const value = JSON.parse(record.slice(1, comma)) as number | null;
    return value ?? Number.NaN;
  }
  const high = readInteger(record, 0, 0x3a);
  return high * expirySplit + readInteger(record, readEnd, 0x2c);
}

/** Everything the record holds. */
export function readCompletedRecord(record: CompletedRecord): CompletedRecordFields {
  const expiresAt = expiresAtOf(record);
  const fingerprintLength = readInteger(record, readEnd, 0x2c);
  const ownerTokenLength = readInteger(record, readEnd, 0x2c);
  const fingerprintStart = readEnd;
  const ownerTokenStart = fingerprintStart + fingerprintLength;
  const jsonStart = ownerTokenStart + ownerTokenLength;
  return {
    expiresAt,
    fingerprint: record.slice(fingerprintStart, ownerTokenStart),
    ownerToken: record.slice(ownerTokenStart, jsonStart),
    result: JSON.parse(record.slice(jsonStart)),
  };
}
