import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  allEntries,
  publicEntries,
  publishedPackages,
  readExports,
  renderReport,
  reportPath,
} from './api-report.js';

// One TypeScript program for every entry: reading the exports costs a few seconds, once.
const entries = allEntries();
const exports = readExports(entries);

const howToUpdate =
  'The public API changed. If that is intended, run `pnpm api:update`, commit the api-report.md ' +
  'diff, and add a changeset (`pnpm changeset`; on 0.x a removed or renamed name is a minor bump ' +
  'whose changeset says what users import instead).';

function listed(report: string, specifier: string): string[] {
  const section = report.split(/^## /m).find((part) => part.startsWith(`\`${specifier}\``));
  return [...(section ?? '').matchAll(/^- \w+ `([^`]+)`$/gm)].map((match) => match[1] as string);
}

describe('the API report', () => {
  for (const pkg of publishedPackages) {
    const pkgEntries = publicEntries(pkg).filter((entry) => exports.has(entry.specifier));
    if (pkgEntries.length === 0) continue;

    it(`lists exactly what @ballast/${pkg}'s entry points export`, () => {
      const path = reportPath(pkg);
      const committed = existsSync(path) ? readFileSync(path, 'utf8') : '';
      for (const entry of pkgEntries) {
        const current = (exports.get(entry.specifier) ?? []).map((name) => name.name);
        const before = listed(committed, entry.specifier);
        const added = current.filter((name) => !before.includes(name));
        const removed = before.filter((name) => !current.includes(name));
        expect(
          { entry: entry.specifier, added, removed },
          `${entry.specifier}: ${added.length} name(s) appeared, ${removed.length} disappeared. ${howToUpdate}`,
        ).toEqual({ entry: entry.specifier, added: [], removed: [] });
      }
      // Kinds and counts too (a class turned into a type is a change as well).
      expect(committed, howToUpdate).toBe(renderReport(pkg, exports));
    });
  }

  it('reaches nothing marked @internal from a public entry', () => {
    const leaks = entries.flatMap((entry) =>
      (exports.get(entry.specifier) ?? [])
        .filter((name) => name.internal)
        .map((name) => `${entry.specifier}: ${name.name}`),
    );
    expect(leaks, 'move these to an adapter-kit entry or stop exporting them').toEqual([]);
  });

  it('matches what each entry exports at run time', async () => {
    for (const entry of entries) {
      const module = (await import(/* @vite-ignore */ entry.specifier)) as Record<string, unknown>;
      const runtime = (exports.get(entry.specifier) ?? [])
        .filter((name) => name.runtime)
        .map((name) => name.name);
      expect(Object.keys(module).sort(), entry.specifier).toEqual(runtime.sort());
    }
  });

  it('has no `export *` in a package entry, so every public name is listed by hand', () => {
    for (const entry of entries) {
      const source = readFileSync(entry.source, 'utf8');
      expect(source, entry.source).not.toMatch(/^export \* /m);
    }
  });
});
