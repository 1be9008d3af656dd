/**
 * Which strings Postgres keeps as they are: text there holds no NUL (the server refuses it with
 * SQLSTATE 22021), and a lone surrogate arrives as U+FFFD (see `isWellFormedText`).
 */
import { isWellFormedText } from '../options/well-formed-text.js';

/**
 * `text` with each NUL replaced by U+FFFD, for a column that keeps a description (an error
 * message from an engine or a webhook, which may echo a binary body): the description is kept
 * instead of failing the whole statement.
 */
export function storableDescription(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\ufffd') : text;
}

/** Whether Postgres stores `text` unchanged and distinct from every other string. */
export function isStorableText(text: string): boolean {
  return !text.includes('\0') && isWellFormedText(text);
}
