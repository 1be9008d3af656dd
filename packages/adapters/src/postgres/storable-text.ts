/**
 * Which strings Postgres keeps as they are: text there holds no NUL (the server refuses it with
 * SQLSTATE 22021), and a lone surrogate arrives as U+FFFD (see `isWellFormedText`).
 */
import { isWellFormedText } from '../options/well-formed-text.js';

/** Whether Postgres stores `text` unchanged and distinct from every other string. */
export function isStorableText(text: string): boolean {
  return !text.includes('\0') && isWellFormedText(text);
}
