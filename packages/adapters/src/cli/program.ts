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

export type { CliIo } from './command-kit.js';

export function buildProgram(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const action = commandAction(io, setExit);
  const program = new Command('ballast')
    .description('Ballast operations: database backups and storage reconciliation.')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', exitCodeHelp)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
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
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    throw error;
  }
  return exitCode;
}
