/**
 * SQL literals for statements that cannot carry parameters (DDL, simple-protocol messages). Each
 * helper inlines only what it can quote safely whatever the server's settings, and says so.
 */

/**
 * A SQL string literal: the text in single quotes, each quote doubled. Safe whatever the server's
 * `standard_conforming_strings` only for text without a backslash, which every caller ensures
 * (validated identifiers, or {@link isLiteralSafe} before inlining).
 */
export function sqlStringLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

// Printable ASCII without a backslash: a quote doubled is then a safe literal whatever the
// server's `standard_conforming_strings`.
const literalSafe = /^[\x20-\x5b\x5d-\x7e]+$/;

/** Whether `value` may be inlined with {@link sqlStringLiteral}. */
export function isLiteralSafe(value: string): boolean {
  return literalSafe.test(value);
}

/**
 * Any text as a dollar-quoted literal (`$v$…$v$`), with a tag that does not end the literal
 * early: neither inside the text nor formed by its last characters and the closing tag (text
 * `a$v` would end at `a$v$`). Undefined for text holding NUL, which no Postgres text can.
 */
export function dollarQuoted(text: string): string | undefined {
  if (text.includes('\0')) return undefined;
  // Text without `$v` can neither hold the plain tag nor end in a prefix of it that forms the
  // tag with the closing one (`$` alone cannot: `$$v$` holds `$v$` only where the closing tag
  // starts): the common case, decided by one scan and no copy of the text.
  if (!text.includes('$v')) return `$v$${text}$v$`;
  for (let n = 0; ; n++) {
    const tag = n === 0 ? '$v$' : `$v${n}$`;
    if (`${text}${tag}`.indexOf(tag) === text.length) return `${tag}${text}${tag}`;
  }
}

// The literal up to its seconds (`'YYYY-MM-DDTHH:MM:SS.`) for the two seconds asked last: a
// call's instants are "now" and "now + TTL", and the calls around it share both, while
// formatting a Date was the largest cost of writing a one-trip message in Node (~0.5 µs an
// instant). Two slots, the one not used last is replaced.
let recentSecond = Number.NaN;
let recentPrefix = '';
let otherSecond = Number.NaN;
let otherPrefix = '';

/**
 * An instant (epoch milliseconds) as a `timestamptz` literal in ISO 8601, UTC. Undefined for an
 * instant outside years 0001–9999, which has no such form Postgres reads. A fraction of a
 * millisecond is dropped, as `Date` drops it.
 */
export function timestampLiteral(epochMs: number): string | undefined {
  const instant = Math.trunc(epochMs);
  const second = Math.floor(instant / 1_000);
  if (second !== recentSecond) {
    let prefix: string | undefined = otherPrefix;
    if (second !== otherSecond) {
      prefix = secondPrefix(second);
      if (prefix === undefined) return undefined;
    }
    otherSecond = recentSecond;
    otherPrefix = recentPrefix;
    recentSecond = second;
    recentPrefix = prefix;
  }
  const ms = instant - second * 1_000;
  return `${recentPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z'`;
}

function secondPrefix(second: number): string | undefined {
  const date = new Date(second * 1_000);
  if (!Number.isFinite(date.getTime())) return undefined;
  const iso = date.toISOString();
  // `YYYY-MM-DDTHH:MM:SS.000Z`: the 20 characters before the milliseconds.
  return /^\d{4}-/.test(iso) && !iso.startsWith('0000') ? `'${iso.slice(0, 20)}` : undefined;
}
