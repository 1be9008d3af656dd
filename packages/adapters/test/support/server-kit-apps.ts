/**
 * The same small API built on Express and on Fastify with Ballast's server kit, so one suite
 * proves both adapters behave alike: versioned documents on Postgres (ETag / If-Match /
 * updateWithVersion), zod validation, every constraint class from a real violation, health, and
 * a rate-limited route.
 */
import type { AddressInfo } from 'node:net';
import {
  expressErrorHandler,
  expressHealth,
  expressNotFoundHandler,
  expressRateLimitOptions,
  expressValidate,
} from '@ballast/adapters/express';
import {
  fastifyErrorHandler,
  fastifyHealth,
  fastifyNotFoundHandler,
  fastifyRateLimitOptions,
  fastifyValidate,
  type ValidatedRoute,
} from '@ballast/adapters/fastify';
import { updateWithVersion } from '@ballast/adapters/postgres';
import { BallastError, type Logger } from '@ballast/core';
import { type HealthOptions, versionETag, writeIfMatch } from '@ballast/server';
import rateLimitPlugin from '@fastify/rate-limit';
import express from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import Fastify from 'fastify';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';

export interface KitDeps {
  readonly db: Kysely<unknown>;
  readonly schema: string;
  readonly health?: HealthOptions;
  /** Rate limit on GET /limited. */
  readonly limit?: {
    limit: number;
    allowList?: string[];
    /** Key the budget by this request header (a tenant id) instead of the IP. */
    keyHeader?: string;
    expressStore?: Store;
    redis?: unknown;
    prefix?: string;
  };
  readonly logger?: Logger;
}

export interface KitServer {
  readonly url: string;
  close(): Promise<void>;
}

export const docParams = z.object({ id: z.coerce.number().int().positive() });
export const docChanges = z.strictObject({ title: z.string().min(1).max(100) });

/** Creates the tables the routes use. */
export async function createKitSchema(db: Kysely<unknown>, schema: string): Promise<void> {
  const s = sql.id(schema);
  await sql`CREATE SCHEMA ${s}`.execute(db);
  await sql`CREATE TABLE ${sql.id(schema, 'docs')} (
    id serial PRIMARY KEY, title text NOT NULL, version integer NOT NULL DEFAULT 1)`.execute(db);
  await sql`CREATE TABLE ${sql.id(schema, 'users')} (
    id serial PRIMARY KEY, email text NOT NULL CONSTRAINT users_email_key UNIQUE,
    age integer CONSTRAINT users_age_check CHECK (age >= 0))`.execute(db);
  await sql`CREATE TABLE ${sql.id(schema, 'orders')} (
    id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES ${sql.id(schema, 'users')} (id))`.execute(
    db,
  );
}

/** Runs the failure named `kind` (a real constraint violation, broken SQL, or a plain throw). */
export async function fail(
  db: Kysely<unknown>,
  schema: string,
  kind: string,
  n: number,
): Promise<never> {
  const users = sql.id(schema, 'users');
  switch (kind) {
    case 'unique':
      await sql`INSERT INTO ${users} (email) VALUES (${`dup-${n}@x`}), (${`dup-${n}@x`})`.execute(
        db,
      );
      break;
    case 'fk':
      await sql`INSERT INTO ${sql.id(schema, 'orders')} (user_id) VALUES (${-n - 1})`.execute(db);
      break;
    case 'not-null':
      await sql`INSERT INTO ${users} (email) VALUES (NULL)`.execute(db);
      break;
    case 'check':
      await sql`INSERT INTO ${users} (email, age) VALUES (${`c-${n}@x`}, ${-n - 1})`.execute(db);
      break;
    case 'out-of-range':
      // A client's number the column cannot hold (SQLSTATE 22003).
      await sql`INSERT INTO ${users} (email, age) VALUES (${`r-${n}@x`}, ${2 ** 31 + n})`.execute(
        db,
      );
      break;
    case 'not-a-number':
      // A client's text where the column wants a number (SQLSTATE 22P02).
      await sql`INSERT INTO ${users} (email, age) VALUES (${`t-${n}@x`}, ${`${n} years`})`.execute(
        db,
      );
      break;
    case 'sql':
      await sql`SELECT * FROM secret_internal_table WHERE password = ${`hunter${n}`}`.execute(db);
      break;
    case 'ballast':
      throw new BallastError('CASE_CLOSED', { message: `case ${n} closed by SELECT internals` });
    case 'zod':
      z.object({ quantity: z.number() }).parse({ quantity: `not a number ${n}` });
      break;
    default:
      throw new Error(`Unexpected failure ${n}: password=hunter2 at /srv/app/secret.ts:12`);
  }
  throw new Error('the failure did not fail');
}

const constraints = { users_email_key: { code: 'ALREADY_EXISTS', field: 'email' } };

export async function startExpressKit(deps: KitDeps): Promise<KitServer> {
  const { db, schema } = deps;
  const app = express();
  app.use(express.json());
  if (deps.health) app.use(expressHealth(deps.health));
  if (deps.limit) {
    const { limit, allowList, expressStore, keyHeader } = deps.limit;
    app.get(
      '/limited',
      rateLimit(
        expressRateLimitOptions({
          limit,
          ...(allowList ? { allowList } : {}),
          ...(keyHeader ? { key: (req) => req.get(keyHeader) } : {}),
          ...(expressStore ? { store: expressStore } : {}),
        }),
      ),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
  }
  app.post('/docs', expressValidate({ body: docChanges }), async (req, res) => {
    const { rows } = await sql<{ id: number; title: string; version: number }>`
      INSERT INTO ${sql.id(schema, 'docs')} (title) VALUES (${req.body.title}) RETURNING *`.execute(
      db,
    );
    const doc = rows[0] as { id: number; version: number };
    res.status(201).set('ETag', versionETag(doc.version)).json(doc);
  });
  app.get('/docs/:id', expressValidate({ params: docParams }), async (req, res) => {
    const { rows } = await sql<{ id: number; title: string; version: number }>`
      SELECT * FROM ${sql.id(schema, 'docs')} WHERE id = ${req.params.id}`.execute(db);
    const doc = rows[0];
    if (!doc) throw new BallastError('NOT_FOUND');
    res.set('ETag', versionETag(doc.version)).json(doc);
  });
  app.put(
    '/docs/:id',
    expressValidate({ params: docParams, body: docChanges }),
    async (req, res) => {
      const doc = await writeIfMatch(req.get('if-match'), (version) =>
        updateWithVersion<{ version: number }>(
          db,
          'docs',
          { id: req.params.id, version },
          { title: req.body.title },
          { schema, includeCurrent: true },
        ),
      );
      res.set('ETag', versionETag(doc.version)).json(doc);
    },
  );
  app.post('/fail/:kind/:n', async (req) => {
    await fail(db, schema, req.params.kind, Number(req.params.n));
  });
  app.use(expressNotFoundHandler());
  app.use(expressErrorHandler({ constraints, ...(deps.logger ? { logger: deps.logger } : {}) }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function startFastifyKit(deps: KitDeps): Promise<KitServer> {
  const { db, schema } = deps;
  const app = Fastify();
  app.setErrorHandler(
    fastifyErrorHandler({ constraints, ...(deps.logger ? { logger: deps.logger } : {}) }),
  );
  app.setNotFoundHandler(fastifyNotFoundHandler());
  if (deps.health) await app.register(fastifyHealth, deps.health);
  if (deps.limit) {
    const { limit, allowList, redis, prefix, keyHeader } = deps.limit;
    await app.register(async (scope) => {
      await scope.register(
        rateLimitPlugin,
        fastifyRateLimitOptions({
          limit,
          ...(allowList ? { allowList } : {}),
          ...(keyHeader
            ? { key: (request) => request.headers[keyHeader] as string | undefined }
            : {}),
          ...(redis ? { redis, nameSpace: prefix ?? 'kit:' } : {}),
        }),
      );
      scope.get('/limited', async () => ({ ok: true }));
    });
  }
  const create = { body: docChanges };
  app.post<ValidatedRoute<typeof create>>(
    '/docs',
    { preValidation: fastifyValidate(create) },
    async (request, reply) => {
      const { rows } = await sql<{ id: number; title: string; version: number }>`
      INSERT INTO ${sql.id(schema, 'docs')} (title) VALUES (${request.body.title}) RETURNING *`.execute(
        db,
      );
      const doc = rows[0] as { id: number; version: number };
      return reply.code(201).header('etag', versionETag(doc.version)).send(doc);
    },
  );
  const read = { params: docParams };
  app.get<ValidatedRoute<typeof read>>(
    '/docs/:id',
    { preValidation: fastifyValidate(read) },
    async (request, reply) => {
      const { rows } = await sql<{ id: number; title: string; version: number }>`
      SELECT * FROM ${sql.id(schema, 'docs')} WHERE id = ${request.params.id}`.execute(db);
      const doc = rows[0];
      if (!doc) throw new BallastError('NOT_FOUND');
      return reply.header('etag', versionETag(doc.version)).send(doc);
    },
  );
  const edit = { params: docParams, body: docChanges };
  app.put<ValidatedRoute<typeof edit>>(
    '/docs/:id',
    { preValidation: fastifyValidate(edit) },
    async (request, reply) => {
      const doc = await writeIfMatch(request.headers['if-match'], (version) =>
        updateWithVersion<{ version: number }>(
          db,
          'docs',
          { id: request.params.id, version },
          { title: request.body.title },
          { schema, includeCurrent: true },
        ),
      );
      return reply.header('etag', versionETag(doc.version)).send(doc);
    },
  );
  // Fastify's native JSON-schema path: its errors render like zod's.
  app.post(
    '/native',
    {
      schema: {
        body: {
          type: 'object',
          required: ['item'],
          properties: { item: { type: 'string' }, quantity: { type: 'integer' } },
        },
      },
    },
    async () => ({ ok: true }),
  );
  app.post<{ Params: { kind: string; n: string } }>('/fail/:kind/:n', async (request) => {
    await fail(db, schema, request.params.kind, Number(request.params.n));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

export const kitFrameworks = [
  ['Express', startExpressKit],
  ['Fastify', startFastifyKit],
] as const;
