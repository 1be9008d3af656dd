/** True for a non-null object (including arrays and class instances): the cheap shape check
 * before reading a non-options argument's fields. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
