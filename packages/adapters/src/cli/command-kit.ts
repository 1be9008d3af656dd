/**
 * What every `ballast` command shares: the I/O it writes to, the exit-code table in `--help`,
 * the mapping from a failure to an exit code, the wrapper that turns a command body's failure
 * into a message (or a JSON document) and that code, and the storage flags.
 */
import { isBallastError } from '@ballast/core';
import { type Command, Option } from 'commander';
import { type ExitCode, exitCodes } from './exit-codes.js';
import { Output } from './output.js';

/** Where the CLI reads and writes; the real process by default, a test harness otherwise. */
export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Aborted on SIGINT or SIGTERM. Long commands pass it on, so an interrupted backup is
   * recorded `failed` and its partial file deleted, instead of the process dying mid-dump.
   */
  readonly signal?: AbortSignal;
}

export const exitCodeHelp = `
Exit codes:
  0  done
  1  failed (backup failed, verification found damage, repairs failed)
  2  usage error
  3  configuration error or service unreachable
  4  another backup is running
  5  backup good, but its off-site copy or retention failed`;

export function exitCodeFor(error: unknown): ExitCode {
  if (isBallastError(error)) {
    if (error.code === 'INVALID_OPTIONS') return exitCodes.config;
    if (error.code === 'BACKUP_IN_PROGRESS') return exitCodes.busy;
    if (
      [
        'SERVICE_UNAVAILABLE',
        'STORAGE_UNAVAILABLE',
        'NETWORK_ERROR',
        'TIMEOUT',
        'CIRCUIT_OPEN',
      ].includes(error.code)
    ) {
      return exitCodes.config;
    }
    return exitCodes.failed;
  }
  const code = (error as { code?: unknown } | null)?.code;
  // Connection refused, unknown host, bad password, unknown database; a table or schema the
  // command needs that is not there (not migrated, or the wrong --schema): all configuration.
  if (
    ['ECONNREFUSED', 'ENOTFOUND', '28P01', '28000', '3D000', '42P01', '3F000'].includes(
      String(code),
    )
  ) {
    return exitCodes.config;
  }
  return exitCodes.failed;
}

export function addStorageOptions(command: Command, variable: string, what: string): Command {
  return command
    .addOption(new Option('--bucket <name>', `S3 bucket for ${what}`).env(variable))
    .addOption(
      new Option('--s3-endpoint <url>', 'S3-compatible endpoint (MinIO, R2…)').env('S3_ENDPOINT'),
    )
    .addOption(new Option('--s3-region <region>', 'S3 region').env('AWS_REGION'))
    .option('--storage-dir <path>', `a local directory instead of S3 for ${what}`);
}

/**
 * Wraps a command body: the exit code it returns is recorded, and any failure becomes a message
 * on stderr (or `{ ok: false, error }` with `--json`) and the exit code for it.
 */
export type CommandAction = <A extends unknown[]>(
  body: (output: Output, ...args: A) => Promise<ExitCode>,
) => (...args: A) => Promise<void>;

export function commandAction(io: CliIo, setExit: (code: ExitCode) => void): CommandAction {
  const outputOf = (json: boolean | undefined) =>
    new Output({ json: json === true, stdout: io.stdout, stderr: io.stderr });
  return <A extends unknown[]>(body: (output: Output, ...args: A) => Promise<ExitCode>) =>
    async (...args: A) => {
      const flags = args.at(-2) as { json?: boolean };
      const output = outputOf(flags?.json);
      try {
        setExit(await body(output, ...args));
      } catch (error) {
        const code = exitCodeFor(error);
        const message = error instanceof Error ? error.message : String(error);
        output.error(message);
        output.result({
          ok: false,
          error: { code: isBallastError(error) ? error.code : 'INTERNAL', message },
        });
        setExit(code);
      }
    };
}
