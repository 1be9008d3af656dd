/**
 * The `ballast` command line: `ballast backup run|list|verify|restore` and
 * `ballast reconcile [--dry-run]`. Built on commander (subcommands, `--help` for every
 * command, typed options, usage errors we map to exit code 2) and cli-progress (a live line on
 * a terminal only). The commands live in `backup-commands.ts` and `reconcile-command.ts`, what
 * they share in `command-kit.ts`.
 */
import { Command, CommanderError } from 'commander';
import { addBackupCommands } from './backup-commands.js';
import { type CliIo, commandAction, exitCodeHelp } from './command-kit.js';
import { type ExitCode, exitCodes } from './exit-codes.js';
import { addReconcileCommand } from './reconcile-command.js';
import { redactSecrets } from './redact-secrets.js';

export type { CliIo } from './command-kit.js';

export function buildProgram(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const action = commandAction(io, setExit);
  const program = new Command('ballast')
    .description('Ballast operations: database backups and storage reconciliation.')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', exitCodeHelp)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Commander quotes the token it refuses, which may be a URL with its password.
      writeErr: (text) => io.stderr.write(redactSecrets(text)),
    })
    .exitOverride();

  addBackupCommands(program, io, action);
  addReconcileCommand(program, io, action);
  return program;
}

/** Runs the CLI with `argv` (without the node and script paths); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; anything else commander refuses is usage.
      if (error.exitCode === 0) return exitCodes.ok;
      // Commander refused the line before any action ran, so no command wrote the one JSON
      // document that --json promises a script on stdout; write it here (stderr has the text).
      if (argv.includes('--json')) {
        const message = redactSecrets(error.message.replace(/^error: /, ''));
        io.stdout.write(
          `${JSON.stringify({ ok: false, error: { code: 'USAGE', message } }, null, 2)}\n`,
        );
      }
      return exitCodes.usage;
    }
    throw error;
  }
  return exitCode;
}
