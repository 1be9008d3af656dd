/**
 * Opening BullMQ queues and workers on either of BullMQ's backends: Redis (its default, through
 * ioredis) or PostgreSQL (`createPostgresBackend`, the same `Queue`/`Worker` API over a `bullmq`
 * schema). The publisher and the consumer share this so both ends of a queue are opened alike.
 */
import {
  createPostgresBackend,
  type JobsOptions,
  type PostgresConnectionOptions,
  type Processor,
  Queue,
  type ConnectionOptions as RedisConnectionOptions,
  Worker,
  type WorkerOptions,
  withBackend,
} from 'bullmq';
import { z } from 'zod';

/** Which BullMQ backend a queue lives on. */
export type BullmqBackend = 'redis' | 'postgres';

/**
 * What to connect to: for `'redis'`, BullMQ's Redis connection options or an ioredis client;
 * for `'postgres'`, a connection string, a `pg` pool config (`{ connectionString, schema,
 * migrate: true }`) or a `pg.Pool`.
 */
export type BullmqConnection = RedisConnectionOptions | PostgresConnectionOptions;

/** The queue operations Ballast uses. A BullMQ `Queue` on either backend satisfies it. */
export interface BullmqQueue {
  readonly name: string;
  addBulk(jobs: { name: string; data: unknown; opts?: JobsOptions }[]): Promise<unknown[]>;
  close(): Promise<void>;
}

export const backendSchema = z.enum(['redis', 'postgres']).default('redis');

export const connectionSchema = z.custom<BullmqConnection>(
  (value) => typeof value === 'string' || (typeof value === 'object' && value !== null),
  { message: 'expected BullMQ connection options, a connection string or a client' },
);

/** BullMQ queue names become Redis key parts and Postgres rows; keep them plain. */
export const queueNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only');

const postgres = withBackend(createPostgresBackend);

// BullMQ's classes are generic over backend and connection; Ballast only needs the shared
// surface, so one cast per constructor keeps the two backends behind one type here.
export type AnyQueue = Queue;
export type AnyWorker = Worker;

export function openQueue(name: string, connection: BullmqConnection, backend: BullmqBackend) {
  if (backend === 'postgres') {
    return new postgres.Queue(name, {
      connection: connection as PostgresConnectionOptions,
    }) as unknown as AnyQueue;
  }
  return new Queue(name, { connection: connection as RedisConnectionOptions });
}

export function openWorker(
  name: string,
  processor: Processor,
  connection: BullmqConnection,
  backend: BullmqBackend,
  options: Omit<WorkerOptions, 'connection'>,
) {
  if (backend === 'postgres') {
    return new postgres.Worker(name, processor, {
      ...options,
      connection: connection as PostgresConnectionOptions,
    }) as unknown as AnyWorker;
  }
  return new Worker(name, processor, {
    ...options,
    connection: connection as RedisConnectionOptions,
  });
}
