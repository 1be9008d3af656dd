/**
 * The behaviour every idempotency adapter must show over real HTTP, run against the fetch
 * middleware, Express and Fastify with the memory, Postgres and Redis stores alike: which bodies
 * are "the same request" (no body ≡ empty body ≢ `{}`; numbers exact), what a thrown 4xx or
 * 5xx, a 401 and a streamed response leave behind, what a disconnect releases, what a replay
 * carries, and that bad input (deep JSON, a bad scope, a chunked body over the limit, a corrupt,
 * unsupported or inflating-past-the-limit `Content-Encoding`) is a 4xx answered before any claim.
 * A compressed body is the same request as its decoded bytes sent plain. After every case the
 * key is settled: a retry is never a 409.
 *
 * The server under test is built with `idempotentRouteOptions(store)`, scopes keys by the
 * `x-tenant` header, counts executions per `Idempotency-Key` in `executions`, and mounts:
 * - `POST /orders` → 201 `{ "order": n }` (+ `x-extra: 1`, not replayed)
 * - `POST /throws-4xx` → throws `BallastError('VALIDATION_FAILED')` (400)
 * - `POST /throws-5xx` → throws `new Error('boom')` (500)
 * - `POST /unauthorized` → 401 `{ "error": "login" }`
 * - `POST /stream-small` → `a;b;c` in three chunks (fits `maxResponseBytes`)
 * - `POST /stream-large` → 10 chunks of 64 bytes (over `maxResponseBytes`)
 * - `POST /stream-slow` → a 20-byte chunk every 10 ms, 25 of them (over `maxResponseBytes`)
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { IdempotencyStore } from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawResponse, rawHttp } from './raw-http.js';

/** What each adapter's server is built with. */
export function idempotentRouteOptions(store: IdempotencyStore) {
  return {
    store,
    required: true,
    maxBodyBytes: 1_000,
    maxResponseBytes: 256,
    leaseMs: 30_000,
  };
}

export interface IdempotentRouteServer {
  readonly baseUrl: string;
  /** Route executions by `Idempotency-Key`. */
  readonly executions: Map<string, number>;
  close(): Promise<void>;
}

/** Counts one execution of the request's key. */
export function countExecution(executions: Map<string, number>, key: unknown): number {
  const name = String(key);
  const n = (executions.get(name) ?? 0) + 1;
  executions.set(name, n);
  return n;
}

/** The chunks `/stream-large` sends. */
export const largeChunk = 'x'.repeat(63) + '\n';

export interface ContractOptions {
  /**
   * A body parser runs before the middleware (Express with `express.json()` first): number
   * literals a double cannot hold are lost before Ballast sees them, and a chunked body is held
   * to the limit by its parsed size, so those two cases are not checked; the parser's own
   * refusals (of a content coding, say) are answered by the app's error handler, not as
   * problem+json, so only their status is checked.
   */
  readonly parserRunsFirst?: boolean;
  /**
   * The front end decodes `Content-Encoding: br` (the fetch middleware does where the runtime's
   * `DecompressionStream` does, which Node 20's does not; there it answers 415). Default true.
   */
  readonly decodesBrotli?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function idempotentRouteContract(
  name: string,
  start: () => Promise<IdempotentRouteServer>,
  { parserRunsFirst = false, decodesBrotli = true }: ContractOptions = {},
) {
  describe(`${name}: idempotent route contract`, () => {
    let server: IdempotentRouteServer;
    let counter = 0;
    const freshKey = (label: string) =>
      `${label}-${Date.now().toString(36)}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

    const send = (
      path: string,
      key: string | null,
      init: { body?: string; headers?: Array<[string, string]>; tenant?: string | null } = {},
    ): Promise<RawResponse> =>
      rawHttp(`${server.baseUrl}${path}`, {
        method: 'POST',
        headers: [
          ...(key === null ? [] : [['idempotency-key', key] as [string, string]]),
          ...(init.tenant === null
            ? []
            : [['x-tenant', init.tenant ?? 'tenant-a'] as [string, string]]),
          ...(init.headers ?? []),
        ],
        ...(init.body === undefined ? {} : { body: init.body }),
      });
    const json = (body: string): { body: string; headers: Array<[string, string]> } => ({
      body,
      headers: [['content-type', 'application/json']],
    });
    const runs = (key: string) => server.executions.get(key) ?? 0;
    /** A keyed JSON POST through Node's client, for framing `rawHttp` cannot send. */
    const openRequest = (
      path: string,
      key: string,
      headers: Record<string, string>,
      onResponse: (res: IncomingMessage) => void,
    ) => {
      const url = new URL(`${server.baseUrl}${path}`);
      return httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            'idempotency-key': key,
            'x-tenant': 'tenant-a',
            'content-type': 'application/json',
            ...headers,
          },
        },
        onResponse,
      );
    };

    async function expectProblem(response: RawResponse, status: number, code: string) {
      expect(response.status, response.text).toBe(status);
      expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ code, status });
      expect(response.text).not.toMatch(/\bat .*\.(?:ts|js):\d+/);
    }

    /** The key is settled: the same request now replays or runs again, never waits (409). */
    async function expectSettled(path: string, key: string, init: Parameters<typeof send>[2]) {
      const again = await send(path, key, init);
      expect(again.status, again.text).not.toBe(409);
      return again;
    }

    // Started once per suite, in hooks so that the cases pass in any order; each uses its own
    // keys.
    beforeAll(async () => {
      server = await start();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('no body and an empty body are the same request; {} is another (422)', async () => {
      const key = freshKey('empty');
      // What fetch() sends for a POST without a body: Content-Length: 0 and no Content-Type.
      const first = await send('/orders', key, { body: '' });
      expect(first.status, first.text).toBe(201);
      const empty = await send('/orders', key, {
        body: '',
        headers: [['content-type', 'text/plain']],
      });
      expect(empty.status, empty.text).toBe(201);
      expect(empty.headers['idempotent-replayed']).toBe('true');
      expect(empty.text).toBe(first.text);
      await expectProblem(await send('/orders', key, json('{}')), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(runs(key)).toBe(1);
      // And the other way round: {} first, then no body is another request.
      const other = freshKey('object');
      expect((await send('/orders', other, json('{}'))).status).toBe(201);
      await expectProblem(
        await send('/orders', other, { body: '' }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
    });

    it('an empty keyed body never sticks the key: 201, then the replay', async () => {
      const key = freshKey('empty-body');
      const first = await send('/orders', key, {
        body: '',
        headers: [['content-type', 'text/plain']],
      });
      expect(first.status, first.text).toBe(201);
      const again = await send('/orders', key, {
        body: '',
        headers: [['content-type', 'text/plain']],
      });
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(runs(key)).toBe(1);
    });

    it('records a thrown 4xx and replays it; the route runs once', async () => {
      const key = freshKey('throw4');
      const first = await send('/throws-4xx', key, json('{"a":1}'));
      expect(first.status).toBe(400);
      const again = await send('/throws-4xx', key, json('{"a":1}'));
      expect(again.status).toBe(400);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(runs(key)).toBe(1);
    });

    it.each([
      ['a thrown 5xx', '/throws-5xx', 500],
      ['a 401, so the real user later runs with the same key', '/unauthorized', 401],
    ] as const)('releases the key on %s: the retry runs again', async (_case, path, status) => {
      const key = freshKey(`released-${status}`);
      expect((await send(path, key, json('{"a":1}'))).status).toBe(status);
      const again = await send(path, key, json('{"a":1}'));
      expect(again.status).toBe(status);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(runs(key)).toBe(2);
    });

    it('records a streamed response that fits and replays it whole', async () => {
      const key = freshKey('stream-small');
      const first = await send('/stream-small', key, json('{}'));
      expect(first.status).toBe(200);
      expect(first.text).toBe('a;b;c');
      const again = await send('/stream-small', key, json('{}'));
      expect(again.text).toBe('a;b;c');
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(runs(key)).toBe(1);
    });

    it('sends a streamed response over maxResponseBytes whole and releases the key', async () => {
      const key = freshKey('stream-large');
      const first = await send('/stream-large', key, json('{}'));
      expect(first.text).toBe(largeChunk.repeat(10));
      // The release follows the end of the stream.
      let again = await send('/stream-large', key, json('{}'));
      for (let tries = 0; again.status === 409 && tries < 50; tries++) {
        await sleep(20);
        again = await send('/stream-large', key, json('{}'));
      }
      expect(again.status).toBe(200);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(runs(key)).toBe(2);
    });

    it('releases the key when the client disconnects mid-stream', async () => {
      const key = freshKey('disconnect');
      await new Promise<void>((resolve, reject) => {
        const req = openRequest('/stream-slow', key, { 'content-length': '2' }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => resolve());
        req.setTimeout(5_000, () => reject(new Error('no first chunk')));
        req.end('{}');
      });
      let again = await send('/orders', freshKey('unrelated'));
      for (let tries = 0; tries < 100; tries++) {
        again = await send('/stream-slow', key, json('{}'));
        if (again.status !== 409) break;
        await sleep(20);
      }
      expect(again.status).toBe(200);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(runs(key)).toBe(2);
    }, 15_000);

    it('replays status, content-type and body with Idempotent-Replayed, not other headers', async () => {
      const key = freshKey('headers');
      const first = await send('/orders', key, json('{"item":"coffee","amount":12}'));
      expect(first.status).toBe(201);
      expect(first.headers['x-extra']).toBe('1');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await send('/orders', key, json('{ "amount": 12, "item": "coffee" }'));
      expect(again.status).toBe(201);
      expect(String(again.headers['content-type'])).toMatch(/^application\/json/);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['x-extra']).toBeUndefined();
      expect(again.text).toBe(first.text);
    });

    it('answers JSON nested deeper than maxJsonDepth (256) with 400 before any claim, never a 5xx', async () => {
      const key = freshKey('deep');
      const deep = `${'['.repeat(450)}${']'.repeat(450)}`;
      const refused = await send('/orders', key, json(deep));
      expect(refused.status, refused.text).toBe(400);
      if (String(refused.headers['content-type']).startsWith('application/problem+json')) {
        expect(refused.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      expect(runs(key)).toBe(0);
      // Nothing was claimed: the same key with a sound body runs at once.
      expect((await send('/orders', key, json('{"a":1}'))).status).toBe(201);
    });

    it('refuses a client-controlled scope that is empty or too long with 400, not 500', async () => {
      for (const tenant of ['', 't'.repeat(256)]) {
        const key = freshKey('scope');
        await expectProblem(
          await send('/orders', key, { ...json('{"a":1}'), tenant }),
          400,
          'VALIDATION_FAILED',
        );
        expect(runs(key)).toBe(0);
      }
    });

    it('keeps tenants apart: tenant B with tenant A’s key runs on its own', async () => {
      const key = freshKey('tenant');
      const a = await send('/orders', key, { ...json('{"card":"4242"}'), tenant: 'tenant-a' });
      const b = await send('/orders', key, { ...json('{"card":"4242"}'), tenant: 'tenant-b' });
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      expect(b.headers['idempotent-replayed']).toBeUndefined();
      expect(runs(key)).toBe(2);
    });

    it.skipIf(parserRunsFirst)(
      'tells numbers apart that a double merges (9007199254740993 vs …992, 1e400 vs null)',
      async () => {
        for (const [first, second] of [
          ['{"amount":9007199254740993}', '{"amount":9007199254740992}'],
          ['{"amount":1e400}', '{"amount":null}'],
        ] as const) {
          const key = freshKey('numbers');
          expect((await send('/orders', key, json(first))).status).toBe(201);
          await expectProblem(
            await send('/orders', key, json(second)),
            422,
            'IDEMPOTENCY_KEY_REUSED',
          );
          expect((await send('/orders', key, json(first))).headers['idempotent-replayed']).toBe(
            'true',
          );
        }
      },
    );

    it('holds a chunked body to maxBodyBytes like a declared one: 413, route not run', async () => {
      const key = freshKey('chunked');
      const big = JSON.stringify({ filler: 'x'.repeat(5_000) });
      const status = await new Promise<number>((resolve, reject) => {
        const req = openRequest('/orders', key, { 'transfer-encoding': 'chunked' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        for (let offset = 0; offset < big.length; offset += 500) {
          req.write(big.slice(offset, offset + 500));
        }
        req.end();
      });
      expect(status).toBe(413);
      expect(runs(key)).toBe(0);
      await expectSettled('/orders', key, json('{"a":1}'));
    });

    /** A keyed JSON POST whose body is `bytes` sent with `Content-Encoding: coding`. */
    const encoded = (path: string, key: string, coding: string, bytes: Buffer) =>
      rawHttp(`${server.baseUrl}${path}`, {
        method: 'POST',
        headers: [
          ['idempotency-key', key],
          ['x-tenant', 'tenant-a'],
          ['content-type', 'application/json'],
          ['content-encoding', coding],
        ],
        body: bytes,
      });
    /** A refusal: problem+json with `code`, unless a parser that ran first answered it. */
    async function expectRefused(response: RawResponse, status: number, code: string) {
      if (parserRunsFirst) expect(response.status, response.text).toBe(status);
      else await expectProblem(response, status, code);
    }

    it('decodes gzip, deflate (zlib and raw) and br bodies: the same JSON compressed or plain is one request', async () => {
      const key = freshKey('coded');
      const body = JSON.stringify({ item: 'café', quantity: 2 });
      const plain = await send('/orders', key, json(body));
      expect(plain.status, plain.text).toBe(201);
      const codings: Array<[string, Buffer]> = [
        ['gzip', gzipSync(body)],
        ['deflate', deflateSync(body)],
        ['GZIP', gzipSync(body)],
      ];
      // Raw deflate (no zlib header), which some clients send: body-parser 2.4 refuses it (400).
      if (!parserRunsFirst) codings.push(['deflate', deflateRawSync(body)]);
      if (decodesBrotli) codings.push(['br', brotliCompressSync(body)]);
      for (const [coding, bytes] of codings) {
        const replay = await encoded('/orders', key, coding, bytes);
        expect(replay.status, `${coding}: ${replay.text}`).toBe(201);
        expect(replay.headers['idempotent-replayed'], coding).toBe('true');
        expect(replay.json()).toEqual(plain.json());
      }
      expect(runs(key)).toBe(1);
      // Compressed first, then plain: the first request ran on the decoded body.
      const other = freshKey('coded');
      const first = await encoded('/orders', other, 'gzip', gzipSync(body));
      expect(first.status, first.text).toBe(201);
      const again = await send('/orders', other, json(body));
      expect(again.headers['idempotent-replayed']).toBe('true');
      // Another JSON under the same key is another request, compressed or not.
      const reused = await encoded('/orders', other, 'gzip', gzipSync('{"item":"tea"}'));
      await expectRefused(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(runs(other)).toBe(1);
    });

    it('answers an unsupported or stacked Content-Encoding with 415 before any claim', async () => {
      const body = '{"a":1}';
      const cases: Array<[string, Buffer]> = [
        ['compress', Buffer.from(body)],
        ['snappy', Buffer.from(body)],
        ['gzip, gzip', gzipSync(gzipSync(body))],
      ];
      if (!decodesBrotli) cases.push(['br', brotliCompressSync(body)]);
      for (const [coding, bytes] of cases) {
        const key = freshKey('unsupported-coding');
        await expectRefused(
          await encoded('/orders', key, coding, bytes),
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        );
        expect(runs(key)).toBe(0);
        await expectSettled('/orders', key, json(body));
      }
    });

    it('answers a corrupt compressed body with 400 before any claim, never a 5xx', async () => {
      const body = gzipSync('{"a":1}');
      const truncated = body.subarray(0, body.length - 6);
      const cases: Array<[string, Buffer]> = [
        ['gzip', Buffer.from('not gzip at all')],
        ['gzip', truncated],
        ['deflate', Buffer.from('not deflate')],
      ];
      if (decodesBrotli) cases.push(['br', Buffer.from('not brotli at all')]);
      for (const [coding, bytes] of cases) {
        const key = freshKey('corrupt');
        await expectRefused(await encoded('/orders', key, coding, bytes), 400, 'VALIDATION_FAILED');
        expect(runs(key)).toBe(0);
        await expectSettled('/orders', key, json('{"a":1}'));
      }
    });

    it('holds the inflated body to maxBodyBytes: a small gzip of many zeros is 413', async () => {
      const key = freshKey('bomb');
      // 200 kB of JSON from a few hundred bytes, under the 1,000-byte limit as sent (with
      // express.json() first, its own 100 kB limit, also applied to the inflated size, answers).
      const bomb = gzipSync(`{"zeros":"${'0'.repeat(200_000)}"}`, { level: 9 });
      expect(bomb.length).toBeLessThan(1_000);
      await expectRefused(await encoded('/orders', key, 'gzip', bomb), 413, 'PAYLOAD_TOO_LARGE');
      expect(runs(key)).toBe(0);
      await expectSettled('/orders', key, json('{"a":1}'));
    });
  });
}
