/**
 * Backup files in memory, for tests and the demo. `corrupt()` flips a byte, which is how tests
 * prove that verification notices damage.
 */
import type { BackupFiles } from './backup-ports.js';

const prefix = 'memory:';

/** The name of a file given by name or by the location `locate()` answered. */
const nameOf = (name: string) => (name.startsWith(prefix) ? name.slice(prefix.length) : name);

/** {@link BackupFiles} in memory. */
export class MemoryBackupFiles implements BackupFiles {
  readonly #files = new Map<string, Uint8Array>();

  async write(name: string, body: ReadableStream<Uint8Array>): Promise<void> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      size += chunk.byteLength;
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.#files.set(name, bytes);
  }

  async read(name: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const bytes = this.#files.get(nameOf(name));
    if (!bytes) return undefined;
    return new ReadableStream({
      start(controller) {
        controller.enqueue(bytes.slice());
        controller.close();
      },
    });
  }

  async size(name: string): Promise<number | undefined> {
    return this.#files.get(nameOf(name))?.byteLength;
  }

  async delete(name: string): Promise<void> {
    this.#files.delete(nameOf(name));
  }

  locate(name: string): string {
    return `${prefix}${name}`;
  }

  /** Names of the files held, sorted. */
  names(): string[] {
    return [...this.#files.keys()].sort();
  }

  /** Flips the bits of the byte at `offset` (default: the middle) of `name`. Test tool. */
  corrupt(name: string, offset?: number): void {
    const bytes = this.#files.get(name);
    if (!bytes || bytes.byteLength === 0) throw new Error(`no file ${name} to corrupt`);
    const at = offset ?? Math.floor(bytes.byteLength / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  }
}
