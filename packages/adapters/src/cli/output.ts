/**
 * How the CLI talks: JSON (`--json`, one document on stdout, for scripts), a live progress
 * line on a terminal (cli-progress), or plain lines when stdout is not a TTY (logs, CI), so
 * nothing ever writes carriage-return animations into a log file. Whatever it prints has URL
 * passwords redacted (`redact-secrets.ts`).
 */
import cliProgress from 'cli-progress';
import { redactSecrets } from './redact-secrets.js';

export interface OutputOptions {
  readonly json: boolean;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** A progress display: a bar on a TTY, nothing (plain lines come from `line`) otherwise. */
export interface Progress {
  update(value: number, payload?: Record<string, string>): void;
  stop(): void;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export class Output {
  readonly json: boolean;
  readonly #stdout: NodeJS.WriteStream;
  readonly #stderr: NodeJS.WriteStream;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
  }

  /** Whether live progress may be drawn (a terminal, not `--json`). */
  get interactive(): boolean {
    return !this.json && this.#stderr.isTTY === true;
  }

  /** A human line on stdout (suppressed under `--json`). */
  line(text: string): void {
    if (!this.json) this.#stdout.write(redactSecrets(`${text}\n`));
  }

  /** An error line on stderr (always; under `--json` the document carries it too). */
  error(text: string): void {
    this.#stderr.write(redactSecrets(`ballast: ${text}\n`));
  }

  /** The one JSON document of a `--json` run. */
  result(value: unknown): void {
    // Redacted per string, not on the serialized text, so the document stays valid JSON.
    const document = JSON.stringify(
      value,
      (_key, item: unknown) => (typeof item === 'string' ? redactSecrets(item) : item),
      2,
    );
    if (this.json) this.#stdout.write(`${document}\n`);
  }

  /**
   * A progress bar on stderr when interactive. `total` 0 means unknown: the bar shows the
   * payload (bytes, rate) without a percentage.
   */
  progress(format: string, total: number): Progress {
    if (!this.interactive) return { update() {}, stop() {} };
    const bar = new cliProgress.SingleBar(
      { format, stream: this.#stderr, hideCursor: true, clearOnComplete: true, fps: 10 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update: (value, payload) => bar.update(value, payload),
      stop: () => bar.stop(),
    };
  }
}
