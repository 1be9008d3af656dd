/**
 * Crashes and known failure modes, across real processes sharing the Postgres store:
 * - the process holding a key is SIGKILLed mid-handler; after the lease (not the 24 h TTL) a
 *   retry executes once and only once, and the duplicates meanwhile get an answer (409), not a
 *   hang;
 * - a 409 or 422 answered to a duplicate is never recorded over the original result;
 * - a client that goes away mid-request or mid-stream leaves no key "in flight".
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChildServer } from './support/child-server.js';
import {
  createSalesDatabase,
  postSale,
  type SalesDatabase,
  startSalesServer,
} from './support/sales-fixture.js';
import { describeWith, uniqueSchemaName } from './support/services.js';

// Short, so the test waits for a real lease to run out in about a second and a half.
const leaseMs = 1_500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes; returns the last value. */
async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 5_000,
) {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await sleep(50);
    value = await read();
  }
  return value;
}

describeWith('postgres', 'idempotency across processes: crashes and known failure modes', () => {
  const schema = uniqueSchemaName('idem_crash');
  let database: SalesDatabase;
  let expressServer: ChildServer;
  let fastifyServer: ChildServer;

  beforeAll(async () => {
    database = await createSalesDatabase(schema);
    [expressServer, fastifyServer] = await Promise.all([
      startSalesServer({ framework: 'express', store: 'postgres', schema, leaseMs }),
      startSalesServer({ framework: 'fastify', store: 'postgres', schema, leaseMs }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([expressServer?.stop(), fastifyServer?.stop()]);
    await database?.drop();
  });

  it('SIGKILL mid-handler: duplicates get 409 at once, and after the lease a retry runs exactly once', async () => {
    const doomed = await startSalesServer({
      framework: 'express',
      store: 'postgres',
      schema,
      leaseMs,
      blockHandler: true,
      name: 'doomed',
    });
    const key = `crash-${Date.now()}`;
    const sale = { amount: 42 };
    const lost = postSale(doomed.url, key, sale).catch((error: unknown) => error);
    await doomed.waitForLine(new RegExp(`^handler-started ${key}$`));

    // Failure mode "a duplicate that hangs without an answer": while the holder runs, a
    // duplicate on another process is answered at once with 409 and a Retry-After.
    const askedAt = Date.now();
    const duplicate = await postSale(fastifyServer.url, key, sale);
    expect(duplicate.status).toBe(409);
    expect(Date.now() - askedAt).toBeLessThan(1_000);
    expect(Number(duplicate.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(duplicate.retryAfter)).toBeLessThanOrEqual(Math.ceil(leaseMs / 1_000));

    await doomed.kill();
    const crashedAt = Date.now();
    expect(await lost).toBeInstanceOf(Error); // the client saw the connection die
    expect(await database.keyRecord(key)).toMatchObject({ state: 'in_flight' });
    expect(await database.countSales(key)).toBe(0);

    // Failure mode "a key held for days after a crash": the record's lease, not its 24 h TTL,
    // decides when the key is free again.
    const record = await database.keyRecord(key);
    expect(record).toBeDefined();
    expect(new Date(record?.lease_expires_at ?? 0).getTime() - crashedAt).toBeLessThanOrEqual(
      leaseMs,
    );
    expect(new Date(record?.expires_at ?? 0).getTime() - crashedAt).toBeGreaterThan(3_600_000);

    // After the lease: ten concurrent retries on the two surviving processes.
    const leaseEnds = new Date(record?.lease_expires_at ?? 0).getTime();
    await sleep(Math.max(0, leaseEnds - Date.now()) + 100);
    const retries = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        postSale(i % 2 === 0 ? expressServer.url : fastifyServer.url, key, sale),
      ),
    );
    const executed = retries.filter((r) => r.status === 201 && !r.replayed);
    expect(executed).toHaveLength(1);
    for (const retry of retries) {
      expect([201, 409]).toContain(retry.status);
      if (retry.status === 201) expect(retry.body).toBe(executed[0]?.body);
    }
    expect(await database.countSales(key)).toBe(1);
    expect(Date.now() - crashedAt).toBeLessThan(leaseMs + 5_000);

    const later = await postSale(expressServer.url, key, sale);
    expect(later).toMatchObject({ status: 201, replayed: true, body: executed[0]?.body });
    expect(await database.countSales(key)).toBe(1);
  }, 30_000);

  it('never records a 409 or 422 over the original: a correct retry gets the original result', async () => {
    const key = `no-overwrite-${Date.now()}`;
    const sale = { amount: 7 };
    const first = postSale(expressServer.url, key, sale, { query: '?delayMs=600' });
    await expressServer.waitForLine(new RegExp(`^handler-started ${key}$`));
    const inFlight = await postSale(fastifyServer.url, key, sale, { query: '?delayMs=600' });
    expect(inFlight.status).toBe(409);
    const reused = await postSale(fastifyServer.url, key, { amount: 8 }, { query: '?delayMs=600' });
    expect(reused.status).toBe(422);
    const original = await first;
    expect(original.status).toBe(201);
    for (const server of [expressServer, fastifyServer]) {
      const retry = await postSale(server.url, key, sale, { query: '?delayMs=600' });
      expect(retry).toMatchObject({ status: 201, replayed: true, body: original.body });
    }
    // The 422 did not poison the key either: the other payload is still refused, not replayed.
    const reusedAgain = await postSale(
      expressServer.url,
      key,
      { amount: 8 },
      { query: '?delayMs=600' },
    );
    expect(reusedAgain.status).toBe(422);
    expect(await database.countSales(key)).toBe(1);
  });

  it('a client that leaves mid-handler does not leave the key in flight: the result is recorded', async () => {
    for (const server of [expressServer, fastifyServer]) {
      const key = `gone-${server === expressServer ? 'express' : 'fastify'}-${Date.now()}`;
      const abort = new AbortController();
      const request = postSale(
        server.url,
        key,
        { amount: 3 },
        {
          query: '?delayMs=400',
          signal: abort.signal,
        },
      ).catch((error: unknown) => error);
      await server.waitForLine(new RegExp(`^handler-started ${key}$`));
      abort.abort();
      expect(await request).toBeInstanceOf(Error);
      const record = await eventually(
        () => database.keyRecord(key),
        (value) => value?.state === 'completed',
      );
      expect(record?.state).toBe('completed');
      const retry = await postSale(
        server === expressServer ? fastifyServer.url : expressServer.url,
        key,
        { amount: 3 },
        { query: '?delayMs=400' },
      );
      expect(retry).toMatchObject({ status: 201, replayed: true });
      expect(await database.countSales(key)).toBe(1);
    }
  });

  it('a client that leaves mid-stream leaves no key in flight (released or completed)', async () => {
    const outcomes: Record<string, string> = {};
    for (const server of [expressServer, fastifyServer]) {
      const name = server === expressServer ? 'express' : 'fastify';
      const key = `stream-${name}-${Date.now()}`;
      const abort = new AbortController();
      const response = await fetch(`${server.url}/stream?chunks=10`, {
        method: 'POST',
        headers: { 'idempotency-key': key, 'content-type': 'application/json' },
        body: '{}',
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body?.getReader();
      await reader?.read(); // the first bytes arrived
      abort.abort();
      await reader?.cancel().catch(() => {});
      // Express streams as the route writes, so the close releases the key; Fastify buffers a
      // stream within maxResponseBytes before sending, so it was recorded before the first byte
      // left. Either way the key is never left in flight for its lease (let alone its TTL).
      const record = await eventually(
        () => database.keyRecord(key),
        (value) => value?.state !== 'in_flight',
        1_000,
      );
      outcomes[name] = record?.state ?? 'released';
    }
    expect(outcomes).toEqual({ express: 'released', fastify: 'completed' });
  });
});
