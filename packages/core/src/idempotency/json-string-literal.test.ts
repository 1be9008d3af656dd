import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonStringLiteral } from './json-string-literal.js';

describe('jsonStringLiteral', () => {
  it('writes exactly what JSON.stringify writes, for any text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(jsonStringLiteral(text)).toBe(JSON.stringify(text));
      }),
      { numRuns: 500 },
    );
  });

  it('escapes quotes, backslashes, control characters and lone surrogates; keeps pairs', () => {
    for (const text of [
      '',
      'plain',
      '"',
      '\\',
      '\n\t\u0000\u001f',
      '\u007f',
      '\ud800',
      'x\udc00',
      '😀',
      'é',
    ]) {
      expect(jsonStringLiteral(text)).toBe(JSON.stringify(text));
    }
  });
});
