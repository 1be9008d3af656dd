/**
 * What Ballast's error handler and not-found handler cost a request that passes (issue #14,
 * "Measure"): Express and Fastify, each bare and with Ballast's handlers installed as the docs
 * say, serving the same `GET /items/:id` JSON route, on loopback with autocannon.
 *
 * Each of the four servers runs in its own process (`bench/error-handler-server.ts`). Rounds
 * alternate the contenders (bare first in even rounds, Ballast first in odd ones), so a noisy
 * neighbour or a warming JIT slows both alike. Two figures per round and contender:
 * - requests per second, which depends on how much of the machine the load generator left;
 * - the server's own CPU time (user + system, `process.cpuUsage`) per request, which does not.
 * The verdict compares, per framework, the paired per-round ratio Ballast / bare of CPU per
 * request: its mean and a 95 % confidence interval over the rounds (Student's t). "No measurable
 * cost" means the interval contains 1. Before measuring, a probe checks that each server really
 * has the handler it claims: `GET /boom` answers problem+json only where Ballast's is installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Benchmark } from './bench-result.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const connections = 16;
const rounds = Number(process.env.BALLAST_BENCH_ROUNDS ?? 8);
const secondsPerRound = Number(process.env.BALLAST_BENCH_SECONDS ?? 3);
const warmUpSeconds = 3;

const frameworks = ['express', 'fastify'] as const;
type Framework = (typeof frameworks)[number];
type Variant = 'bare' | 'ballast';
type Mode = `${Framework}-${Variant}`;

interface Server {
  readonly mode: Mode;
  readonly url: string;
  readonly child: ChildProcess;
}

function startServer(mode: Mode): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/error-handler-server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, MODE: mode, NODE_ENV: 'production' },
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
  if (server.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
    setTimeout(() => server.child.kill('SIGKILL'), 3_000).unref();
  });
}

async function serverCpuMicros(server: Server): Promise<number> {
  const body = (await (await fetch(`${server.url}/stats`)).json()) as { cpuMicros: number };
  return body.cpuMicros;
}

/** Fails the run when a server does not have the error handler its mode names. */
async function checkHandlers(server: Server): Promise<void> {
  const response = await fetch(`${server.url}/boom`);
  const type = response.headers.get('content-type') ?? '';
  const body = await response.text();
  const problem = type.startsWith('application/problem+json');
  const expected = server.mode.endsWith('-ballast');
  if (response.status !== 500 || problem !== expected || (expected && body.includes('secret'))) {
    throw new Error(
      `${server.mode}: GET /boom answered ${response.status} ${type}, expected ${expected ? '' : 'no '}problem+json`,
    );
  }
  const passing = await fetch(`${server.url}/items/42`);
  if (passing.status !== 200 || (await passing.json()).id !== '42') {
    throw new Error(`${server.mode}: GET /items/42 answered ${passing.status}`);
  }
}

interface RoundFigures {
  readonly rps: number;
  readonly cpuMicrosPerRequest: number;
  readonly non2xx: number;
  readonly errors: number;
}

async function measure(server: Server, seconds: number): Promise<RoundFigures> {
  const cpuBefore = await serverCpuMicros(server);
  const result = await autocannon({
    url: `${server.url}/items/42`,
    connections,
    duration: seconds,
  });
  const cpuMicros = (await serverCpuMicros(server)) - cpuBefore;
  return {
    rps: result.requests.average,
    cpuMicrosPerRequest: cpuMicros / Math.max(1, result.requests.total),
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

// Two-sided 97.5 % quantiles of Student's t for 1…30 degrees of freedom.
const tQuantiles = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/** Mean and 95 % confidence interval of the mean (Student's t), rounded to 3 decimals. */
function meanWithInterval(values: readonly number[]): {
  mean: number;
  low: number;
  high: number;
} {
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, n - 1);
  const t = tQuantiles[Math.min(n - 1, tQuantiles.length) - 1] ?? 1.96;
  const half = n > 1 ? (t * Math.sqrt(variance)) / Math.sqrt(n) : Number.POSITIVE_INFINITY;
  const round = (value: number) => Math.round(value * 1_000) / 1_000;
  return { mean: round(mean), low: round(mean - half), high: round(mean + half) };
}

const average = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const oneDecimal = (value: number) => Math.round(value * 10) / 10;

type Comparison = ReturnType<typeof compare>;

/** One framework's figures: Ballast against bare, round by round. */
function compare(bare: RoundFigures[] = [], ballast: RoundFigures[] = []) {
  const cpuRatio = meanWithInterval(
    bare.map((round, i) => (ballast[i]?.cpuMicrosPerRequest ?? 0) / round.cpuMicrosPerRequest),
  );
  const bareCpu = average(bare.map((round) => round.cpuMicrosPerRequest));
  const ballastCpu = average(ballast.map((round) => round.cpuMicrosPerRequest));
  return {
    bareRps: Math.round(average(bare.map((round) => round.rps))),
    ballastRps: Math.round(average(ballast.map((round) => round.rps))),
    rpsRatio: meanWithInterval(bare.map((round, i) => (ballast[i]?.rps ?? 0) / round.rps)),
    bareCpuMicrosPerRequest: oneDecimal(bareCpu),
    ballastCpuMicrosPerRequest: oneDecimal(ballastCpu),
    addedCpuMicrosPerRequest: oneDecimal(ballastCpu - bareCpu),
    cpuRatio,
    measurableCost: cpuRatio.low > 1,
    roundsCpuMicrosPerRequest: {
      bare: bare.map((round) => oneDecimal(round.cpuMicrosPerRequest)),
      ballast: ballast.map((round) => oneDecimal(round.cpuMicrosPerRequest)),
    },
    roundsRps: {
      bare: bare.map((round) => Math.round(round.rps)),
      ballast: ballast.map((round) => Math.round(round.rps)),
    },
    failedRequests: [...bare, ...ballast].reduce(
      (sum, round) => sum + round.non2xx + round.errors,
      0,
    ),
  };
}

const benchmark: Benchmark = async () => {
  if (!Number.isInteger(rounds) || rounds < 2 || !(secondsPerRound > 0)) {
    throw new Error('BALLAST_BENCH_ROUNDS must be an integer ≥ 2 and BALLAST_BENCH_SECONDS > 0');
  }
  const modes: Mode[] = frameworks.flatMap((framework) => [
    `${framework}-bare` as const,
    `${framework}-ballast` as const,
  ]);
  const servers = await Promise.all(modes.map(startServer));
  const byMode = (mode: Mode) => servers.find((server) => server.mode === mode) as Server;
  try {
    for (const server of servers) await checkHandlers(server);
    for (const server of servers) await measure(server, warmUpSeconds); // JIT, sockets
    const figures = new Map<Mode, RoundFigures[]>(modes.map((mode) => [mode, []]));
    for (let round = 0; round < rounds; round++) {
      for (const framework of frameworks) {
        const order: Variant[] = round % 2 === 0 ? ['bare', 'ballast'] : ['ballast', 'bare'];
        for (const variant of order) {
          const mode: Mode = `${framework}-${variant}`;
          figures.get(mode)?.push(await measure(byMode(mode), secondsPerRound));
        }
      }
    }

    const express = compare(figures.get('express-bare'), figures.get('express-ballast'));
    const fastify = compare(figures.get('fastify-bare'), figures.get('fastify-ballast'));
    const line = (name: string, f: Comparison) =>
      `${name} ${f.ballastCpuMicrosPerRequest} vs ${f.bareCpuMicrosPerRequest} µs CPU/request, ratio ${f.cpuRatio.mean} (95% CI ${f.cpuRatio.low}–${f.cpuRatio.high}), ${f.ballastRps} vs ${f.bareRps} req/s`;
    return {
      name: 'error-handler',
      unit: 'server CPU µs per passing request (lower is better)',
      ballast: express.ballastCpuMicrosPerRequest,
      peer: express.bareCpuMicrosPerRequest,
      peerName: 'Express 5 without Ballast’s error and not-found handlers',
      ratio: express.cpuRatio.mean,
      peers: {
        fastifyBare: fastify.bareCpuMicrosPerRequest,
        fastifyWithBallast: fastify.ballastCpuMicrosPerRequest,
      },
      extra: {
        workload: `GET /items/42 → 200 JSON, ${connections} connections, ${rounds} alternating rounds × ${secondsPerRound} s per contender, each server in its own process`,
        verdict:
          'measurableCost is true when the 95% CI of the per-round CPU ratio (with / without) lies wholly above 1',
        express,
        fastify,
        noMeasurableCost: !express.measurableCost && !fastify.measurableCost,
      },
      summary: `with / without Ballast's error handler: ${line('Express', express)}; ${line('Fastify', fastify)}`,
    };
  } finally {
    await Promise.all(servers.map(stopServer));
  }
};

export default benchmark;
