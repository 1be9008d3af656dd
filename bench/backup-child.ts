/**
 * One Ballast backup run in its own process, so its peak RSS is its own: `pnpm bench backup`
 * starts this and reads one JSON line. Not a benchmark by itself (no `.bench.ts` suffix).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresBackupRunner } from '@ballast/adapters/postgres';

const databaseUrl = process.argv[2]!;
const dir = await mkdtemp(join(tmpdir(), 'ballast-bench-backup-'));
const runner = await createPostgresBackupRunner({ databaseUrl, dir, keep: 1 });
const baselineRssKiB = process.resourceUsage().maxRSS;
const started = performance.now();
const run = await runner.run({ reason: 'bench' });
const ms = performance.now() - started;
await runner.close();
await rm(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ bytes: run.bytes, ms, baselineRssKiB, peakRssKiB: process.resourceUsage().maxRSS })}\n`,
);
