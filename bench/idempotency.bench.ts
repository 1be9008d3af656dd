/**
 * Idempotency middleware overhead, on loopback, in one run: bare Fastify, Fastify + Ballast with
 * the memory store as constructed by default (the headline figure) and again keeping every key
 * of the run as the peer does, Fastify + Ballast with the Postgres store (127.0.0.1:5432,
 * skipped with a note when unreachable), and Fastify + `@node-idempotency/core` with its memory
 * adapter, wired the way its own Fastify plugin wires it. Every request carries a fresh
 * Idempotency-Key, so each one is a first execution (claim → run → record), the path whose cost
 * matters.
 *
 * Each server runs in its own process (`bench/idempotency-server.ts`) so autocannon does not
 * share its event loop; all are started at once and measured in interleaved rounds, so a noisy
 * neighbour slows every contender alike. Requests per second depend on how much of the machine
 * the load generator leaves the server, so each server's own CPU time per request is recorded
 * too. Also recorded: SQL statements per first execution and per replay with the Postgres
 * store, and the duplicate storm (200 concurrent requests, one key) against the peer and
 * against Ballast: how many times the handler ran.
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
const rounds = 3;
const secondsPerRound = 4;
const stormSize = 200;

type Mode = 'bare' | 'ballast-memory' | 'ballast-memory-retained' | 'ballast-postgres' | 'peer';

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

/**
 * Requests per second with a fresh key on every request, and the server's CPU time (user +
 * system) per request: a figure that does not depend on how much of the machine the load
 * generator took that round.
 */
async function measure(
  server: Server,
  seconds: number,
): Promise<{ rps: number; cpuMicrosPerRequest: number; non2xx: number; errors: number }> {
  const cpuBefore = (await stats(server)).cpuMicros;
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
  const cpuMicros = (await stats(server)).cpuMicros - cpuBefore;
  return {
    rps: result.requests.average,
    cpuMicrosPerRequest: cpuMicros / Math.max(1, result.requests.total),
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

interface ServerStats {
  executions: number;
  statements: number;
  cpuMicros: number;
}

async function stats(server: Server): Promise<ServerStats> {
  return (await fetch(`${server.url}/stats`)).json() as Promise<ServerStats>;
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
    'ballast-memory-retained',
    ...(withPostgres ? (['ballast-postgres'] as const) : []),
    'peer',
  ];
  const servers = await Promise.all(modes.map((mode) => startServer(mode, schema)));
  try {
    const figures = new Map<Mode, number[]>();
    const cpuFigures = new Map<Mode, number[]>();
    const failures: Record<string, { non2xx: number; errors: number }> = {};
    for (const server of servers) await measure(server, 1); // warm-up: JIT, pools, caches
    for (let round = 0; round < rounds; round++) {
      for (const server of servers) {
        const { rps, cpuMicrosPerRequest, non2xx, errors } = await measure(server, secondsPerRound);
        figures.set(server.mode, [...(figures.get(server.mode) ?? []), rps]);
        cpuFigures.set(server.mode, [...(cpuFigures.get(server.mode) ?? []), cpuMicrosPerRequest]);
        const seen = failures[server.mode] ?? { non2xx: 0, errors: 0 };
        failures[server.mode] = { non2xx: seen.non2xx + non2xx, errors: seen.errors + errors };
      }
    }
    const average = (values: readonly number[]) =>
      values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
    const mean = (mode: Mode) => Math.round(average(figures.get(mode) ?? []));
    const cpuPerRequest = Object.fromEntries(
      modes.map((mode) => [mode, Math.round(average(cpuFigures.get(mode) ?? []) * 10) / 10]),
    );
    const bare = mean('bare');
    const ballast = mean('ballast-memory');
    const ballastRetained = mean('ballast-memory-retained');
    const peer = mean('peer');
    const ballastPostgres = withPostgres ? mean('ballast-postgres') : undefined;

    const byMode = (mode: Mode) => servers.find((server) => server.mode === mode);
    const postgresServer = byMode('ballast-postgres');
    const statements = postgresServer ? await countStatements(postgresServer) : undefined;
    const peerStorm = await duplicateStorm(byMode('peer') as Server);
    const ballastStorm = await duplicateStorm(byMode('ballast-memory') as Server);

    const percentOfBare = Math.round((ballast / bare) * 1_000) / 10;
    const peers: Record<string, number> = { bare, ballastMemoryRetained: ballastRetained };
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
        stores:
          'ballast-memory: new MemoryIdempotencyStore() (bounded at 256 MiB by default); ballast-memory-retained: maxBytes 2 ** 40 (unbounded, like the peer); peer: MemoryStorageAdapter (unbounded)',
        roundsRps: Object.fromEntries(figures),
        serverCpuMicrosPerRequest: cpuPerRequest,
        ballastMemoryAddedCpuMicrosPerRequest:
          Math.round(((cpuPerRequest['ballast-memory'] ?? 0) - (cpuPerRequest.bare ?? 0)) * 10) /
          10,
        ballastMemoryPercentOfBare: percentOfBare,
        ballastMemoryRetainedPercentOfBare: Math.round((ballastRetained / bare) * 1_000) / 10,
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
        `Ballast (memory) ${ballast} req/s = ${percentOfBare}% of bare Fastify (${bare}), server CPU ${cpuPerRequest['ballast-memory']} vs ${cpuPerRequest.bare} µs/request; every key retained ${ballastRetained} req/s; ` +
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
