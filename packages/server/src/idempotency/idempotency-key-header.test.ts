import { describe, expect, it } from 'vitest';
import { maxIdempotencyKeyHeaderLength, parseIdempotencyKey } from './idempotency-key-header.js';

describe('parseIdempotencyKey', () => {
  it.each([
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['  "spaced"  ', 'spaced'],
    ['"with space inside"', 'with space inside'],
    ['"quote \\" and backslash \\\\"', 'quote " and backslash \\'],
    ['"k";a=1;b="x;y";c;d=?1;e=tok/en;f=:aGk=:;g=-1.5', 'k'],
    ['"k"; a=1', 'k'],
    ['bare_token.with:chars/~!#$%&*+=?@[]^`{|}', 'bare_token.with:chars/~!#$%&*+=?@[]^`{|}'],
  ])('reads %s', (header, key) => {
    expect(parseIdempotencyKey(header)).toBe(key);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['""', 'empty'],
    [`"${'k'.repeat(256)}"`, 'too-long'],
    ['x'.repeat(256), 'too-long'],
    ['"unterminated', 'malformed'],
    ['"a", "b"', 'malformed'],
    ['a, b', 'malformed'],
    ['a,b', 'malformed'],
    ['"a" junk', 'malformed'],
    ['"bad \\n escape"', 'malformed'],
    ['"tab\there"', 'malformed'],
    ['"ñ"', 'malformed'],
    ['two words', 'malformed'],
    ['semi;colon', 'malformed'],
    ['"k";A=1', 'malformed'],
    ['"k";a=', 'malformed'],
    ['"k";a=?2', 'malformed'],
    ['"k";a=:***:', 'malformed'],
    [` ${'a '.repeat(8_000)} `, 'too-long'],
    [`"k";${'a=1;'.repeat(300)}b`, 'too-long'],
    ['%"display"', 'malformed'],
  ])('refuses %j as IDEMPOTENCY_KEY_INVALID (%s)', (header, reason) => {
    expect(() => parseIdempotencyKey(header)).toThrow(
      expect.objectContaining({
        code: 'IDEMPOTENCY_KEY_INVALID',
        status: 400,
        details: expect.objectContaining({ reason }),
      }),
    );
  });

  it('reads the longest legal header (255 escaped characters and parameters) but nothing longer', () => {
    const escaped = `"${'\\\\'.repeat(255)}";a=1`;
    expect(escaped.length).toBeLessThanOrEqual(maxIdempotencyKeyHeaderLength);
    expect(parseIdempotencyKey(escaped)).toBe('\\'.repeat(255));
    expect(() => parseIdempotencyKey(` ${' '.repeat(maxIdempotencyKeyHeaderLength)}"k"`)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ reason: 'too-long' }) }),
    );
  });
});
