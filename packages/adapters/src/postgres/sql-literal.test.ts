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

describe('timestampLiteral against Date', () => {
  it('writes what toISOString writes, for instants around and across seconds', () => {
    const reference = (ms: number) => {
      const date = new Date(ms);
      if (!Number.isFinite(date.getTime())) return undefined;
      const iso = date.toISOString();
      return /^\d{4}-/.test(iso) && !iso.startsWith('0000') ? `'${iso}'` : undefined;
    };
    const base = Date.UTC(2026, 11, 5, 9, 6, 41);
    const instants = [
      base,
      base + 1,
      base + 9,
      base + 10,
      base + 99,
      base + 100,
      base + 999,
      base + 1_000,
      base - 1,
      base + 0.5,
      base - 0.5,
      0,
      -1,
      -0.5,
      -999,
      -1_000,
      -1_001,
      1.9,
      Date.UTC(1, 0, 1),
      Date.UTC(1, 0, 1) - 1,
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10_000, 0, 1),
      8.64e15,
      -8.64e15,
      Number.POSITIVE_INFINITY,
      -62_135_596_800_000,
      -62_135_596_800_001,
      -62_135_596_799_999.5,
    ];
    for (let i = 0; i < 2_000; i++) instants.push(base + Math.floor((i * 7_919) % 5_000) - 2_500);
    // Two seconds in turn (now and now + TTL), and a third one that evicts a slot.
    for (let i = 0; i < 500; i++) {
      instants.push(base + i * 37, base + 86_400_000 + i * 41);
      if (i % 7 === 0) instants.push(Date.UTC(2030, 0, 1) + i);
    }
    for (const ms of instants) expect(timestampLiteral(ms), String(ms)).toBe(reference(ms));
  });
});
