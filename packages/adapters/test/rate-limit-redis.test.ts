/**
 * Rate limits shared through Redis: the 101st request in a minute is refused with 429 on both
 * frameworks, in one process and across two processes counting in the same Redis.
 */
import { randomUUID } from 'node:crypto';
import { redisHealthCheck } from '@ballast/adapters/redis';
import { checkHealth } from '@ballast/server';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { RedisStore } from 'rate-limit-redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startChildServer } from './support/child-server.js';
import { startExpressKit, startFastifyKit } from './support/server-kit-apps.js';
import { describeWith, postgresUrl, redisUrl } from './support/services.js';

const script = 'packages/adapters/test/fixtures/rate-limited-server.ts';

async function expectLimitAt(urls: readonly string[], limit: number): Promise<Response> {
  for (let i = 0; i < limit; i++) {
    const response = await fetch(`${urls[i % urls.length]}/limited`);
    expect(response.status, `request ${i + 1}`).toBe(200);
  }
  return fetch(`${urls[limit % urls.length]}/limited`);
}

async function expectRateLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(response.headers.get('ratelimit-remaining')).toBe('0');
  expect(await response.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
}

describeWith('redis', 'rate limiting on Redis', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const freshPrefix = () => {
    const prefix = `ballast-test-rl:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };
  // The kit's Postgres routes are not called here; a pool connects only when used.
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: postgresUrl }) }),
  });

  beforeAll(() => {
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
    await db.destroy();
  });

  it('redisHealthCheck answers up against a live Redis', async () => {
    const report = await checkHealth({ checks: { redis: redisHealthCheck(redis) } });
    expect(report).toMatchObject({ status: 'up', checks: { redis: { status: 'up' } } });
  });

  it('Express with rate-limit-redis: the 101st request in a minute is refused', async () => {
    const store = new RedisStore({
      sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as never,
      prefix: freshPrefix(),
    });
    const kit = await startExpressKit({
      db,
      schema: 'unused',
      limit: { limit: 100, allowList: [], expressStore: store },
    });
    try {
      await expectRateLimited(await expectLimitAt([kit.url], 100));
    } finally {
      await kit.close();
    }
  });

  it('Fastify with @fastify/rate-limit on Redis: the 101st request in a minute is refused', async () => {
    const kit = await startFastifyKit({
      db,
      schema: 'unused',
      limit: { limit: 100, allowList: [], redis, prefix: freshPrefix() },
    });
    try {
      await expectRateLimited(await expectLimitAt([kit.url], 100));
    } finally {
      await kit.close();
    }
  });

  it('two processes sharing Redis count one budget (Express and Fastify): 100 requests over both, then either refuses', async () => {
    // Four children started at once: process start-up (tsx) is most of this test's time.
    const pairs = await Promise.all(
      (['express', 'fastify'] as const).map(async (framework) => {
        const env = { FRAMEWORK: framework, REDIS_URL: redisUrl, REDIS_PREFIX: freshPrefix() };
        return Promise.all([startChildServer(script, env), startChildServer(script, env)]);
      }),
    );
    try {
      for (const [a, b] of pairs) {
        await expectRateLimited(await expectLimitAt([a.url, b.url], 100));
        await expectRateLimited(await fetch(`${b.url}/limited`));
      }
    } finally {
      await Promise.all(pairs.flat().map((child) => child.stop()));
    }
  }, 120_000);
});
