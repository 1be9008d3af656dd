/**
 * Whether every surrogate in `text` is paired. Postgres and Redis receive strings as UTF-8, where
 * a lone surrogate becomes U+FFFD: `e-\ud800` and `e-\udbff` would arrive as one key. A key that
 * must stay apart from every other (an inbox mark) is checked with this before it is sent.
 */
export function isWellFormedText(text: string): boolean {
  return wellFormed.test(text);
}

const wellFormed = /^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;
