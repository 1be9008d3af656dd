/** Counts of a write queue by state, as the pending badge and the `change` event show them. */
import type { QueuedWrite } from './queued-write.js';
import type { QueueCounts } from './write-queue-options.js';

/** Counts `writes` by state (`sending` counts as pending: it is not delivered yet). */
export function countsOf(writes: readonly QueuedWrite[]): QueueCounts {
  const counts: QueueCounts = { pending: 0, failed: 0, conflict: 0, total: writes.length };
  for (const { state } of writes) {
    counts[state === 'failed' || state === 'conflict' ? state : 'pending'] += 1;
  }
  return counts;
}

/** Whether two counts are equal (a `change` is emitted only when they differ). */
export const sameCounts = (a: QueueCounts, b: QueueCounts): boolean =>
  (Object.keys(a) as (keyof QueueCounts)[]).every((state) => a[state] === b[state]);
