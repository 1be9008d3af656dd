import { describe, expect, it } from 'vitest';
import { dollarQuoted, isLiteralSafe, timestampLiteral } from './sql-literal.js';

describe('dollarQuoted', () => {
  it('quotes text with the plain tag when nothing in it can end the literal', () => {
    const json = `{"a":"it's \\\\ é"}`;
    expect(dollarQuoted(json)).toBe(`$v$${json}$v$`);
  });

  it.each([
    ['the tag inside', 'x $v$ y'],
    ['the tag formed with the closing one', 'ends with $v'],
    ['both tags', '$v$ and $v1$ and ends with $v2'],
  ])('picks a tag that ends the literal where the text ends: %s', (_, text) => {
    const quoted = dollarQuoted(text) as string;
    const tag = quoted.slice(0, quoted.indexOf('$', 1) + 1);
    expect(quoted).toBe(`${tag}${text}${tag}`);
    // The first closing tag after the opening one is the last one.
    expect(quoted.indexOf(tag, tag.length)).toBe(tag.length + text.length);
  });

  it('refuses text with NUL, which Postgres text cannot hold', () => {
    expect(dollarQuoted('a\0b')).toBeUndefined();
  });
});

describe('timestampLiteral', () => {
  it('writes an instant as ISO 8601 UTC', () => {
    expect(timestampLiteral(Date.UTC(2026, 11, 5, 9, 6, 41, 100))).toBe(
      "'2026-12-05T09:06:41.100Z'",
    );
  });

  it.each([Number.NaN, 8.64e15 + 1, Date.UTC(10_000, 0, 1), Date.UTC(-1, 0, 1)])(
    'refuses %s, which has no four-digit year',
    (ms) => {
      expect(timestampLiteral(ms)).toBeUndefined();
    },
  );
});

describe('isLiteralSafe', () => {
  it('takes printable ASCII without a backslash, quotes included', () => {
    expect(isLiteralSafe("o'brien ~!$")).toBe(true);
    for (const text of ['', 'back\\slash', 'café', 'a\nb']) expect(isLiteralSafe(text)).toBe(false);
  });
});
