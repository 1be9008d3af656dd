#!/usr/bin/env node
/**
 * `ballast`: the executable. Everything is in `program.ts`; this only binds it to the process.
 * The program is loaded here, not imported statically, so an app without the peers every
 * command needs (kysely, for the database) gets "npm i kysely" and exit 3, not Node's stack.
 */
import { BallastError, isBallastError } from '@ballast/core';
import type { CliIo } from './command-kit.js';
import { exitCodes } from './exit-codes.js';
import { importPeer } from './import-peer.js';
import { redactSecrets } from './redact-secrets.js';

const interrupted = new AbortController();
// The first Ctrl-C or SIGTERM asks the command to stop cleanly (a backup is recorded failed,
// its partial file deleted); `once`, so a second one falls back to Node's default and ends the
// process at once.
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.once(name, () => {
    process.stderr.write(`ballast: ${name}: stopping (send it again to stop at once)\n`);
    interrupted.abort(new BallastError('ABORTED', { message: `Interrupted by ${name}.` }));
  });
}

const io: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupted.signal,
};

// A reader that went away (`ballast backup list | head`) wants no more output, not a stack
// trace; the command itself carries on (a backup half-way must not be abandoned for it), and
// its exit code still says how it went. Any other stream error stays fatal, as before.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

importPeer(() => import('./program.js'), 'kysely', 'ballast', 'kysely')
  .then(
    ({ runCli }) => runCli(process.argv.slice(2), io),
    (error: unknown) => {
      if (!isBallastError(error, 'INVALID_OPTIONS')) throw error;
      process.stderr.write(`ballast: ${error.message}\n`);
      // `--json` promises one document on stdout, also when the program cannot even load.
      if (process.argv.includes('--json')) {
        const document = { ok: false, error: { code: error.code, message: error.message } };
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
      }
      return exitCodes.config;
    },
  )
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(
      redactSecrets(
        `ballast: unexpected failure: ${error instanceof Error ? error.stack : String(error)}\n`,
      ),
    );
    process.exitCode = 1;
  });
