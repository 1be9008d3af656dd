// Type-checked with `tsc --noEmit` (strict, module nodenext) against the installed tarballs:
// every documented entry point resolves, with its types, the way a user's project sees it.
import { createBullmqPublisher, type createConsumer } from '@ballast/adapters/bullmq';
import { expressIdempotency, expressTraceContext } from '@ballast/adapters/express';
import { fastifyIdempotency, fastifyTraceContext } from '@ballast/adapters/fastify';
import { FileSystemObjectStorage } from '@ballast/adapters/fs';
import { PostgresIdempotencyStore } from '@ballast/adapters/postgres';
import { createRedisInbox, RedisIdempotencyStore } from '@ballast/adapters/redis';
import { createClient, createMemoryQueueStorage, createWriteQueue } from '@ballast/client';
import {
  BallastError,
  type Clock,
  createCircuitBreaker,
  type IdempotencyStore,
  isBallastError,
  MemoryIdempotencyStore,
  type ObjectStorage,
  type RetryOptions,
  retry,
} from '@ballast/core';
import { type Awaitable, isPromiseLike, parseOptions } from '@ballast/core/adapter-kit';
import { failOnCall, injectFaults } from '@ballast/core/testing';
import { type FetchHandler, idempotency, problemResponse } from '@ballast/server';
import { createIdempotencyGuard } from '@ballast/server/adapter-kit';
import express from 'express';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect } from 'kysely';

const options: RetryOptions = { delays: [100, 200] };
export const fetched: Promise<number> = retry(async ({ attempt }) => attempt, options);
export const breaker = createCircuitBreaker();

const store: IdempotencyStore = new MemoryIdempotencyStore();
const handler: FetchHandler = async () => new Response('ok');
export const guarded: FetchHandler = idempotency({ store, scope: 'global' })(handler);
export const guard = createIdempotencyGuard({ store });
export const problem: Response = problemResponse(new BallastError('RATE_LIMITED'));

export function describeFailure(error: unknown): string {
  return isBallastError(error) ? `${error.code} ${error.status}` : 'unknown';
}

export function isAsync<T>(value: Awaitable<T>): boolean {
  return isPromiseLike(value);
}
export const parse = parseOptions;

const app = express();
app.use(expressTraceContext());
app.post(
  '/sales',
  expressIdempotency({ store, scope: (req) => req.get('x-tenant-id') ?? '', required: true }),
);

const fastify = Fastify();
await fastify.register(fastifyTraceContext);
await fastify.register(fastifyIdempotency, { store, scope: 'global' });

const db = new Kysely<Record<string, never>>({
  dialect: new PostgresDialect({ pool: {} as never }),
});
export const pgStore: IdempotencyStore = new PostgresIdempotencyStore({ db });
export const redisStore: IdempotencyStore = new RedisIdempotencyStore({
  redis: new Redis({ lazyConnect: true }),
});

export const storages: ObjectStorage[] = [
  new FileSystemObjectStorage({ directory: '/tmp/documents' }),
  injectFaults(new FileSystemObjectStorage({ directory: '/tmp/x' }), {
    failOn: failOnCall('put', 1),
  }),
];
export type { Clock };

export const client = createClient({ baseUrl: 'http://127.0.0.1:1' });
export const queue = createWriteQueue({ client, storage: createMemoryQueueStorage() });

export const eventPublisher = createBullmqPublisher({
  queue: 'events',
  connection: { host: '127.0.0.1', port: 1, lazyConnect: true },
});
export const redisInbox = createRedisInbox({ redis: new Redis({ lazyConnect: true }) });
export type { createConsumer };
