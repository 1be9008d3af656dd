/**
 * `pnpm bench [name…]`: runs `bench/<name>.bench.ts` (all of them without arguments), prints one
 * line each, and writes `bench/results/<name>.json` with the machine it ran on, so figures can
 * be compared across commits. Benchmarks bind to loopback only and stop by themselves.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark } from './bench-result.js';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const resultsDir = join(benchDir, 'results');
const suffix = '.bench.ts';

const available = (await readdir(benchDir))
  .filter((file) => file.endsWith(suffix))
  .map((file) => file.slice(0, -suffix.length))
  .sort();
const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${available.join(', ')}.`);
  process.exit(1);
}
const selected = requested.length > 0 ? requested : available;

const env = {
  node: process.version,
  platform: `${platform()}-${arch()}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  cpus: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  date: new Date().toISOString(),
};

await mkdir(resultsDir, { recursive: true });
let failures = 0;
for (const name of selected) {
  const module = (await import(pathToFileURL(join(benchDir, `${name}${suffix}`)).href)) as {
    default: Benchmark;
  };
  try {
    const figures = await module.default();
    const record = { ...figures, env };
    await writeFile(join(resultsDir, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
    console.log(`${name}: ${figures.summary} → bench/results/${name}.json`);
  } catch (error) {
    failures++;
    console.error(`${name}: failed: ${error instanceof Error ? error.stack : String(error)}`);
  }
}
process.exit(failures === 0 ? 0 : 1);
