/**
 * The staging key of a signed upload: where its presigned PUT writes, beside the final key (so
 * a prefix covers both, and the final key sorts before its staging keys in UTF-8 byte order).
 * Reconciliation reads the shape back to keep a staged object whose upload may still be
 * confirmed.
 */
import { assertObjectKey } from '../storage/object-key.js';

const stagingSuffix = /\.upload-[0-9a-f]{32}$/;

/** A fresh staging key for `key`: `<key>.upload-<32 hex>`. */
export function stagingKeyOf(key: string): string {
  const stagingKey = `${key}.upload-${crypto.randomUUID().replaceAll('-', '')}`;
  assertObjectKey(stagingKey, 'key');
  return stagingKey;
}

/** The final key a staging key belongs to, or `undefined` for a key of another shape. */
export function uploadKeyOfStaging(key: string): string | undefined {
  const suffix = stagingSuffix.exec(key);
  return suffix ? key.slice(0, suffix.index) : undefined;
}
