/**
 * When a stored wait is over, on a clock that can be set back. A queue stamps its waits with the
 * wall clock (a write's backoff, a tab's `sending` mark, the flush lease), and a device whose
 * clock was hours ahead and is then corrected would otherwise hold its writes until the clock
 * catches up, the periodic flush included.
 */

/**
 * Whether a wait from `since` to `until` (epoch ms) is over at `now`: it has ended, or it began
 * more than its own length after `now`, so the clock has been set back since and its end says
 * nothing. A smaller step back is waited out (at most twice the length): two tabs read one
 * clock moments apart, and a lock must not be taken from a tab that still holds it.
 */
export const waitIsOver = (since: number, until: number, now: number): boolean =>
  until <= now || since - now > until - since;
