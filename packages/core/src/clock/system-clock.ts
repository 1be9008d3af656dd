import { type CancelTimer, type Clock, sleepWith } from './clock.js';

function setSystemTimer(callback: () => void, ms: number): CancelTimer {
  const handle = setTimeout(callback, Math.max(0, ms));
  return () => clearTimeout(handle);
}

/** The real clock: `Date.now()` and `setTimeout`. The default everywhere. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepWith(setSystemTimer, ms, signal),
  setTimer: setSystemTimer,
};
