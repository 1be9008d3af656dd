/**
 * Review finding: the public Content-Digest helpers take what frameworks hand over. Express's
 * `req.body` is a parsed object typed `any`; hashing it as "no bytes" would make the digest of
 * an empty body verify against any request. A missing header (`undefined`) is "not verified".
 */
import { describe, expect, it } from 'vitest';
import { BallastError } from '../errors/ballast-error.js';
import { checkContentDigest, createContentDigest, verifyContentDigest } from './content-digest.js';

describe('Content-Digest input', () => {
  it('refuses a body that is not a string or bytes, instead of hashing it as empty', async () => {
    const emptyDigest = await createContentDigest('');
    for (const body of [{ amount: 1_000_000 }, [1, 2], 42, null, undefined, new ArrayBuffer(0)]) {
      await expect(verifyContentDigest(emptyDigest, body as never)).rejects.toSatisfy(
        (error: unknown) =>
          error instanceof BallastError &&
          error.code === 'INVALID_OPTIONS' &&
          error.message.includes('verifyContentDigest()'),
      );
      await expect(createContentDigest(body as never)).rejects.toSatisfy(
        (error: unknown) => error instanceof BallastError && error.code === 'INVALID_OPTIONS',
      );
    }
  });

  it('reads a missing or repeated header as malformed, not a TypeError', async () => {
    const digest = await createContentDigest('x');
    expect(await verifyContentDigest(undefined as never, 'x')).toBe(false);
    expect(await checkContentDigest([digest, digest] as never, 'x')).toBe('malformed');
  });
});
