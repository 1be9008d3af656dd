import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonParsedFrom, canonicalJsonText } from './canonical-json.js';
import { scanJsonText } from './json-text-scan.js';

describe('scanJsonText', () => {
  it('recognises compact JSON with members in order, integers and plain strings as canonical', () => {
    for (const text of [
      '{"amount":12,"item":"coffee"}',
      '{"10":1,"9":2}',
      '{"a":{"b":[1,-2,0,"x"],"c":null},"d":true,"e":false,"é":"caf\u00e9"}',
      '[]',
      '{}',
      '"text"',
      '0',
      '999999999999999',
      '{"":1,"a":2,"ab":3,"b":4}',
    ]) {
      expect(scanJsonText(text, 256), text).toBe('canonical');
      expect(canonicalJson(JSON.parse(text))).toBe(text);
    }
  });

  it('does not take text that would canonicalise to another text as canonical', () => {
    for (const text of [
      '{"item":"coffee","amount":12}',
      '{ "amount": 12 }',
      '{"a":1,"a":2}',
      '{"a":1.5}',
      '{"a":1e3}',
      '{"a":-0}',
      '1000000000000000',
      '"\\u0041"',
      '"a\\"b"',
      '"\ud800"',
      '{"__proto__":{"a":1}}',
      '{"constructor":{"prototype":{}}}',
      '[1,2]\n',
      // A byte order mark: JSON.parse refuses it, Fastify's parser drops it, so the parsed value
      // (without it) decides, as it did before the text was ever reused.
      '\uFEFF{"a":1}',
      '{"a":1}\uFEFF',
    ]) {
      expect(scanJsonText(text, 256), text).not.toBe('canonical');
    }
  });

  it('takes the parsed value, not the text, for a body that starts with a byte order mark', () => {
    const text = '{"a":1}';
    expect(canonicalJsonParsedFrom(JSON.parse(text), `\uFEFF${text}`)).toBe(text);
  });

  it('agrees with canonicalising the parsed value, for any JSON value however written (property)', () => {
    const texts = fc
      .jsonValue()
      .chain((value) =>
        fc.constantFrom(
          JSON.stringify(value),
          canonicalJson(value),
          JSON.stringify(value, null, 1) ?? 'null',
        ),
      );
    fc.assert(
      fc.property(texts, (text) => {
        const parsed: unknown = JSON.parse(text);
        const expected = canonicalJson(parsed);
        expect(canonicalJsonParsedFrom(parsed, text)).toBe(expected);
        expect(canonicalJsonText(text)).toBe(expected);
        if (scanJsonText(text, 256) === 'canonical') expect(text).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
