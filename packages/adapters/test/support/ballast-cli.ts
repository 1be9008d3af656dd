/**
 * The `ballast` command as a user runs it, for tests: one esbuild bundle of the CLI per test
 * file (starting it through tsx transpiles the AWS SDK on every run, seconds each; the bundle is
 * what `npx ballast` runs, one file of JS), run as a child process and read through its output
 * and exit code.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll } from 'vitest';

const bin = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

/** The repository root: where the CLI runs unless a test says otherwise. */
export const repositoryRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** What one run of the CLI printed and how it exited. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI of one test file: `run` a command, or spawn the `bundle()` yourself. */
export interface BallastCli {
  /** Path of the bundled CLI (after the file's `beforeAll`). */
  bundle(): string;
  run(
    args: string[],
    env?: Record<string, string | undefined>,
    options?: { readonly cwd?: string },
  ): Promise<CliResult>;
}

/** Bundles the CLI once for the calling test file (in a `beforeAll`) and runs it. */
export function ballastCli(): BallastCli {
  let bundle = '';
  beforeAll(async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ballast-cli-bin-'));
    bundle = join(directory, 'ballast.mjs');
    await build({
      entryPoints: [bin],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      tsconfig: join(repositoryRoot, 'tsconfig.json'),
      // CommonJS dependencies (pg) call require(); ESM output needs one in scope.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'warning',
    });
    return () => rm(directory, { recursive: true, force: true });
  }, 60_000);

  return {
    bundle: () => bundle,
    run: (args, env = {}, options = {}) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [bundle, ...args], {
          cwd: options.cwd ?? repositoryRoot,
          env: { ...process.env, DATABASE_URL: undefined, BACKUP_S3_BUCKET: undefined, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
          // A CLI that never exits is a failure to see (exit code null), not a test run that hangs.
          timeout: 60_000,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
        });
        child.stderr.on('data', (chunk) => {
          stderr += chunk;
        });
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      }),
  };
}
