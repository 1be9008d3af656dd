/**
 * The duplicate storm (issue 4, "Prove it") on the Postgres store: 200 concurrent requests with
 * one Idempotency-Key, split between an Express process and a Fastify process that share the
 * store. The handler's side effect (a row in `sales`) must happen exactly once; every response
 * must be the original, its byte-identical replay, or a 409; and a later request must get the
 * replay. Twenty storms, each with its own key.
 */
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
import { describeWith, uniqueSchemaName } from './support/services.js';

describeWith(
  'postgres',
  'duplicate storm: Express + Fastify processes sharing the Postgres store',
  () => {
    const schema = uniqueSchemaName('idem_storm_pg');
    let database: SalesDatabase;
    let servers: ChildServer[] = [];

    beforeAll(async () => {
      database = await createSalesDatabase(schema);
      servers = await Promise.all([
        startSalesServer({ framework: 'express', store: 'postgres', schema }),
        startSalesServer({ framework: 'fastify', store: 'postgres', schema }),
      ]);
    });
    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      await database?.drop();
    });

    it(`runs the handler once per key in ${storms} storms of ${requestsPerStorm} requests`, async () => {
      const tally = { executions: 0, replays: 0, conflicts: 0 };
      for (let run = 0; run < storms; run++) {
        await storm(database, servers, `pg-storm-${run}-${Date.now()}`, run + 1, tally);
      }
      expect(tally.executions).toBe(storms);
      console.info(
        `[idempotency storm] postgres: ${storms} storms × ${requestsPerStorm} requests → ${tally.executions} executions, ${tally.replays} replays, ${tally.conflicts} × 409`,
      );
    }, 60_000);
  },
);
