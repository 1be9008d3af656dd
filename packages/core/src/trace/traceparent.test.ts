import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const parentId = '00f067aa0ba902b7';
const valid = `00-${traceId}-${parentId}-01`;

describe('parseTraceparent', () => {
  it('reads the spec example', () => {
    expect(parseTraceparent(valid)).toEqual({
      version: '00',
      traceId,
      parentId,
      flags: 1,
      sampled: true,
    });
  });

  it('reads the sampled bit from the flags byte only', () => {
    expect(parseTraceparent(`00-${traceId}-${parentId}-00`)?.sampled).toBe(false);
    expect(parseTraceparent(`00-${traceId}-${parentId}-03`)).toMatchObject({
      flags: 3,
      sampled: true,
    });
    expect(parseTraceparent(`00-${traceId}-${parentId}-02`)?.sampled).toBe(false);
  });

  it('tolerates surrounding whitespace', () => {
    expect(parseTraceparent(`  ${valid}\t`)?.traceId).toBe(traceId);
  });

  it.each([
    ['empty', ''],
    ['null', null],
    ['uppercase trace id', `00-${traceId.toUpperCase()}-${parentId}-01`],
    ['uppercase version', `0A-${traceId}-${parentId}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${parentId}-01`],
    ['all-zero parent id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${traceId}-${parentId}-01`],
    ['version 00 with trailing data', `${valid}-extra`],
    ['short trace id', `00-${traceId.slice(1)}-${parentId}-01`],
    ['wrong separator', `00_${traceId}-${parentId}-01`],
    ['non-hex flags', `00-${traceId}-${parentId}-0g`],
    ['non-hex version', `0x-${traceId}-${parentId}-01`],
    ['two headers joined', `${valid}, ${valid}`],
    ['future version, data without a dash', `01-${traceId}-${parentId}-01x`],
  ])('rejects %s', (_name, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('reads a future version by its first four fields', () => {
    expect(parseTraceparent(`cc-${traceId}-${parentId}-01-what-the-future-holds`)).toEqual({
      version: 'cc',
      traceId,
      parentId,
      flags: 1,
      sampled: true,
    });
    expect(parseTraceparent(`01-${traceId}-${parentId}-00`)?.version).toBe('01');
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (header) => {
        const parsed = parseTraceparent(header);
        if (parsed) expect(parsed.traceId).toMatch(/^[0-9a-f]{32}$/);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('formatTraceparent', () => {
  it('round-trips through parseTraceparent', () => {
    const hex = (length: number) =>
      fc
        .string({
          unit: fc.constantFrom(...'0123456789abcdef'),
          minLength: length,
          maxLength: length,
        })
        .filter((value) => /[1-9a-f]/.test(value));
    fc.assert(
      fc.property(hex(32), hex(16), fc.boolean(), (trace, span, sampled) => {
        const header = formatTraceparent({ traceId: trace, spanId: span, sampled });
        expect(parseTraceparent(header)).toEqual({
          version: '00',
          traceId: trace,
          parentId: span,
          flags: sampled ? 1 : 0,
          sampled,
        });
      }),
    );
  });
});
