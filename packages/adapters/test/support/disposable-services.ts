/**
 * A Postgres and a Redis of a test's own, on free ports, that the test may stop and restart at
 * will: tests of outages must never touch the shared servers other test files are using. Each
 * instance is stopped and its files removed by `stop()` (call it in `afterAll`).
 *
 * Postgres comes from the Debian binaries (`/usr/lib/postgresql/<v>/bin`), run as the
 * `postgres` user with trust auth and `fsync=off` (a restart here is a clean shutdown, which
 * loses nothing without fsync). Redis runs with AOF (`appendfsync always`), so a restart keeps
 * every record it acknowledged, as the docs require of a Redis idempotency store.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/** Why disposable services cannot run here, or undefined when they can. */
export function disposableServicesMissing(): string | undefined {
  if (postgresBin() === undefined) return 'no Postgres binaries under /usr/lib/postgresql';
  if (!existsSync('/usr/bin/redis-server')) return 'no /usr/bin/redis-server';
  if (process.getuid?.() !== 0) return 'not root (Postgres must run as the postgres user)';
  return undefined;
}

export interface DisposablePostgres {
  readonly url: string;
  readonly port: number;
  /** Fast shutdown: running transactions are aborted, clients see 57P01. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** Stops the server for good and removes its files. */
  stop(): Promise<void>;
}

export async function startDisposablePostgres(): Promise<DisposablePostgres> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error('no Postgres binaries');
  const dir = mkdtempSync(join(tmpdir(), 'ballast-pg-'));
  const data = join(dir, 'data');
  await run('chown', ['postgres:postgres', dir]);
  const asPostgres = (command: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args]);
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const startServer = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-o', options, '-w', '-l', join(dir, 'log'), 'start']);
  };
  const stopServer = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  await startServer();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    startServer,
    stopServer,
    stop: async () => {
      await stopServer().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface DisposableRedis {
  readonly url: string;
  readonly port: number;
  /** SHUTDOWN-like stop: the AOF keeps what was acknowledged. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

/** `port`: a fixed port (a helper's own range) instead of a free one. */
export async function startDisposableRedis(
  options: { port?: number } = {},
): Promise<DisposableRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-redis-'));
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  const startServer = async () => {
    const started = spawn(
      '/usr/bin/redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
      let seen = '';
      started.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${seen.slice(-500)}`));
      });
    });
  };
  const stopServer = async () => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGTERM');
    await exited;
  };
  await startServer();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    startServer,
    stopServer,
    stop: async () => {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
