import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBallastError } from '../errors/ballast-error.js';
import { canonicalJson, canonicalJsonText } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts members at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: 2 }], a: { d: null, c: 'x' } })).toBe(
      '{"a":{"c":"x","d":null},"b":[3,{"a":2,"z":1}]}',
    );
  });

  it('follows JSON.stringify for values JSON has no form for', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: Symbol('s'), d: Number.NaN })).toBe(
      '{"d":null}',
    );
    expect(canonicalJson([undefined, Number.POSITIVE_INFINITY])).toBe('[null,null]');
    expect(canonicalJson(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(canonicalJson({ n: new Number(1), s: new String('x') })).toBe('{"n":1,"s":"x"}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(() => canonicalJson({ big: 1n })).toThrow(TypeError);
  });

  it('sorts what a toJSON returns, even from an object whose own members are in order', () => {
    expect(canonicalJson({ a: { toJSON: () => ({ z: 1, b: 2 }) } })).toBe('{"a":{"b":2,"z":1}}');
    expect(canonicalJson({ '10': 1, '9': 2 })).toBe('{"10":1,"9":2}');
  });

  it('writes one text whether members arrive sorted, reversed or as sent', () => {
    const reorder = (value: unknown, order: (names: string[]) => string[]): unknown => {
      if (Array.isArray(value)) return value.map((item) => reorder(item, order));
      if (typeof value !== 'object' || value === null) return value;
      const record = value as Record<string, unknown>;
      return Object.fromEntries(
        order(Object.keys(record)).map((name) => [name, reorder(record[name], order)]),
      );
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(reorder(value, (names) => [...names].sort()))).toBe(text);
        expect(canonicalJson(reorder(value, (names) => [...names].sort().reverse()))).toBe(text);
      }),
    );
  });

  it('parses back to what JSON.stringify round-trips, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('refuses nesting deeper than maxDepth with VALIDATION_FAILED instead of overflowing the stack', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const caught = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const error of [
      caught(() => canonicalJsonText(deep)),
      caught(() => canonicalJson(JSON.parse(deep))),
    ]) {
      expect(isBallastError(error) && error.code).toBe('VALIDATION_FAILED');
      expect(isBallastError(error) && error.details).toEqual({ reason: 'too-deep', maxDepth: 256 });
    }
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    expect(canonicalJsonText(nested(256))).toBe(nested(256));
    expect(() => canonicalJsonText(nested(257))).toThrow(/deeper than 256/);
    expect(() => canonicalJsonText(nested(5), 4)).toThrow(/deeper than 4/);
    expect(() => canonicalJson(JSON.parse(nested(5)), 4)).toThrow(/deeper than 4/);
  });

  it('keeps number literals a double cannot hold exactly, so different numbers never collide', () => {
    const pairs = [
      ['9007199254740993', '9007199254740992'],
      ['1e400', 'null'],
      ['-1e400', '1e400'],
      ['1e-400', '0'],
      ['0.1000000000000000000001', '0.1'],
      ['123456789012345678901234567890', '123456789012345680000000000000'],
    ];
    for (const [exact, rounded] of pairs) {
      const a = canonicalJsonText(`{"amount":${exact}}`);
      const b = canonicalJsonText(`{"amount":${rounded}}`);
      expect(a).not.toBe(b);
      expect(canonicalJsonText(`{ "amount" : ${exact} }`)).toBe(a);
    }
    expect(canonicalJsonText('{"b":[9007199254740993],"a":"x"}')).toBe(
      '{"a":"x","b":[0.9007199254740993e16]}',
    );
  });

  it('equals canonicalJson(JSON.parse(text)) whenever every number survives a double (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (value, spaced) => {
        const text = JSON.stringify(value, null, spaced ? 2 : undefined) ?? 'null';
        expect(canonicalJsonText(text)).toBe(canonicalJson(JSON.parse(text)));
      }),
    );
  });

  it('writes one form for literals that spell one value (1, 1.0, 1e0, 10e-1; 1e400 and 10e399)', () => {
    expect(canonicalJsonText('[1,1.0,1e0,10e-1,-0,0.0]')).toBe('[1,1,1,1,0,0]');
    expect(canonicalJsonText('[1e400]')).toBe(canonicalJsonText('[10e399]'));
    expect(canonicalJsonText('[9007199254740993.0]')).toBe(canonicalJsonText('[9007199254740993]'));
  });

  it('answers undefined for text that is not JSON, exact numbers or not', () => {
    for (const text of [
      '',
      '{',
      '}',
      '[1,]',
      '{"a" 1}',
      'tru',
      '[1e400,',
      '[9007199254740993]]',
      '01',
    ]) {
      expect(canonicalJsonText(text)).toBeUndefined();
    }
    expect(canonicalJsonText('{"a":1,"a":9007199254740993}')).toBe('{"a":0.9007199254740993e16}');
  });
});
