import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkContentDigest, createContentDigest, verifyContentDigest } from './content-digest.js';

const sha = (algorithm: string, body: string | Uint8Array) =>
  createHash(algorithm).update(body).digest('base64');

describe('Content-Digest (RFC 9530)', () => {
  it('matches the RFC 9530 example value', async () => {
    // RFC 9530 §2 / Appendix: the digest of '{"hello": "world"}' (with the space).
    expect(await createContentDigest('{"hello": "world"}')).toBe(
      'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
    );
  });

  it('hashes the exact bytes, and verifies its own values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.uint8Array()), async (body) => {
        const value = await createContentDigest(body);
        expect(value).toBe(`sha-256=:${sha('sha256', body)}:`);
        expect(await verifyContentDigest(value, body)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('checks every supported member and ignores unknown ones', async () => {
    const body = 'payload';
    const both = `sha-512=:${sha('sha512', body)}:, sha-256=:${sha('sha256', body)}:`;
    expect(await checkContentDigest(both, body)).toBeUndefined();
    expect(
      await checkContentDigest(`unixsum=:AAAA:, sha-256=:${sha('sha256', body)}:`, body),
    ).toBeUndefined();
    const oneWrong = `sha-512=:${sha('sha512', 'other')}:, sha-256=:${sha('sha256', body)}:`;
    expect(await checkContentDigest(oneWrong, body)).toBe('mismatch');
  });

  it.each([
    ['only deprecated algorithms', `md5=:${sha('md5', 'x')}:`, 'unsupported-algorithm'],
    ['not a byte sequence', 'sha-256=abc', 'malformed'],
    ['bad base64', 'sha-256=:abc:', 'malformed'],
    ['empty', '', 'malformed'],
    [
      'duplicate member',
      `sha-256=:${sha('sha256', 'x')}:, sha-256=:${sha('sha256', 'x')}:`,
      'malformed',
    ],
    ['wrong body', `sha-256=:${sha('sha256', 'y')}:`, 'mismatch'],
  ])('refuses %s', async (_name, value, problem) => {
    expect(await checkContentDigest(value, 'x')).toBe(problem);
    expect(await verifyContentDigest(value, 'x')).toBe(false);
  });
});
