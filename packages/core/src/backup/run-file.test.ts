import { describe, expect, it } from 'vitest';
import { MemoryBackupFiles } from './memory-backup-files.js';
import { runFile } from './run-file.js';

const name = '20261204T020000Z-3f9a1c.dump';

describe('runFile', () => {
  const files = new MemoryBackupFiles();

  it('answers the name when the run recorded no location, or the one the port gives today', () => {
    expect(runFile(files, { path: name, location: undefined })).toBe(name);
    expect(runFile(files, { path: name, location: files.locate(name) })).toBe(name);
  });

  it('answers the recorded location of the same file in another directory', () => {
    expect(runFile(files, { path: name, location: `/srv/then/${name}` })).toBe(`/srv/then/${name}`);
    expect(runFile(files, { path: name, location: `C:\\backups\\${name}` })).toBe(
      `C:\\backups\\${name}`,
    );
  });

  it('trusts only the name when the recorded location names another file', () => {
    for (const location of [
      `/srv/then/old-${name}`,
      `/srv/then/x${name}`,
      `/srv/then/${name}.bak`,
      name.slice(1),
      '',
    ]) {
      expect(runFile(files, { path: name, location })).toBe(name);
    }
  });
});
