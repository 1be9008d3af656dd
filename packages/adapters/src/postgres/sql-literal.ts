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
  for (let n = 0; ; n++) {
    const tag = n === 0 ? '$v$' : `$v${n}$`;
    if (`${text}${tag}`.indexOf(tag) === text.length) return `${tag}${text}${tag}`;
  }
}

/**
 * An instant (epoch milliseconds) as a `timestamptz` literal in ISO 8601, UTC. Undefined for an
 * instant outside years 0001–9999, which has no such form Postgres reads.
 */
export function timestampLiteral(epochMs: number): string | undefined {
  const date = new Date(epochMs);
  if (!Number.isFinite(date.getTime())) return undefined;
  const iso = date.toISOString();
  return /^\d{4}-/.test(iso) && !iso.startsWith('0000') ? `'${iso}'` : undefined;
}
