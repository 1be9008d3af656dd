/**
 * Starts a test server in its own Node process (through tsx), so tests can prove what holds
 * across processes — two servers sharing one store — and kill one with SIGKILL mid-request, as
 * a crash would. Every process started here is killed by `stop()` or when the test file ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { exitWithParent, killAtFileEnd, killNow, stopGracefully } from './test-child-process.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface ChildServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves with the first stdout line matching `pattern` (past or future). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILL: no cleanup, no goodbye, as a crash. Resolves when the process is gone. */
  kill(): Promise<void>;
  /** Graceful stop (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>;
}

/**
 * Runs `script` (a path relative to the repository root) with `env` added to the environment, and
 * waits for it to print `listening <port>`.
 */
export async function startChildServer(
  script: string,
  env: Record<string, string>,
  startTimeoutMs = 60_000,
): Promise<ChildServer> {
  // cwd is the repository root so tsx finds tsconfig.json and its @ballast/* paths.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', pathToFileURL(exitWithParent).href, script],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  killAtFileEnd(child);

  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      newline = buffered.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });

  const waitForLine = (pattern: RegExp, timeoutMs = 10_000) => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const waiter = { pattern, resolve };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `no line matching ${pattern} from ${script} within ${timeoutMs} ms.\n${stderr}`,
          ),
        );
      }, timeoutMs);
      waiter.resolve = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
      waiters.push(waiter);
    });
  };

  const startFailure = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`${script} exited (${code ?? signal}) before listening:\n${stderr}`)),
    );
  });
  const line = await Promise.race([waitForLine(/^listening \d+$/, startTimeoutMs), startFailure]);
  startFailure.catch(() => {});
  const port = Number(line.split(' ')[1]);

  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    waitForLine,
    kill: () => killNow(child),
    stop: () => stopGracefully(child, 2_000),
  };
}
