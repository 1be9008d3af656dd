/**
 * The server kit over HTTP, Express and Fastify alike, on real Postgres: conditional writes
 * (ETag / If-Match → 200 / 412 / 428), validation with field paths, each constraint class from a
 * real violation, no stack or SQL in any of 50 generated failures, health with a dead and a hung
 * dependency, and the 101st request in a minute refused.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { postgresHealthCheck } from '@ballast/adapters/postgres';
import { S3ObjectStorage } from '@ballast/adapters/s3';
import { storageHealthCheck } from '@ballast/server';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawHttp } from './support/raw-http.js';
import { createKitSchema, type KitServer, kitFrameworks } from './support/server-kit-apps.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

/** A TCP server that accepts connections and never answers: a hung dependency. */
async function startHungServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const kinds = [
  ['unique', 409, 'ALREADY_EXISTS'],
  ['fk', 409, 'REFERENCE_CONFLICT'],
  ['not-null', 400, 'VALUE_REQUIRED'],
  ['check', 400, 'CONSTRAINT_VIOLATED'],
  ['out-of-range', 400, 'VALIDATION_FAILED'],
  ['not-a-number', 400, 'VALIDATION_FAILED'],
  ['zod', 400, 'VALIDATION_FAILED'],
  ['ballast', 409, 'CASE_CLOSED'],
  ['sql', 500, 'INTERNAL'],
  ['unknown', 500, 'INTERNAL'],
] as const;

describeWith('postgres', 'server kit over HTTP', () => {
  const schema = uniqueSchemaName('h5_kit');
  let db: Kysely<unknown>;
  let hung: Awaited<ReturnType<typeof startHungServer>>;
  const extraDbs: Array<Kysely<unknown>> = [];

  beforeAll(async () => {
    db = new Kysely({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: postgresUrl, max: 5 }),
      }),
    });
    await createKitSchema(db, schema);
    hung = await startHungServer();
  });
  afterAll(async () => {
    await hung.close();
    await Promise.all(extraDbs.map((extra) => extra.destroy().catch(() => {})));
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  describe.each(kitFrameworks)('%s', (_name, start) => {
    let server: KitServer;
    const logged: Array<Record<string, unknown>> = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (fields: Record<string, unknown>) => void logged.push(fields),
    };
    beforeAll(async () => {
      server = await start({ db, schema, logger, limit: { limit: 100, allowList: [] } });
    });
    afterAll(() => server.close());

    const call = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);
    const json = { 'content-type': 'application/json' };

    it('ETag / If-Match round trip: 200 with a new ETag, 412 with the current version, 428 without a precondition', async () => {
      const created = await call('/docs', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ title: 'draft' }),
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('"1"');
      const { id } = (await created.json()) as { id: number };

      const read = await call(`/docs/${id}`);
      expect(read.headers.get('etag')).toBe('"1"');

      const saved = await call(`/docs/${id}`, {
        method: 'PUT',
        headers: { ...json, 'if-match': '"1"' },
        body: JSON.stringify({ title: 'mine' }),
      });
      expect(saved.status).toBe(200);
      expect(saved.headers.get('etag')).toBe('"2"');
      expect(await saved.json()).toMatchObject({ id, title: 'mine', version: 2 });

      const stale = await call(`/docs/${id}`, {
        method: 'PUT',
        headers: { ...json, 'if-match': '"1"' },
        body: JSON.stringify({ title: 'lost?' }),
      });
      expect(stale.status).toBe(412);
      expect(stale.headers.get('content-type')).toBe('application/problem+json');
      expect(await stale.json()).toMatchObject({
        code: 'PRECONDITION_FAILED',
        currentVersion: 2,
        current: { id, title: 'mine', version: 2 },
      });

      const blind = await call(`/docs/${id}`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify({ title: 'blind' }),
      });
      expect(blind.status).toBe(428);
      expect(await blind.json()).toMatchObject({ code: 'PRECONDITION_REQUIRED' });

      const missing = await call('/docs/999999', {
        method: 'PUT',
        headers: { ...json, 'if-match': '"1"' },
        body: JSON.stringify({ title: 'x' }),
      });
      expect(missing.status).toBe(404);
      expect((await (await call(`/docs/${id}`)).json()).title).toBe('mine');

      // A version past the largest safe integer can never match: 412, not a 500 from the store.
      const huge = await call(`/docs/${id}`, {
        method: 'PUT',
        headers: { ...json, 'if-match': '"9999999999999999"' },
        body: JSON.stringify({ title: 'huge' }),
      });
      expect(huge.status).toBe(412);
      expect(await huge.json()).toMatchObject({ code: 'PRECONDITION_FAILED' });
    });

    it('If-Match sent twice naming the same version is that version: 200, then 412 once stale', async () => {
      const created = await call('/docs', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ title: 'twice' }),
      });
      const { id } = (await created.json()) as { id: number };
      const put = () =>
        rawHttp(`${server.url}/docs/${id}`, {
          method: 'PUT',
          headers: [
            ['content-type', 'application/json'],
            ['if-match', '"1"'],
            ['if-match', '"1"'],
          ],
          body: JSON.stringify({ title: 'saved' }),
        });
      const saved = await put();
      expect(saved.status, saved.text).toBe(200);
      expect(saved.headers.etag).toBe('"2"');
      const stale = await put();
      expect(stale.status).toBe(412);
      expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED', currentVersion: 2 });
    });

    it('validation: 400 problem+json listing each field path and the part it was in', async () => {
      const response = await call('/docs/abc', {
        method: 'PUT',
        headers: { ...json, 'if-match': '"1"' },
        body: JSON.stringify({ title: 5, extra: 1 }),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as {
        code: string;
        errors: Array<{ path: string; in: string }>;
      };
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.errors.map((e) => `${e.in}:${e.path}`).sort()).toEqual([
        'body:',
        'body:title',
        'params:id',
      ]);
      const malformed = await call('/docs', { method: 'POST', headers: json, body: '{"title":' });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it.each(kinds)('a real %s failure answers %i %s', async (kind, status, code) => {
      const response = await call(`/fail/${kind}/1`, {
        method: 'POST',
        headers: { 'accept-language': 'es' },
      });
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const body = (await response.json()) as Record<string, unknown>;
      expect(body.code).toBe(code);
      if (kind === 'unique') expect(body.field).toBe('email');
      if (kind === 'not-null') expect(body.field).toBe('email');
      if (status === 500) {
        expect(body.detail).toBe('Algo salió mal de nuestro lado.');
        expect(
          logged.some((line) => line.traceId === body.traceId && line.err instanceof Error),
        ).toBe(true);
      }
    });

    it('50 generated failures: never a stack trace, SQL, a path or a secret in a response body', async () => {
      const leaks = [
        /secret_internal_table/i,
        /hunter/i,
        /password/i,
        /\bselect\b/i,
        /\binsert\b/i,
        /\.ts:\d+/,
        /\n\s+at /,
        /users_email_key/,
        /violates/i,
        /relation/i,
      ];
      for (let n = 0; n < 50; n++) {
        const [kind] = kinds[n % kinds.length] as (typeof kinds)[number];
        const response = await call(`/fail/${kind}/${n + 10}`, { method: 'POST' });
        const text = await response.text();
        expect(response.status, kind).toBeLessThan(600);
        for (const leak of leaks) expect(text, `${kind} #${n}`).not.toMatch(leak);
        expect(() => JSON.parse(text)).not.toThrow();
      }
    });

    it('an unknown route is a 404 problem, not an HTML page', async () => {
      const response = await call('/nowhere');
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: 'NOT_FOUND' });
    });

    it('the 101st request in a minute gets 429 problem+json with Retry-After and RateLimit headers', async () => {
      for (let i = 0; i < 100; i++) {
        const ok = await call('/limited');
        expect(ok.status).toBe(200);
        if (i === 0) expect(ok.headers.get('ratelimit-limit')).toBe('100');
      }
      const refused = await call('/limited', { headers: { 'accept-language': 'es' } });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.get('ratelimit-limit')).toBe('100');
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect(refused.headers.get('ratelimit-reset')).toMatch(/^\d+$/);
      expect(await refused.json()).toMatchObject({
        code: 'RATE_LIMITED',
        status: 429,
        detail: 'Demasiadas solicitudes. Inténtalo más tarde.',
        retryable: true,
      });
    });

    it('localhost is allow-listed by the presets', async () => {
      const local = await start({ db, schema, limit: { limit: 1 } });
      try {
        for (let i = 0; i < 3; i++) expect((await fetch(`${local.url}/limited`)).status).toBe(200);
      } finally {
        await local.close();
      }
    });

    it('localhost stays allow-listed when the budget is keyed by tenant', async () => {
      const local = await start({ db, schema, limit: { limit: 1, keyHeader: 'x-tenant' } });
      try {
        for (let i = 0; i < 3; i++) {
          const response = await fetch(`${local.url}/limited`, { headers: { 'x-tenant': 'acme' } });
          expect(response.status).toBe(200);
        }
      } finally {
        await local.close();
      }
    });

    it('health: a dead database, a hung database and a hung storage endpoint each report down within the check timeout', async () => {
      const dead = new Kysely({
        dialect: new PostgresDialect({
          pool: new pg.Pool({
            connectionString: `postgres://postgres@127.0.0.1:${await deadPort()}/test`,
          }),
        }),
      });
      const hungDb = new Kysely({
        dialect: new PostgresDialect({
          pool: new pg.Pool({
            connectionString: `postgres://postgres@127.0.0.1:${hung.port}/test`,
          }),
        }),
      });
      extraDbs.push(dead, hungDb);
      const storage = new S3ObjectStorage({
        bucket: 'health',
        endpoint: `http://127.0.0.1:${hung.port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
        timeoutMs: 30_000,
      });
      const kit = await start({
        db,
        schema,
        health: {
          timeoutMs: 400,
          checks: {
            // The live database gets its own timeout: on a loaded CI machine a first connection
            // can take longer than the 400 ms the dead and hung dependencies are given.
            db: { check: postgresHealthCheck(db), timeoutMs: 2_500 },
            deadDb: postgresHealthCheck(dead),
            hungDb: postgresHealthCheck(hungDb),
            storage: { check: storageHealthCheck(storage), required: false },
          },
        },
      });
      try {
        const started = Date.now();
        const response = await fetch(`${kit.url}/health`);
        const elapsed = Date.now() - started;
        expect(response.status).toBe(503);
        const report = (await response.json()) as {
          status: string;
          timestamp: string;
          checks: Record<string, { status: string; latencyMs: number; error?: string }>;
        };
        expect(elapsed).toBeLessThan(3_000);
        expect(report.status).toBe('down');
        expect(Date.parse(report.timestamp)).toBeGreaterThan(started - 1_000);
        expect(report.checks.db).toMatchObject({ status: 'up' });
        expect(report.checks.deadDb).toMatchObject({ status: 'down' });
        expect(report.checks.deadDb?.latencyMs).toBeLessThanOrEqual(450);
        expect(report.checks.hungDb).toMatchObject({ status: 'down', error: 'TIMEOUT' });
        expect(report.checks.storage).toMatchObject({ status: 'down', error: 'TIMEOUT' });

        const liveResponse = await fetch(`${kit.url}/health/live`);
        expect(liveResponse.status).toBe(200);
        expect(await liveResponse.json()).toMatchObject({ status: 'up' });
      } finally {
        await kit.close();
        storage.client.destroy();
      }
    });
  });

  it('Fastify’s native schema path answers 400 with field paths too', async () => {
    const [, startFastify] = kitFrameworks[1];
    const kit = await startFastify({ db, schema });
    try {
      const response = await fetch(`${kit.url}/native`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ quantity: 1.5 }),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as {
        code: string;
        errors: Array<{ path: string; in: string }>;
      };
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.errors[0]).toMatchObject({ in: 'body' });
    } finally {
      await kit.close();
    }
  });
});
