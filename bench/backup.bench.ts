/**
 * Backup throughput and memory: Ballast's runner (pg_dump -Fc streamed through a SHA-256 and
 * counted into the backup directory, then recorded) against the floor it cannot beat, plain
 * `pg_dump -Fc > file` followed by `sha256sum file`, on the same generated database. Targets
 * (issue 17): ≥ 0.8× the floor's MB/s, peak RSS under 100 MB whatever the dump size (the dump
 * streams, it is never held in memory).
 *
 * The database (`ballast_bench_backup`, about BALLAST_BENCH_BACKUP_MB megabytes, default 1024)
 * is generated once and reused by later runs. Rounds alternate floor and Ballast; the best of
 * each is reported, since both are disturbed by other work on the machine in the same way.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPgBinaries } from '@ballast/adapters/postgres';
import { build } from 'esbuild';
import pg from 'pg';
import type { Benchmark } from './bench-result.js';

const adminUrl = process.env.BALLAST_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const targetMiB = Number(process.env.BALLAST_BENCH_BACKUP_MB ?? 1024);
const rounds = Number(process.env.BALLAST_BENCH_BACKUP_ROUNDS ?? 2);
const database = 'ballast_bench_backup';

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

async function floorRound(pgDump: string, url: string): Promise<{ bytes: number; ms: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'ballast-bench-floor-'));
  const file = join(dir, 'floor.dump');
  const started = performance.now();
  await run('/bin/sh', [
    '-c',
    `"${pgDump}" -Fc --dbname "${url}" > "${file}" && sha256sum "${file}" > /dev/null`,
  ]);
  const ms = performance.now() - started;
  const { size } = await stat(file);
  await rm(dir, { recursive: true, force: true });
  return { bytes: size, ms };
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

function ballastRound(
  child: string,
  url: string,
): Promise<{ bytes: number; ms: number; baselineRssKiB: number; peakRssKiB: number }> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [child, url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    process_.stdout.on('data', (chunk) => {
      out += chunk;
    });
    process_.once('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!))
        : reject(new Error(`child exited ${code}`)),
    );
  });
}

const mbps = (bytes: number, ms: number) => bytes / 2 ** 20 / (ms / 1000);

const benchmark: Benchmark = async () => {
  const databaseBytes = await prepare();
  const url = urlOf(database);
  const major = Math.floor(
    Number(
      (await query<{ v: string }>(url, "SELECT current_setting('server_version_num') AS v"))[0]!.v,
    ) / 10_000,
  );
  const { pgDump } = await findPgBinaries(major);
  const floors: Array<{ bytes: number; ms: number }> = [];
  const ballasts: Array<Awaited<ReturnType<typeof ballastRound>>> = [];
  const child = await bundleChild();
  try {
    for (let i = 0; i < rounds; i++) {
      floors.push(await floorRound(pgDump, url));
      ballasts.push(await ballastRound(child.file, url));
    }
  } finally {
    await child.cleanup();
  }
  const floor = Math.max(...floors.map((r) => mbps(r.bytes, r.ms)));
  const ballast = Math.max(...ballasts.map((r) => mbps(r.bytes, r.ms)));
  const peakRssMiB = Math.max(...ballasts.map((r) => r.peakRssKiB)) / 1024;
  const baselineRssMiB = Math.max(...ballasts.map((r) => r.baselineRssKiB)) / 1024;
  const ratio = ballast / floor;
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
      peakRssMiB: Number(peakRssMiB.toFixed(1)),
      rssBeforeRunMiB: Number(baselineRssMiB.toFixed(1)),
      targets: { ratioAtLeast: 0.8, peakRssMiBBelow: 100 },
      met: ratio >= 0.8 && peakRssMiB < 100,
    },
    summary: `${ballast.toFixed(1)} MB/s vs floor ${floor.toFixed(1)} MB/s (${ratio.toFixed(2)}×), peak RSS ${peakRssMiB.toFixed(1)} MiB, ${Math.round(databaseBytes / 2 ** 20)} MiB database`,
  };
};

export default benchmark;
