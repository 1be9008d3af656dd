import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

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
});
