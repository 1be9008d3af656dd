/**
 * Starts one of the example's services (`edge.ts`, `api.ts`) as its own Node process, the way
 * they run in production: separate memory, separate logs, only HTTP between them. Used by the
 * one-command start and by the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RunningService {
  readonly child: ChildProcess;
  /** The port the service reported in its `listening` log line. */
  readonly port: number;
  /** Every JSON log line the service has written so far (it keeps filling). */
  readonly lines: Array<Record<string, unknown>>;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

const exampleDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Spawns `node --import tsx src/<file>` in the example's directory with `env` added, and
 * resolves once the service logs `listening` (rejects if it exits or stays silent for 20 s).
 */
export function spawnService(
  file: string,
  env: Record<string, string>,
  onLine?: (line: string) => void,
): Promise<RunningService> {
  const child = spawn(process.execPath, ['--import', 'tsx', `src/${file}`], {
    cwd: exampleDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${file} did not start within 20 s`));
    }, 20_000);
    let pending = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const text of complete.filter(Boolean)) {
        onLine?.(text);
        try {
          const line = JSON.parse(text) as Record<string, unknown>;
          lines.push(line);
          if (line.msg === 'listening' && typeof line.port === 'number') {
            clearTimeout(timer);
            resolve({ child, port: line.port, lines, stop });
          }
        } catch {
          // Not a JSON log line (a stack trace on a crash): shown, not parsed.
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => onLine?.(chunk.trimEnd()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with code ${code} before listening`));
    });
  });
}
