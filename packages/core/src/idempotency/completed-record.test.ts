import { describe, expect, it } from 'vitest';
import { completedRecord, expiresAtOf, readCompletedRecord } from './completed-record.js';

describe('completedRecord', () => {
  it('reads back what it was given, with the result as JSON would return it', () => {
    const record = completedRecord(1_733_353_200_123, 'fp', 'owner.1', {
      at: new Date(0),
      list: [1, 'a'],
    });
    expect(readCompletedRecord(record)).toEqual({
      expiresAt: 1_733_353_200_123,
      fingerprint: 'fp',
      ownerToken: 'owner.1',
      result: { at: '1970-01-01T00:00:00.000Z', list: [1, 'a'] },
    });
  });

  it('reads the expiry alone, whatever the other fields hold', () => {
    for (const expiresAt of [
      0,
      7,
      86_400_000,
      1_733_353_200_123,
      12.5,
      999_999_999_999_999,
      2 ** 60,
      1e21,
      -5,
    ]) {
      const record = completedRecord(expiresAt, 'f,p', '",[', 'x,y');
      expect(expiresAtOf(record)).toBe(expiresAt);
    }
  });

  it('keeps a result with no JSON form as null, and refuses one JSON cannot encode', () => {
    expect(readCompletedRecord(completedRecord(1, 'fp', 'o', undefined)).result).toBeNull();
    expect(() => completedRecord(1, 'fp', 'o', 1n)).toThrow(TypeError);
  });
});
