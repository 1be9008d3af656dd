/**
 * One Ballast backup run in its own process, so its peak RSS is its own: `pnpm bench backup`
 * starts this and reads one JSON line. With `BALLAST_BENCH_S3_ENDPOINT` and
 * `BALLAST_BENCH_S3_BUCKET` set, the run also copies the dump off-site through
 * `S3ObjectStorage` (multipart, default part size) and reads the copy back to verify it.
 * Not a benchmark by itself (no `.bench.ts` suffix).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresBackupRunner } from '@ballast/adapters/postgres';

const databaseUrl = process.argv[2]!;
const endpoint = process.env.BALLAST_BENCH_S3_ENDPOINT;
const bucket = process.env.BALLAST_BENCH_S3_BUCKET;
// Loaded only for the off-site round, so the SDK's memory is not counted in the others.
const offsite =
  endpoint && bucket
    ? new (await import('@ballast/adapters/s3')).S3ObjectStorage({
        bucket,
        endpoint,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        timeoutMs: 120_000,
        uploadTimeoutMs: 120_000,
      })
    : undefined;
const dir = await mkdtemp(join(tmpdir(), 'ballast-bench-backup-'));
try {
  const runner = await createPostgresBackupRunner({
    databaseUrl,
    dir,
    keep: 1,
    ...(offsite && { offsite }),
  });
  const baselineRssKiB = process.resourceUsage().maxRSS;
  const started = performance.now();
  let dumpMs = 0;
  const run = await runner.run({
    reason: 'bench',
    onProgress: ({ phase }) => {
      if (phase !== 'dump' && dumpMs === 0) dumpMs = performance.now() - started;
    },
  });
  const ms = performance.now() - started;
  await runner.close();
  if (offsite && run.offsite !== 'copied')
    throw new Error(`off-site copy ${run.offsite}: ${run.error}`);
  process.stdout.write(
    `${JSON.stringify({ bytes: run.bytes, ms, dumpMs, offsite: run.offsite, baselineRssKiB, peakRssKiB: process.resourceUsage().maxRSS })}\n`,
  );
} finally {
  offsite?.close();
  await rm(dir, { recursive: true, force: true });
}
