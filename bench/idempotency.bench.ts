/**
 * Idempotency middleware overhead, on loopback, in one run: bare Fastify, Fastify + Ballast with
 * the memory store, Fastify + Ballast with the Postgres store (127.0.0.1:5432, skipped with a
 * note when unreachable), and Fastify + `@node-idempotency/core` with its memory adapter, wired
 * the way its own Fastify plugin wires it. Every request carries a fresh Idempotency-Key, so each
 * one is a first execution (claim → run → record), the path whose cost matters.
 *
 * Each server runs in its own process (`bench/idempotency-server.ts`) so autocannon does not
 * share its event loop; all four are started at once and measured in two interleaved rounds, so
 * a noisy neighbour slows every contender alike. Also recorded: SQL statements per first
 * execution and per replay with the Postgres store, and the duplicate storm (200 concurrent
 * requests, one key) against the peer and against Ballast: how many times the handler ran.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import type { Benchmark } from './bench-result.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const postgresUrl =
  process.env.BALLAST_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const connections = 32;
const rounds = 2;
const secondsPerRound = 4;
const stormSize = 200;

type Mode = 'bare' | 'ballast-memory' | 'ballast-postgres' | 'peer';

interface Server {
  readonly mode: Mode;
  readonly url: string;
  readonly child: ChildProcess;
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 5432) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function startServer(mode: Mode, schema: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/idempotency-server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, MODE: mode, DATABASE_URL: postgresUrl, SCHEMA: schema },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const match = /listening (\d+)/.exec(chunk);
      if (match) resolve({ mode, url: `http://127.0.0.1:${match[1]}`, child });
    });
    child.once('exit', (code) => reject(new Error(`${mode} server exited (${code}): ${stderr}`)));
  });
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
    setTimeout(() => server.child.kill('SIGKILL'), 3_000).unref();
  });
}

/** Requests per second with a fresh key on every request. */
async function measure(
  server: Server,
  seconds: number,
): Promise<{ rps: number; non2xx: number; errors: number }> {
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/sales',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 12, item: 'coffee' }),
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'idempotency-key': `"${randomUUID()}"` },
        }),
      },
    ],
  });
  return { rps: result.requests.average, non2xx: result.non2xx, errors: result.errors };
}

async function stats(server: Server): Promise<{ executions: number; statements: number }> {
  return (await fetch(`${server.url}/stats`)).json() as Promise<{
    executions: number;
    statements: number;
  }>;
}

async function resetStats(server: Server): Promise<void> {
  await fetch(`${server.url}/stats`, { method: 'DELETE' });
}

function post(server: Server, path: string, key: string): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `"${key}"` },
    body: JSON.stringify({ amount: 12, item: 'coffee' }),
  });
}

/** Statements the Postgres store spends on a first execution and on a replay. */
async function countStatements(
  server: Server,
): Promise<{ firstExecution: number; replay: number }> {
  const key = randomUUID();
  await resetStats(server);
  await (await post(server, '/sales', key)).text();
  const first = (await stats(server)).statements;
  await resetStats(server);
  await (await post(server, '/sales', key)).text();
  const replay = (await stats(server)).statements;
  return { firstExecution: first, replay };
}

/** 200 concurrent requests with one key against a 25 ms handler. */
async function duplicateStorm(server: Server) {
  await resetStats(server);
  const key = randomUUID();
  const responses = await Promise.all(
    Array.from({ length: stormSize }, async () => {
      const response = await post(server, '/storm', key);
      await response.text();
      return response.status;
    }),
  );
  const statuses: Record<string, number> = {};
  for (const status of responses) statuses[status] = (statuses[status] ?? 0) + 1;
  return { handlerRuns: (await stats(server)).executions, statuses };
}

const benchmark: Benchmark = async () => {
  const withPostgres = await reachable(postgresUrl);
  const schema = `ballast_bench_${process.pid}`;
  const modes: Mode[] = [
    'bare',
    'ballast-memory',
    ...(withPostgres ? (['ballast-postgres'] as const) : []),
    'peer',
  ];
  const servers = await Promise.all(modes.map((mode) => startServer(mode, schema)));
  try {
    const figures = new Map<Mode, number[]>();
    const failures: Record<string, { non2xx: number; errors: number }> = {};
    for (const server of servers) await measure(server, 1); // warm-up: JIT, pools, caches
    for (let round = 0; round < rounds; round++) {
      for (const server of servers) {
        const { rps, non2xx, errors } = await measure(server, secondsPerRound);
        figures.set(server.mode, [...(figures.get(server.mode) ?? []), rps]);
        const seen = failures[server.mode] ?? { non2xx: 0, errors: 0 };
        failures[server.mode] = { non2xx: seen.non2xx + non2xx, errors: seen.errors + errors };
      }
    }
    const mean = (mode: Mode) => {
      const values = figures.get(mode) ?? [];
      return Math.round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length));
    };
    const bare = mean('bare');
    const ballast = mean('ballast-memory');
    const peer = mean('peer');
    const ballastPostgres = withPostgres ? mean('ballast-postgres') : undefined;

    const byMode = (mode: Mode) => servers.find((server) => server.mode === mode);
    const postgresServer = byMode('ballast-postgres');
    const statements = postgresServer ? await countStatements(postgresServer) : undefined;
    const peerStorm = await duplicateStorm(byMode('peer') as Server);
    const ballastStorm = await duplicateStorm(byMode('ballast-memory') as Server);

    const percentOfBare = Math.round((ballast / bare) * 1_000) / 10;
    const peers: Record<string, number> = { bare };
    if (ballastPostgres !== undefined) peers.ballastPostgres = ballastPostgres;
    return {
      name: 'idempotency',
      unit: 'requests/s (higher is better)',
      ballast,
      peer,
      peerName: '@node-idempotency/core 1.0.11 + storage-adapter-memory (Fastify hooks)',
      ratio: Math.round((ballast / peer) * 1_000) / 1_000,
      peers,
      extra: {
        workload: `POST /sales, fresh Idempotency-Key per request, ${connections} connections, ${rounds} interleaved rounds × ${secondsPerRound} s per contender, each server in its own process`,
        roundsRps: Object.fromEntries(figures),
        ballastMemoryPercentOfBare: percentOfBare,
        target85PercentOfBareMet: percentOfBare >= 85,
        aheadOfPeer: ballast > peer,
        ballastPostgresPercentOfBare:
          ballastPostgres === undefined ? null : Math.round((ballastPostgres / bare) * 1_000) / 10,
        postgres: withPostgres
          ? `Postgres at ${new URL(postgresUrl).host}, pool of 10`
          : `skipped: nothing answers at ${new URL(postgresUrl).host}`,
        postgresStatementsPerFirstExecution: statements?.firstExecution ?? null,
        postgresStatementsPerReplay: statements?.replay ?? null,
        statementTargetMet: statements
          ? statements.firstExecution <= 2 && statements.replay <= 1
          : null,
        failedRequests: failures,
        duplicateStorm: {
          requests: stormSize,
          handlerWorkMs: 25,
          peerHandlerRuns: peerStorm.handlerRuns,
          peerStatuses: peerStorm.statuses,
          ballastHandlerRuns: ballastStorm.handlerRuns,
          ballastStatuses: ballastStorm.statuses,
        },
      },
      summary:
        `Ballast (memory) ${ballast} req/s = ${percentOfBare}% of bare Fastify (${bare}); ` +
        (ballastPostgres === undefined
          ? 'Postgres skipped; '
          : `Postgres store ${ballastPostgres} req/s, ${statements?.firstExecution} statements per first execution, ${statements?.replay} per replay; `) +
        `@node-idempotency/core ${peer} req/s; storm of ${stormSize}: peer handler ran ${peerStorm.handlerRuns}×, Ballast ${ballastStorm.handlerRuns}×`,
    };
  } finally {
    await Promise.all(servers.map(stopServer));
    if (withPostgres) {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
};

export default benchmark;
