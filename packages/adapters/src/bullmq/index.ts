/**
 * `@ballast/adapters/bullmq`: the outbox's queue engine. A publisher that relays events into a
 * BullMQ queue (event id = job id), and consumers over BullMQ workers with Ballast's inbox,
 * versioned events and dead letters. Redis or Postgres backend. Peers: `bullmq`, and `ioredis`
 * (Redis backend) or `pg` (Postgres backend).
 */

// Job status for users and the error of every attempt.
export type { AttemptError } from './attempt-log.js';
// Consumers over BullMQ workers.
export { type Consumer, type ConsumerOptions, createConsumer } from './bullmq-consumer.js';
// The queue engine: which backend, what to connect to, the queue surface Ballast uses.
export type { BullmqBackend, BullmqConnection, BullmqQueue } from './bullmq-engine.js';
// The relay's publisher.
export {
  type BullmqJobOptions,
  type BullmqPublisher,
  type BullmqPublisherOptions,
  createBullmqPublisher,
} from './bullmq-publisher.js';
export {
  type BullmqJob,
  type BullmqJobReader,
  type JobState,
  type JobStatus,
  readJobStatus,
} from './job-status.js';
// Dead letters back to the queue after a fix.
export { type RedriveOptions, redriveDeadLetters } from './redrive.js';
