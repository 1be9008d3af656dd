/**
 * Which strings Postgres keeps as they are. Text there holds no NUL (the server refuses it with
 * SQLSTATE 22021), and the driver encodes strings as UTF-8, where a lone surrogate becomes
 * U+FFFD: `e-\ud800` and `e-\udbff` would arrive as one value. A key that must stay apart from
 * every other (an inbox mark) is checked with this before it is sent.
 */
const storable = /^(?:[^\0\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;

/** Whether Postgres stores `text` unchanged and distinct from every other string. */
export function isStorableText(text: string): boolean {
  return storable.test(text);
}
