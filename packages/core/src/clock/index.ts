export type { CancelTimer, Clock } from './clock.js';
export { ManualClock } from './manual-clock.js';
export { systemClock } from './system-clock.js';
