/**
 * Durations as people write them in configuration (`'2h'`, `'90s'`, `'1h30m'`), so a schedule
 * reads like the seed's "every 2 hours" instead of `7_200_000`.
 */
import { BallastError } from '../errors/ballast-error.js';

const units: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Milliseconds in `duration`: a non-negative number of milliseconds, or a string of one or
 * more `<number><unit>` parts with units `ms`, `s`, `m`, `h`, `d` (`'2h'`, `'1h30m'`, `'500ms'`).
 * Throws `INVALID_OPTIONS` naming `field` otherwise.
 */
export function parseDuration(duration: string | number, field: string, where: string): number {
  let ms: number | undefined;
  if (typeof duration === 'number') ms = duration;
  else if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(duration.trim())) {
    ms = 0;
    for (const [, amount, , unit] of duration.trim().matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g)) {
      ms += Number(amount) * units[unit!]!;
    }
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for ${where}: "${field}" must be milliseconds or a duration like '2h', '30m', '1h30m'`,
      details: { field },
    });
  }
  return Math.round(ms);
}
