/**
 * The processes tests spawn must not outlive them: a relay or a consumer left running after a
 * failed chaos test held its Postgres connections, and every later Postgres test of the CI run
 * failed with "too many clients".
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { until } from './support/eventually.js';
import { exitWithParent } from './support/test-child-process.js';

const adaptersRoot = fileURLToPath(new URL('../', import.meta.url));
const directory = await mkdtemp(join(tmpdir(), 'ballast-child-cleanup-'));
afterAll(() => rm(directory, { recursive: true, force: true }));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function run(command: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, command, {
    cwd: adaptersRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exit, output: () => output };
}

it('a process started inside a test that fails is killed when its file ends', async () => {
  const pidFile = join(directory, 'failed-test.pid');
  const vitest = fileURLToPath(new URL('./vitest.mjs', import.meta.resolve('vitest/package.json')));
  const nested = run([vitest, 'run', '--config', 'test/fixtures/child-cleanup/vitest.config.ts'], {
    PID_FILE: pidFile,
    CI: '',
  });
  const code = await nested.exit;
  expect(code, nested.output()).toBe(1);
  const pid = Number(await readFile(pidFile, 'utf8'));
  expect(pid).toBeGreaterThan(0);
  await until(() => !isAlive(pid), 5_000).catch(() => {});
  expect(isAlive(pid), `process ${pid} outlived its failed test`).toBe(false);
}, 60_000);

it('a spawned process dies with its parent even when the parent is killed with SIGKILL', async () => {
  // The grandchild says "ready" from its own code, which runs only after its --import modules
  // (the guard) have loaded; the parent prints its pid then. A fixed wait for tsx to start was
  // too short on a loaded machine: the parent was killed before the guard was watching.
  const grandchild = `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', ${JSON.stringify(
      pathToFileURL(exitWithParent).href,
    )}, '-e', 'console.log("ready"); setInterval(() => {}, 1000)'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child.stdout.once('data', () => console.log(child.pid));
    setInterval(() => {}, 1000);`;
  const parent = run(['-e', grandchild]);
  await until(() => /^\d+\n/.test(parent.output()), 30_000);
  const pid = Number(parent.output().trim());
  expect(isAlive(pid)).toBe(true);
  parent.child.kill('SIGKILL');
  await parent.exit;
  await until(() => !isAlive(pid), 5_000).catch(() => {});
  expect(isAlive(pid), `process ${pid} outlived its parent`).toBe(false);
}, 45_000);
