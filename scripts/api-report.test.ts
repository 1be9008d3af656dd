import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allEntries,
  publicEntries,
  publishedPackages,
  readExports,
  renderReport,
  reportPath,
  root,
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

  it('gives every function, class and constant users can import a TSDoc comment', () => {
    const undocumented = entries.flatMap((entry) =>
      (exports.get(entry.specifier) ?? [])
        .filter((name) => name.runtime && !name.documented)
        .map((name) => `${entry.specifier}: ${name.name}`),
    );
    expect(undocumented, 'say above each what it is for, its defaults and what it throws').toEqual(
      [],
    );
  });

  it('names every function, class and constant users can import in a docs page', () => {
    // A name users can import but no page mentions is an API nobody can learn except by reading
    // the sources. Type-only names are explained on the pages of the functions that take them.
    const docsDir = join(root, 'docs');
    const docs = readdirSync(docsDir)
      .filter((file) => file.endsWith('.md'))
      .map((file) => readFileSync(join(docsDir, file), 'utf8'))
      .join('\n');
    const mentioned = new Set(docs.match(/[A-Za-z_$][\w$]*/g));
    const undocumented = entries.flatMap((entry) =>
      (exports.get(entry.specifier) ?? [])
        .filter((name) => name.runtime && !mentioned.has(name.name))
        .map((name) => `${entry.specifier}: ${name.name}`),
    );
    expect(undocumented, 'say what each of these is for on the docs page of its module').toEqual(
      [],
    );
  });

  it('names every function, class and constant users can import in a test or example', () => {
    // An export no test, example or packed-install smoke script names may still be reached
    // through another function, but nothing pins what its docs promise: a new export needs a test
    // of its own through the public entry.
    const mentioned = new Set(
      exercisingFiles().flatMap(
        (path) => readFileSync(path, 'utf8').match(/[A-Za-z_$][\w$]*/g) ?? [],
      ),
    );
    const untested = entries.flatMap((entry) =>
      (exports.get(entry.specifier) ?? [])
        .filter((name) => name.runtime && !mentioned.has(name.name))
        .map((name) => `${entry.specifier}: ${name.name}`),
    );
    expect(untested, 'test each of these through its public entry, beside its module').toEqual([]);
  });

  it('has no `export *` in a package entry, so every public name is listed by hand', () => {
    for (const entry of entries) {
      const source = readFileSync(entry.source, 'utf8');
      expect(source, entry.source).not.toMatch(/^export \* /m);
    }
  });
});

/**
 * The files that count as exercising an export: every `*.test.ts`, every source file of an
 * example, and the packed-install smoke scripts. Benchmarks do not count: they measure, and
 * assert nothing about what the docs promise.
 */
function exercisingFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const item of readdirSync(dir, { withFileTypes: true })) {
      if (skippedDirectories.has(item.name)) continue;
      const path = join(dir, item.name);
      if (item.isDirectory()) walk(path);
      else if (exercises(relative(root, path))) files.push(path);
    }
  };
  walk(root);
  return files;
}

const skippedDirectories = new Set(['node_modules', 'dist', 'coverage', '.git', '.tmp']);

function exercises(path: string): boolean {
  if (/\.test\.tsx?$/.test(path)) return true;
  if (/^(examples|scripts[\\/]packed-install)[\\/]/.test(path))
    return /\.(c|m)?(t|j)sx?$/.test(path);
  return false;
}
