/**
 * How the memory store keeps a finished record: one JSON text,
 * `[expiresAt,fingerprint,ownerToken,result]`. A store that keeps a day of keys holds hundreds
 * of thousands of records, and the garbage collector copies and marks every object it keeps: a
 * record object with its boxed times and separate strings cost it about ten objects per key, one
 * flat string costs it one, with no pointers inside to trace. `JSON.stringify` writes it in one
 * pass (the result had to be serialised anyway, so a replay behaves as it would from a
 * database), and only the rare reads that need more than the expiry parse it back.
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

/**
 * The record of a finished key. Throws as `JSON.stringify` does when `result` cannot be
 * serialised (a `bigint`, a cycle). A `result` with no JSON form (`undefined`) is kept as `null`.
 */
export function completedRecord(
  expiresAt: number,
  fingerprint: string,
  ownerToken: string,
  result: unknown,
): CompletedRecord {
  const record = JSON.stringify([expiresAt, fingerprint, ownerToken, result]);
  // V8 hands the text back as a tree of the pieces it was written in (about 420 heap bytes for
  // a typical 250-character record). Reading a character joins them into one flat string in
  // place, which is all the garbage collector keeps from then on (about 270 bytes).
  record.charCodeAt(0);
  return record;
}

/**
 * When the record may be forgotten, read without parsing the rest: sweeps and lookups read it
 * for every record they pass.
 */
export function expiresAtOf(record: CompletedRecord): number {
  // The usual expiry, epoch milliseconds, is read digit by digit in place: a sweep passes every
  // record, and cutting a string out of each would allocate as many. Up to 15 digits a double
  // holds the running value exactly; anything else (a fraction, an exponent) is parsed.
  let value = 0;
  for (let index = 1; index <= 15; index++) {
    const code = record.charCodeAt(index);
    if (code === 0x2c && index > 1) return value;
    if (code < 0x30 || code > 0x39) break;
    value = value * 10 + (code - 0x30);
  }
  return Number(record.slice(1, record.indexOf(',')));
}

/** Everything the record holds. */
export function readCompletedRecord(record: CompletedRecord): CompletedRecordFields {
  const [expiresAt, fingerprint, ownerToken, result] = JSON.parse(record) as [
    number,
    string,
    string,
    unknown,
  ];
  return { expiresAt, fingerprint, ownerToken, result };
}
