/**
 * Backup throughput and memory: Ballast's runner (pg_dump -Fc streamed through a SHA-256 and
 * counted into the backup directory, then recorded) against the floor it cannot beat, plain
 * `pg_dump -Fc > file` followed by `sha256sum file`, on the same generated database. Targets
 * (issue 17): ≥ 0.8× the floor's MB/s, peak RSS under 100 MB whatever the dump size (the dump
 * streams, it is never held in memory).
 *
 * The database (`ballast_bench_backup`, or BALLAST_BENCH_BACKUP_DB; about BALLAST_BENCH_BACKUP_MB
 * megabytes, default 1024) is generated once and reused by later runs
 * (`BALLAST_BENCH_BACKUP_DROP=1` drops it at the end). Rounds alternate floor and Ballast; the best of each is reported, since both are
 * disturbed by other work on the machine in the same way. Wall-clock MB/s on a shared machine
 * swings with everyone else's load, so each round's CPU seconds (user + system, the whole
 * process tree: pg_dump, sha256sum or Node) are measured too, through `/usr/bin/time` when it
 * exists; the CPU ratio is the figure that survives load. Every dump file is deleted.
 *
 * A last round (skip with `BALLAST_BENCH_BACKUP_OFFSITE=0`) adds the off-site copy: s3rver in
 * its own process, `S3ObjectStorage` with its defaults (multipart over 64 MiB, 16 MiB parts),
 * and the runner reading the copy back to verify it; it reports its time and peak RSS.
 */
import { execFile, spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPgBinaries } from '@ballast/adapters/postgres';
import { build } from 'esbuild';
import pg from 'pg';
import type { Benchmark } from './bench-result.js';

const adminUrl = process.env.BALLAST_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const targetMiB = Number(process.env.BALLAST_BENCH_BACKUP_MB ?? 1024);
const rounds = Number(process.env.BALLAST_BENCH_BACKUP_ROUNDS ?? 2);
const withOffsite = process.env.BALLAST_BENCH_BACKUP_OFFSITE !== '0';
const dropAfter = process.env.BALLAST_BENCH_BACKUP_DROP === '1';
const database = process.env.BALLAST_BENCH_BACKUP_DB ?? 'ballast_bench_backup';
const timeBinary = '/usr/bin/time';
const hasTime = await access(timeBinary).then(
  () => true,
  () => false,
);

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

function urlOf(name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates (or tops up) the bench database to about `targetMiB`. */
async function prepare(): Promise<number> {
  const exists = await query(adminUrl, `SELECT 1 FROM pg_database WHERE datname = '${database}'`);
  if (exists.length === 0) await query(adminUrl, `CREATE DATABASE ${database}`);
  const url = urlOf(database);
  await query(
    url,
    'CREATE TABLE IF NOT EXISTS sales (id bigint PRIMARY KEY, customer text, note text, total numeric(12,2), sold_at timestamptz)',
  );
  const size = async () =>
    Number((await query<{ s: string }>(url, `SELECT pg_database_size('${database}') AS s`))[0]!.s);
  // About 250 bytes a row, half of it md5 text that compresses poorly, like real ids and notes.
  while ((await size()) < targetMiB * 2 ** 20) {
    await query(
      url,
      `INSERT INTO sales
       SELECT g, 'customer ' || (g % 50000), md5(g::text) || md5((g * 31)::text) || md5((g * 7)::text),
              (g % 100000) / 100.0, timestamptz '2020-01-01' + g * interval '1 second'
       FROM generate_series((SELECT coalesce(max(id), 0) + 1 FROM sales), (SELECT coalesce(max(id), 0) + 500000 FROM sales)) g`,
    );
  }
  return size();
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 1 << 20 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

/** `command args…` under `/usr/bin/time` when present: resolves with its CPU seconds (tree). */
async function timed(
  command: string,
  args: string[],
  dir: string,
  start: (command: string, args: string[]) => Promise<string>,
): Promise<{ output: string; cpuSeconds?: number }> {
  if (!hasTime) return { output: await start(command, args) };
  const file = join(dir, 'cpu.txt');
  const output = await start(timeBinary, ['-f', '%U %S', '-o', file, command, ...args]);
  const [user, system] = (await readFile(file, 'utf8')).trim().split(/\s+/).map(Number);
  return { output, cpuSeconds: (user ?? 0) + (system ?? 0) };
}

interface Round {
  readonly bytes: number;
  readonly ms: number;
  readonly cpuSeconds?: number;
}

async function floorRound(pgDump: string, url: string): Promise<Round> {
  const dir = await mkdtemp(join(tmpdir(), 'ballast-bench-floor-'));
  try {
    const file = join(dir, 'floor.dump');
    const started = performance.now();
    const { cpuSeconds } = await timed(
      '/bin/sh',
      ['-c', `"${pgDump}" -Fc --dbname "${url}" > "${file}" && sha256sum "${file}" > /dev/null`],
      dir,
      run,
    );
    const ms = performance.now() - started;
    const { size } = await stat(file);
    return { bytes: size, ms, ...(cpuSeconds !== undefined && { cpuSeconds }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The child runs from an esbuild bundle, as an application would run built code: under tsx the
 * transpiler alone holds ~100 MB, which would be measured as the runner's.
 */
async function bundleChild(): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'ballast-bench-child-'));
  const file = join(directory, 'backup-child.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./backup-child.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: file,
    tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)),
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return { file, cleanup: () => rm(directory, { recursive: true, force: true }) };
}

interface BallastRound extends Round {
  readonly dumpMs: number;
  readonly baselineRssKiB: number;
  readonly peakRssKiB: number;
}

function child(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = spawn(args[0]!, args.slice(1), {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let out = '';
    started.stdout.on('data', (chunk) => {
      out += chunk;
    });
    started.once('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args[0]} exited ${code}`)),
    );
  });
}

async function ballastRound(
  bundle: string,
  url: string,
  env: NodeJS.ProcessEnv = {},
): Promise<BallastRound> {
  const dir = await mkdtemp(join(tmpdir(), 'ballast-bench-cpu-'));
  try {
    const { output, cpuSeconds } = await timed(process.execPath, [bundle, url], dir, (c, a) =>
      child([c, ...a], env),
    );
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as Omit<
      BallastRound,
      'cpuSeconds'
    >;
    return { ...result, ...(cpuSeconds !== undefined && { cpuSeconds }) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** s3rver in its own process; `stop()` closes its stdin, which makes it clean up and exit. */
async function startS3rverProcess(): Promise<{
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}> {
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./backup-s3-server.ts', import.meta.url))],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    server.once('close', (code) => reject(new Error(`s3rver exited ${code}`)));
  });
  const { endpoint, bucket } = JSON.parse(line) as { endpoint: string; bucket: string };
  return {
    endpoint,
    bucket,
    stop: () =>
      new Promise((resolve) => {
        server.once('close', () => resolve());
        server.stdin.end();
      }),
  };
}

const mbps = (bytes: number, ms: number) => bytes / 2 ** 20 / (ms / 1000);
const round1 = (n: number) => Number(n.toFixed(1));

const benchmark: Benchmark = async () => {
  const databaseBytes = await prepare();
  const url = urlOf(database);
  const major = Math.floor(
    Number(
      (await query<{ v: string }>(url, "SELECT current_setting('server_version_num') AS v"))[0]!.v,
    ) / 10_000,
  );
  const { pgDump } = await findPgBinaries(major);
  const floors: Round[] = [];
  const ballasts: BallastRound[] = [];
  let offsiteRound: BallastRound | undefined;
  const bundle = await bundleChild();
  try {
    for (let i = 0; i < rounds; i++) {
      floors.push(await floorRound(pgDump, url));
      ballasts.push(await ballastRound(bundle.file, url));
    }
    if (withOffsite) {
      const s3 = await startS3rverProcess();
      try {
        offsiteRound = await ballastRound(bundle.file, url, {
          BALLAST_BENCH_S3_ENDPOINT: s3.endpoint,
          BALLAST_BENCH_S3_BUCKET: s3.bucket,
        });
      } finally {
        await s3.stop();
      }
    }
  } finally {
    await bundle.cleanup();
    if (dropAfter) await query(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
  const floor = Math.max(...floors.map((r) => mbps(r.bytes, r.ms)));
  const ballast = Math.max(...ballasts.map((r) => mbps(r.bytes, r.ms)));
  const peakRssMiB = Math.max(...ballasts.map((r) => r.peakRssKiB)) / 1024;
  const baselineRssMiB = Math.max(...ballasts.map((r) => r.baselineRssKiB)) / 1024;
  const ratio = ballast / floor;
  // CPU seconds per GiB of dump, the best round of each: what survives other people's load.
  const cpuPerGiB = (list: Round[]) => {
    const values = list
      .filter((r) => r.cpuSeconds !== undefined)
      .map((r) => r.cpuSeconds! / (r.bytes / 2 ** 30));
    return values.length === 0 ? undefined : Math.min(...values);
  };
  const floorCpu = cpuPerGiB(floors);
  const ballastCpu = cpuPerGiB(ballasts);
  const cpuRatio =
    floorCpu !== undefined && ballastCpu !== undefined ? floorCpu / ballastCpu : undefined;
  return {
    name: 'backup',
    unit: 'MB/s of dump written and hashed (higher is better)',
    ballast: Number(ballast.toFixed(1)),
    peer: Number(floor.toFixed(1)),
    peerName: 'pg_dump -Fc > file && sha256sum file',
    ratio: Number(ratio.toFixed(3)),
    extra: {
      databaseMiB: Math.round(databaseBytes / 2 ** 20),
      dumpMiB: Math.round(ballasts[0]!.bytes / 2 ** 20),
      rounds,
      floorRounds: floors.map((r) => Number(mbps(r.bytes, r.ms).toFixed(1))),
      ballastRounds: ballasts.map((r) => Number(mbps(r.bytes, r.ms).toFixed(1))),
      floorDumpMiB: Math.round(floors[0]!.bytes / 2 ** 20),
      ...(cpuRatio !== undefined && {
        cpuSecondsPerGiB: { floor: round1(floorCpu!), ballast: round1(ballastCpu!) },
        cpuThroughputRatio: Number(cpuRatio.toFixed(3)),
      }),
      peakRssMiB: Number(peakRssMiB.toFixed(1)),
      rssBeforeRunMiB: Number(baselineRssMiB.toFixed(1)),
      ...(offsiteRound && {
        withOffsiteCopy: {
          what: 'dump + multipart copy to s3rver (16 MiB parts) + read-back verification',
          seconds: round1(offsiteRound.ms / 1000),
          dumpSeconds: round1(offsiteRound.dumpMs / 1000),
          peakRssMiB: round1(offsiteRound.peakRssKiB / 1024),
          ...(offsiteRound.cpuSeconds !== undefined && {
            cpuSeconds: round1(offsiteRound.cpuSeconds),
          }),
        },
      }),
      loadAverage: loadavg().map((n) => Number(n.toFixed(1))),
      targets: { ratioAtLeast: 0.8, peakRssMiBBelow: 100 },
      met: ratio >= 0.8 && peakRssMiB < 100,
    },
    summary: `${ballast.toFixed(1)} MB/s vs floor ${floor.toFixed(1)} MB/s (${ratio.toFixed(2)}×${cpuRatio === undefined ? '' : `; by CPU ${cpuRatio.toFixed(2)}×`}), peak RSS ${peakRssMiB.toFixed(1)} MiB, ${Math.round(databaseBytes / 2 ** 20)} MiB database${offsiteRound ? `; with the off-site copy ${(offsiteRound.ms / 1000).toFixed(0)} s, peak RSS ${(offsiteRound.peakRssKiB / 1024).toFixed(1)} MiB` : ''}, load ${loadavg()[0]!.toFixed(1)}`,
  };
};

export default benchmark;
