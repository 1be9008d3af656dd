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
    ['a digest of the wrong length', `sha-256=:${sha('sha512', 'x')}:`, 'malformed'],
    ['a token instead of bytes', 'sha-256=abc, sha-512=:AA==:', 'malformed'],
    ['a trailing comma', `sha-256=:${sha('sha256', 'x')}:,`, 'malformed'],
    ['an upper-case name', `SHA-256=:${sha('sha256', 'x')}:`, 'malformed'],
    [
      'a quoted comma hiding a repeat',
      `sha-256=:${sha('sha256', 'x')}:;p="a,b", sha-256=:${sha('sha256', 'x')}:`,
      'malformed',
    ],
    ['an over-long value', `sha-256=:${sha('sha256', 'x')}:;p="${'a'.repeat(5_000)}"`, 'malformed'],
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

  it('reads the value as an RFC 9651 dictionary: parameters, whitespace and other members', async () => {
    const good = sha('sha256', 'x');
    for (const value of [
      `sha-256=:${good}:;kid="a,b"`,
      `unixsum=(1 2), sha-256=:${good}:`,
      `id-sha-256=?1,sha-256=:${good}:`,
      `sha-256=:${good}:  ,  md5=:${sha('md5', 'x')}:`,
    ]) {
      expect(await checkContentDigest(value, 'x'), value).toBeUndefined();
    }
  });

  it('never throws on hostile values and accepts only a correct digest', async () => {
    const body = 'payload';
    const good = `sha-256=:${sha('sha256', body)}:`;
    // Printable ASCII with the dictionary's own delimiters over-represented.
    const noise = fc.string({
      unit: fc.oneof(
        fc.constantFrom(',', ';', '=', ':', '"', '\\', ' ', '(', ')', '?', '*', '%'),
        fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
        fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
      ),
      maxLength: 120,
    });
    await fc.assert(
      fc.asyncProperty(noise, noise, async (before, after) => {
        for (const value of [before, `${before}${good}`, `${good}${after}`]) {
          const problem = await checkContentDigest(value, body);
          expect([undefined, 'malformed', 'unsupported-algorithm', 'mismatch']).toContain(problem);
          // A value that passes carries the real digest as its one sha-256 member.
          if (problem === undefined) expect(value).toContain(good.slice(9, -1));
        }
      }),
      { numRuns: 500 },
    );
  });
});
