/**
 * Starts outbox pipeline processes (relays and consumers, see `outbox-process.ts`) as plain
 * Node processes. The script is bundled once with esbuild, the workspace's `@ballast/*` from
 * source and the drivers (bullmq, ioredis, pg, kysely, zod) with it: a bundled process starts
 * in a fraction of tsx's time, which is what lets a chaos run restart processes ten times
 * within the suite's budget, and loading the drivers from one file instead of node_modules'
 * hundreds halves what each start costs (~0.4 s of CPU of ~0.8 s, 38 starts per run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll } from 'vitest';
import type { PipelineConfig } from './outbox-pipeline.js';
import { killAtFileEnd, killNow, stopGracefully } from './test-child-process.js';

const adaptersRoot = fileURLToPath(new URL('../../', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

let bundled: Promise<string> | undefined;

// Registered while the test file is collected (see test-child-process.ts), after which the
// processes are gone: the bundle (~4 MB) does not pile up in .tmp run after run.
afterAll(async () => {
  if (bundled) await rm(await bundled, { force: true });
});

function bundle(): Promise<string> {
  bundled ??= (async () => {
    const outdir = `${adaptersRoot}.tmp`;
    mkdirSync(outdir, { recursive: true });
    const outfile = `${outdir}/outbox-process-${process.pid}.mjs`;
    await build({
      entryPoints: [fileURLToPath(new URL('./outbox-process.ts', import.meta.url))],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      tsconfig: `${repoRoot}tsconfig.json`,
      logLevel: 'error',
      // CommonJS drivers (pg, ioredis) call require(); ESM output needs one in scope.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    return outfile;
  })();
  return bundled;
}

export type PipelineRole = 'relay' | 'consumer';

export interface PipelineProcess {
  readonly role: PipelineRole;
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the process printed `ready`; rejects if it exits first. */
  readonly ready: Promise<void>;
  /** SIGKILL, as a crash: resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * Spawns a pipeline process and returns at once (`ready` tells when it runs): on a loaded
 * machine a start takes seconds, and a chaos run may kill a process that is still starting.
 */
export async function startPipelineProcess(
  role: PipelineRole,
  name: string,
  config: PipelineConfig,
  env: Record<string, string> = {},
): Promise<PipelineProcess> {
  const script = await bundle();
  const child = spawn(process.execPath, [script], {
    cwd: adaptersRoot,
    env: { ...process.env, ...env, ROLE: role, NAME: name, PIPELINE: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killAtFileEnd(child);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 90_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${output}`));
    });
  });
  // A process killed while starting rejects `ready`; only those who wait for it care.
  ready.catch(() => {});
  return {
    role,
    name,
    child,
    ready,
    kill: () => killNow(child),
    stop: () => stopGracefully(child, 10_000),
  };
}

/** A small seeded PRNG (mulberry32): a chaos run is replayable from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
