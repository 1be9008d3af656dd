/**
 * Comparison whose running time does not depend on where two MACs differ. A `===` on signature
 * strings returns at the first differing character, so an attacker who can time responses
 * learns a valid signature byte by byte (seed 003 §4 compares with `===`; this replaces it).
 */

/**
 * True when `a` and `b` hold the same bytes. Lengths are public (a MAC is always 32 bytes), so
 * a length mismatch returns at once; equal lengths are compared by XOR-accumulating every byte
 * with no early exit.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) {
    difference |= (a[index] as number) ^ (b[index] as number);
  }
  return difference === 0;
}
