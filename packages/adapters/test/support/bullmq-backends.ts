/**
 * BullMQ on both of its backends for integration tests: Redis (the shared server, a queue name
 * unique to the test) and Postgres (the shared server, a `bullmq` schema unique to the test,
 * dropped afterwards). Each backend's group needs its service (see `describeWith`).
 */
import type { BullmqBackend, BullmqConnection } from '@ballast/adapters/bullmq';
import { createPostgresBackend, Queue, withBackend } from 'bullmq';
import pg from 'pg';
import { describeWith, postgresUrl, redisUrl, uniqueSchemaName } from './services.js';

export interface BullmqTestBackend {
  readonly backend: BullmqBackend;
  readonly connection: BullmqConnection;
  /** A queue name unique to this run. */
  queueName(label: string): string;
  /** A `Queue` on this backend (the test closes it). */
  openQueue(name: string): Queue;
  /** Removes what the tests left (the Postgres schema; the Redis queues opened here). */
  cleanUp(): Promise<void>;
}

const postgresQueue = withBackend(createPostgresBackend);

export function bullmqTestBackend(backend: BullmqBackend): BullmqTestBackend {
  const names: string[] = [];
  const queueName = (label: string) => {
    const name = uniqueSchemaName(`q_${label}`);
    names.push(name);
    return name;
  };
  if (backend === 'redis') {
    const url = new URL(redisUrl);
    const connection = { host: url.hostname, port: Number(url.port || 6379) };
    const openQueue = (name: string) => new Queue(name, { connection });
    return {
      backend,
      connection,
      queueName,
      openQueue,
      async cleanUp() {
        for (const name of names) {
          const queue = openQueue(name);
          await queue.obliterate({ force: true }).catch(() => {});
          await queue.close();
        }
      },
    };
  }
  const schema = uniqueSchemaName('bullmq');
  const connection = { connectionString: postgresUrl, schema, migrate: true, max: 3 };
  return {
    backend,
    connection,
    queueName,
    openQueue: (name) => new postgresQueue.Queue(name, { connection }) as unknown as Queue,
    async cleanUp() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/** Runs `body` once per BullMQ backend, each in a group that needs its service. */
export function describeEachBullmqBackend(
  name: string,
  body: (backend: BullmqTestBackend) => void,
): void {
  describeWith('redis', `${name} (BullMQ on Redis)`, () => body(bullmqTestBackend('redis')));
  describeWith('postgres', `${name} (BullMQ on Postgres)`, () =>
    body(bullmqTestBackend('postgres')),
  );
}

/** Polls `check` until it returns a value other than `undefined`/`false`, or fails. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > giveUpAt)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
