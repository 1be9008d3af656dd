/**
 * The duplicate storm (issue 4, "Prove it") on the Redis store: 200 concurrent requests with one
 * Idempotency-Key, split between an Express process and a Fastify process that share the store.
 * The side effect is a row in a Postgres `sales` table, counted there: exactly one per key.
 * Twenty storms, each with its own key.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChildServer } from './support/child-server.js';
import {
  createSalesDatabase,
  requestsPerStorm,
  type SalesDatabase,
  startSalesServer,
  storm,
  storms,
} from './support/sales-fixture.js';
import { describeWith, redisUrl, uniqueSchemaName } from './support/services.js';

describeWith(
  'postgres',
  'duplicate storm: Express + Fastify processes sharing the Redis store',
  () => {
    describeWith('redis', 'with the sales table in Postgres', () => {
      const schema = uniqueSchemaName('idem_storm_redis');
      const redisPrefix = `${schema}:idem:`;
      let database: SalesDatabase;
      let servers: ChildServer[] = [];

      beforeAll(async () => {
        database = await createSalesDatabase(schema);
        servers = await Promise.all([
          startSalesServer({ framework: 'express', store: 'redis', schema, redisPrefix }),
          startSalesServer({ framework: 'fastify', store: 'redis', schema, redisPrefix }),
        ]);
      });
      afterAll(async () => {
        await Promise.all(servers.map((server) => server.stop()));
        await database?.drop();
        const redis = new Redis(redisUrl);
        const keys = await redis.keys(`${redisPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      });

      it(`runs the handler once per key in ${storms} storms of ${requestsPerStorm} requests`, async () => {
        const tally = { executions: 0, replays: 0, conflicts: 0 };
        for (let run = 0; run < storms; run++) {
          await storm(database, servers, `redis-storm-${run}-${Date.now()}`, run + 1, tally);
        }
        expect(tally.executions).toBe(storms);
        console.info(
          `[idempotency storm] redis: ${storms} storms × ${requestsPerStorm} requests → ${tally.executions} executions, ${tally.replays} replays, ${tally.conflicts} × 409`,
        );
      }, 60_000);
    });
  },
);
