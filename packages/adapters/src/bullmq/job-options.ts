/**
 * The job options a publisher accepts, checked against BullMQ 6.7's `JobsOptions`: a typo or a
 * wrong type fails at start-up with INVALID_OPTIONS instead of being passed to BullMQ, which
 * ignores unknown keys and fails a wrong type only when the first event is added (the relay
 * then retries the batch forever).
 *
 * Refused on purpose: `jobId`, `repeat` and `parent` (the job id is the event id and one event is
 * one job), and `deduplication`/`debounce`: BullMQ drops a job whose dedup id is taken, so a
 * second, different event would be lost without a trace.
 */
import { z } from 'zod';

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// Keep, or how many / how old (seconds) to keep.
const keepJobs = z.union([
  z.boolean(),
  count,
  z
    .strictObject({ age: count.optional(), count: count.optional(), limit: count.optional() })
    .refine((keep) => keep.age !== undefined || keep.count !== undefined, {
      message: 'expected age or count',
    }),
]);

const notSettable = (reason: string) =>
  z.undefined({ error: `not settable: ${reason}` }).optional();
const oneJobPerEvent = notSettable('the job id is the event id, one event is one job');
const noDedup = notSettable('it would drop a different event that shares the dedup id');

export const jobOptionsSchema = z.strictObject({
  attempts: z.number().int().min(1).max(1_000).optional(),
  backoff: z
    .union([
      count,
      z.strictObject({
        type: z.string().min(1).max(100),
        delay: count.optional(),
        jitter: z.number().min(0).max(1).optional(),
      }),
    ])
    .optional(),
  delay: count.optional(),
  priority: z.number().int().min(0).max(2_097_152).optional(),
  lifo: z.boolean().optional(),
  timestamp: count.optional(),
  removeOnComplete: keepJobs.optional(),
  removeOnFail: keepJobs.optional(),
  keepLogs: count.optional(),
  stackTraceLimit: count.optional(),
  sizeLimit: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  failParentOnFailure: z.boolean().optional(),
  continueParentOnFailure: z.boolean().optional(),
  ignoreDependencyOnFailure: z.boolean().optional(),
  removeDependencyOnFailure: z.boolean().optional(),
  telemetry: z
    .strictObject({ metadata: z.string().optional(), omitContext: z.boolean().optional() })
    .optional(),
  jobId: oneJobPerEvent,
  repeat: oneJobPerEvent,
  parent: oneJobPerEvent,
  deduplication: noDedup,
  debounce: noDedup,
});
