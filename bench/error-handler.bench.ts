/**
 * What Ballast's error handler and not-found handler cost a request that passes (issue #14,
 * "Measure"): Express and Fastify, each bare and with Ballast's handlers installed as the docs
 * say, serving the same `GET /items/:id` JSON route, on loopback with autocannon.
 *
 * One server process per framework (`bench/error-handler-server.ts`) holds three copies of the
 * app: bare, an identical bare `control`, and with Ballast's handlers; sharing the process keeps
 * CPU, scheduling and JIT the same for each. Only one app is loaded at a time, in an order that
 * rotates every round, so a noisy neighbour or a warming JIT slows each alike. Two figures per
 * round and app:
 * - requests per second, which depends on how much of the machine the load generator left;
 * - the server process's CPU time (user + system, `process.cpuUsage`) per request, which does not.
 * The verdict compares, per framework, the paired per-round ratio of CPU per request, Ballast /
 * bare: its mean and a 95 % confidence interval over the rounds (Student's t). "A measurable
 * cost" means the interval lies wholly above 1; the control / bare ratio shows the noise floor.
 * Before measuring, a probe checks that each app really has the handler it claims: `GET /boom`
 * answers problem+json, without the driver's message, only where Ballast's is installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Benchmark } from './bench-result.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const connections = 16;
const rounds = Number(process.env.BALLAST_BENCH_ROUNDS ?? 12);
const secondsPerRound = Number(process.env.BALLAST_BENCH_SECONDS ?? 3);
const warmUpSeconds = 3;

const frameworks = ['express', 'fastify'] as const;
type Framework = (typeof frameworks)[number];
const variants = ['bare', 'control', 'ballast'] as const;
type Variant = (typeof variants)[number];

interface App {
  readonly name: `${Framework}-${Variant}`;
  readonly variant: Variant;
  readonly url: string;
}

interface Server {
  readonly framework: Framework;
  readonly apps: Readonly<Record<Variant, App>>;
  readonly child: ChildProcess;
}

function startServer(framework: Framework): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/error-handler-server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, MODE: framework, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const match = /listening bare=(\d+) control=(\d+) ballast=(\d+)/.exec(chunk);
      if (!match) return;
      const app = (variant: Variant, port: string | undefined): App => ({
        name: `${framework}-${variant}`,
        variant,
        url: `http://127.0.0.1:${port}`,
      });
      resolve({
        framework,
        apps: {
          bare: app('bare', match[1]),
          control: app('control', match[2]),
          ballast: app('ballast', match[3]),
        },
        child,
      });
    });
    child.once('exit', (code) =>
      reject(new Error(`${framework} server exited (${code}): ${stderr}`)),
    );
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

async function serverCpuMicros(app: App): Promise<number> {
  const body = (await (await fetch(`${app.url}/stats`)).json()) as { cpuMicros: number };
  return body.cpuMicros;
}

/** Fails the run when an app does not have the error handler its name says. */
async function checkHandlers(app: App): Promise<void> {
  const response = await fetch(`${app.url}/boom`);
  const type = response.headers.get('content-type') ?? '';
  const body = await response.text();
  const problem = type.startsWith('application/problem+json');
  const expected = app.variant === 'ballast';
  if (response.status !== 500 || problem !== expected || (expected && body.includes('secret'))) {
    throw new Error(
      `${app.name}: GET /boom answered ${response.status} ${type}, expected ${expected ? '' : 'no '}problem+json`,
    );
  }
  const passing = await fetch(`${app.url}/items/42`);
  if (passing.status !== 200 || (await passing.json()).id !== '42') {
    throw new Error(`${app.name}: GET /items/42 answered ${passing.status}`);
  }
}

interface RoundFigures {
  readonly rps: number;
  readonly cpuMicrosPerRequest: number;
  readonly non2xx: number;
  readonly errors: number;
}

async function measure(app: App, seconds: number): Promise<RoundFigures> {
  const cpuBefore = await serverCpuMicros(app);
  const result = await autocannon({
    url: `${app.url}/items/42`,
    connections,
    duration: seconds,
  });
  const cpuMicros = (await serverCpuMicros(app)) - cpuBefore;
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

/** `other` / `bare` of CPU per request and of requests per second, round by round. */
function ratios(bare: readonly RoundFigures[], other: readonly RoundFigures[]) {
  return {
    cpu: meanWithInterval(
      bare.map((round, i) => (other[i]?.cpuMicrosPerRequest ?? 0) / round.cpuMicrosPerRequest),
    ),
    rps: meanWithInterval(bare.map((round, i) => (other[i]?.rps ?? 0) / round.rps)),
  };
}

/** One framework's figures: Ballast and the control against bare, round by round. */
function compare(rounds: Readonly<Record<Variant, readonly RoundFigures[]>>) {
  const cpu = (variant: Variant) =>
    average(rounds[variant].map((round) => round.cpuMicrosPerRequest));
  const rps = (variant: Variant) => Math.round(average(rounds[variant].map((round) => round.rps)));
  const ballast = ratios(rounds.bare, rounds.ballast);
  const control = ratios(rounds.bare, rounds.control);
  return {
    rps: { bare: rps('bare'), control: rps('control'), ballast: rps('ballast') },
    cpuMicrosPerRequest: {
      bare: oneDecimal(cpu('bare')),
      control: oneDecimal(cpu('control')),
      ballast: oneDecimal(cpu('ballast')),
    },
    addedCpuMicrosPerRequest: oneDecimal(cpu('ballast') - cpu('bare')),
    cpuRatio: ballast.cpu,
    rpsRatio: ballast.rps,
    controlCpuRatio: control.cpu,
    controlRpsRatio: control.rps,
    measurableCost: ballast.cpu.low > 1,
    roundsCpuMicrosPerRequest: Object.fromEntries(
      variants.map((variant) => [
        variant,
        rounds[variant].map((round) => oneDecimal(round.cpuMicrosPerRequest)),
      ]),
    ),
    roundsRps: Object.fromEntries(
      variants.map((variant) => [variant, rounds[variant].map((round) => Math.round(round.rps))]),
    ),
    failedRequests: variants
      .flatMap((variant) => rounds[variant])
      .reduce((sum, round) => sum + round.non2xx + round.errors, 0),
  };
}

const benchmark: Benchmark = async () => {
  if (!Number.isInteger(rounds) || rounds < 2 || !(secondsPerRound > 0)) {
    throw new Error('BALLAST_BENCH_ROUNDS must be an integer ≥ 2 and BALLAST_BENCH_SECONDS > 0');
  }
  // The machine's 1-minute load average before and after: CPU per request holds up under load,
  // requests per second do not, so the figures are read next to it.
  const loadBefore = loadavg()[0] ?? 0;
  const servers = await Promise.all(frameworks.map(startServer));
  try {
    const apps = servers.flatMap((server) => variants.map((variant) => server.apps[variant]));
    for (const app of apps) await checkHandlers(app);
    for (const app of apps) await measure(app, warmUpSeconds); // JIT, sockets
    const figures = new Map<string, RoundFigures[]>(apps.map((app) => [app.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const server of servers) {
        // Rotate who goes first: bare, control, ballast; control, ballast, bare; …
        const order = variants.map((_, i) => variants[(i + round) % variants.length] as Variant);
        for (const variant of order) {
          const app = server.apps[variant];
          figures.get(app.name)?.push(await measure(app, secondsPerRound));
        }
      }
    }
    const roundsOf = (framework: Framework) =>
      Object.fromEntries(
        variants.map((variant) => [variant, figures.get(`${framework}-${variant}`) ?? []]),
      ) as Record<Variant, RoundFigures[]>;
    const express = compare(roundsOf('express'));
    const fastify = compare(roundsOf('fastify'));
    const line = (name: string, f: Comparison) =>
      `${name} ${f.cpuMicrosPerRequest.ballast} vs ${f.cpuMicrosPerRequest.bare} µs CPU/request, ratio ${f.cpuRatio.mean} (95% CI ${f.cpuRatio.low}–${f.cpuRatio.high}; identical control ${f.controlCpuRatio.mean}, ${f.controlCpuRatio.low}–${f.controlCpuRatio.high}), ${f.rps.ballast} vs ${f.rps.bare} req/s`;
    return {
      name: 'error-handler',
      unit: 'server CPU µs per passing request (lower is better)',
      ballast: express.cpuMicrosPerRequest.ballast,
      peer: express.cpuMicrosPerRequest.bare,
      peerName: 'Express 5 without Ballast’s error and not-found handlers',
      ratio: express.cpuRatio.mean,
      peers: {
        expressControl: express.cpuMicrosPerRequest.control,
        fastifyBare: fastify.cpuMicrosPerRequest.bare,
        fastifyControl: fastify.cpuMicrosPerRequest.control,
        fastifyWithBallast: fastify.cpuMicrosPerRequest.ballast,
      },
      extra: {
        workload: `GET /items/42 → 200 JSON, ${connections} connections, ${rounds} alternating rounds × ${secondsPerRound} s per contender, one process per framework holding the three apps, one app loaded at a time`,
        verdict:
          'measurableCost is true when the 95% CI of the per-round CPU ratio (with / without) lies wholly above 1; control is an identical bare app, its ratio to bare is the noise floor',
        express,
        fastify,
        noMeasurableCost: !express.measurableCost && !fastify.measurableCost,
        loadAverage1m: {
          before: Math.round(loadBefore * 100) / 100,
          after: Math.round((loadavg()[0] ?? 0) * 100) / 100,
        },
      },
      summary: `with / without Ballast's error handler: ${line('Express', express)}; ${line('Fastify', fastify)}`,
    };
  } finally {
    await Promise.all(servers.map(stopServer));
  }
};

export default benchmark;
