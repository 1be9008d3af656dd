import { type CancelTimer, type Clock, sleepWith } from './clock.js';

/** The longest delay `setTimeout` honours; a longer one fires at once (TimeoutOverflowWarning). */
const maxTimerMs = 2_147_483_647;

/** `setTimeout` for any delay: one longer than {@link maxTimerMs} is chained in steps of it. */
function setSystemTimer(callback: () => void, ms: number): CancelTimer {
  let handle: ReturnType<typeof setTimeout>;
  const arm = (remaining: number) => {
    handle =
      remaining > maxTimerMs
        ? setTimeout(() => arm(remaining - maxTimerMs), maxTimerMs)
        : setTimeout(callback, Math.max(0, remaining));
  };
  arm(ms);
  return () => clearTimeout(handle);
}

/** The real clock: `Date.now()` and `setTimeout`. The default everywhere. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepWith(setSystemTimer, ms, signal),
  setTimer: setSystemTimer,
};
