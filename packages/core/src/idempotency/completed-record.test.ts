import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completedRecord, expiresAtOf, readCompletedRecord } from './completed-record.js';

describe('completedRecord', () => {
  it('reads back every field it was given, whatever they hold (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0 }), fc.maxSafeNat(), fc.double({ noNaN: true })),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.jsonValue(),
        (expiresAt, fingerprint, ownerToken, result) => {
          const record = completedRecord(
            expiresAt,
            fingerprint,
            ownerToken,
            JSON.stringify(result),
          );
          const expected = JSON.parse(JSON.stringify([expiresAt, result]));
          expect(expiresAtOf(record)).toBe(expected[0] ?? Number.NaN);
          expect(readCompletedRecord(record)).toEqual({
            expiresAt: expected[0] ?? Number.NaN,
            fingerprint,
            ownerToken,
            result: expected[1],
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads the expiry alone, for epoch milliseconds and any other number', () => {
    for (const expiresAt of [
      0,
      7,
      86_400_000,
      1_733_353_200_123,
      2 ** 30,
      2 ** 53 - 1,
      12.5,
      2 ** 60,
      1e21,
      -5,
    ]) {
      const record = completedRecord(expiresAt, 'f,p', ':",[', '"x,y"');
      expect(expiresAtOf(record)).toBe(expiresAt);
      expect(readCompletedRecord(record)).toEqual({
        expiresAt,
        fingerprint: 'f,p',
        ownerToken: ':",[',
        result: 'x,y',
      });
    }
    expect(expiresAtOf(completedRecord(Number.NaN, 'f', 'o', 'null'))).toBeNaN();
  });
});
