/**
 * Real services for integration tests. On CI (`CI=true`) a missing service is a failure, so a
 * broken machine can never turn the suite green by skipping; on a laptop the group is skipped
 * with a line that says which service was missing.
 */
import { connect } from 'node:net';
import pg from 'pg';
import { describe } from 'vitest';

export const postgresUrl =
  process.env.BALLAST_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const redisUrl = process.env.BALLAST_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Runs one query on its own connection to `url` and returns its rows. */
export async function queryRows<T extends pg.QueryResultRow>(
  url: string,
  text: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** Runs one statement on its own connection (CREATE/DROP DATABASE cannot run in a pool's transaction). */
export async function runStatement(statement: string, url = postgresUrl): Promise<void> {
  await queryRows(url, statement);
}

/** The shared server's URL for another database on it (one a test created). */
export function databaseUrl(name: string): string {
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function answers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const reachable = {
  postgres: await answers('127.0.0.1', Number(new URL(postgresUrl).port || 5432)),
  redis: await answers('127.0.0.1', Number(new URL(redisUrl).port || 6379)),
};

export type Service = keyof typeof reachable;

/**
 * `describe` for a group that needs `service`. Runs when the service answers; throws on CI when
 * it does not; otherwise skips and says so.
 */
export function describeWith(service: Service, name: string, body: () => void): void {
  if (reachable[service]) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error(`${service} is not answering, and CI=true forbids skipping "${name}".`);
    });
    return;
  }
  console.warn(`[ballast tests] skipped "${name}": ${service} is not answering on 127.0.0.1.`);
  describe.skip(name, body);
}

/** A schema name unique to this test file and run, so parallel files never share tables. */
export function uniqueSchemaName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
}
