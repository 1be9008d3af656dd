import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { assertNotExpired } from './assert-not-expired.js';

describe('assertNotExpired', () => {
  const clock = new ManualClock(Date.parse('2026-01-10T12:00:00Z'));

  it('passes before the instant and for a row that never expires', () => {
    expect(() => assertNotExpired(new Date('2026-01-10T12:00:01Z'), clock)).not.toThrow();
    expect(() => assertNotExpired('2026-02-01T00:00:00Z', clock)).not.toThrow();
    expect(() => assertNotExpired(null, clock)).not.toThrow();
    expect(() => assertNotExpired(undefined, clock)).not.toThrow();
  });

  it('throws EXPIRED (410) at and after the instant, naming when', () => {
    for (const expiresAt of [
      new Date('2026-01-10T12:00:00Z'),
      Date.parse('2026-01-09T00:00:00Z'),
      '2026-01-01T00:00:00.000Z',
    ]) {
      expect(() => assertNotExpired(expiresAt, clock)).toThrow(
        expect.objectContaining({ code: 'EXPIRED', status: 410 }),
      );
    }
    try {
      assertNotExpired(new Date('2026-01-09T00:00:00Z'), clock);
    } catch (error) {
      expect((error as { details: unknown }).details).toEqual({
        expiredAt: '2026-01-09T00:00:00.000Z',
      });
    }
  });

  it('follows the clock as time passes', async () => {
    const ticking = new ManualClock(0);
    assertNotExpired(1_000, ticking);
    await ticking.advance(1_000);
    expect(() => assertNotExpired(1_000, ticking)).toThrow(
      expect.objectContaining({ code: 'EXPIRED' }),
    );
  });

  it('rejects an invalid date or clock with INVALID_OPTIONS', () => {
    expect(() => assertNotExpired('not a date', clock)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', details: { field: 'expiresAt' } }),
    );
    expect(() => assertNotExpired(new Date(), {} as never)).toThrow(
      expect.objectContaining({ details: { field: 'clock' } }),
    );
  });
});
