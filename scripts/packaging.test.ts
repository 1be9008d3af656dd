/**
 * What each published package declares matches what its code uses: every package it imports is a
 * dependency or a peer, every dependency is used, and the licence ships with it. (The packed
 * tarballs themselves are checked by scripts/packed-install-check.sh in CI.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { publishedPackages } from './api-report.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Manifest {
  name: string;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Package names imported (statically or with `import()`) by the package's sources. */
function importedPackages(pkg: string): Map<string, string[]> {
  const imported = new Map<string, string[]>();
  for (const file of sourceFiles(join(root, 'packages', pkg, 'src'))) {
    // The compiler's own pre-parser: real imports only, never text in strings or comments.
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const specifiers = importedFiles
      .map((imported) => imported.fileName)
      .filter((specifier) => !specifier.startsWith('.'));
    for (const specifier of specifiers) {
      const parts = specifier.split('/');
      const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
      imported.set(name, [...(imported.get(name) ?? []), file.slice(root.length + 1)]);
    }
  }
  return imported;
}

/**
 * The optional peers a user of `@ballast/adapters/<subpath>` installs, by the rule
 * scripts/packed-install-check.sh applies: those named on the first install line (`pnpm add` /
 * `npm i`) of docs/adapters-<subpath>.md, else the peer the subpath is named after.
 */
function documentedPeers(subpath: string, optional: string[]): string[] {
  const page = join(root, 'docs', `adapters-${subpath}.md`);
  const named = optional.includes(subpath) ? [subpath] : [];
  let text: string;
  try {
    text = readFileSync(page, 'utf8');
  } catch {
    return named;
  }
  const install = text.split('\n').find((line) => /^(pnpm add|npm i(nstall)?) /.test(line));
  return install ? install.split(/\s+/).filter((word) => optional.includes(word)) : named;
}

/**
 * Packages a subpath's sources import statically, type-only imports included: those reach its
 * `.d.ts`, so a user's type check needs them installed. A dynamic `import()` loads on demand
 * and is not counted.
 */
function staticImports(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(dir)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const statement of source.statements) {
      const specifier =
        (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
        statement.moduleSpecifier !== undefined &&
        ts.isStringLiteral(statement.moduleSpecifier)
          ? statement.moduleSpecifier.text
          : undefined;
      if (specifier === undefined || specifier.startsWith('.')) continue;
      const parts = specifier.split('/');
      const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
      if (!found.has(name)) found.set(name, file.slice(root.length + 1));
    }
  }
  return found;
}

const isBuiltin = (name: string) => name.startsWith('node:') || builtinModules.includes(name);
const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');

describe('packaging', () => {
  it('has an MIT licence at the root', () => {
    expect(rootLicense).toMatch(/^MIT License/);
  });

  for (const pkg of publishedPackages) {
    const dir = join(root, 'packages', pkg);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

    it(`${manifest.name} ships the licence`, () => {
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(rootLicense);
      expect(manifest.files).toContain('LICENSE');
    });

    it(`${manifest.name} declares every package it imports, and uses every dependency`, () => {
      let imported: Map<string, string[]>;
      try {
        imported = importedPackages(pkg);
      } catch {
        return; // no sources yet (a planned package)
      }
      const declared = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ]);
      const undeclared = [...imported]
        .filter(([name]) => !isBuiltin(name) && !declared.has(name) && name !== manifest.name)
        .map(([name, files]) => `${name} (${files[0]})`);
      expect(undeclared, 'add these to dependencies or peerDependencies').toEqual([]);
      const unused = Object.keys(manifest.dependencies ?? {}).filter((name) => !imported.has(name));
      expect(unused, 'remove these dependencies').toEqual([]);
      // Heavy ecosystem libraries are optional peers, never dependencies.
      for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
        expect(manifest.peerDependenciesMeta?.[peer]?.optional, `${peer} optional`).toBe(true);
      }
    });
  }

  it('lets each @ballast/adapters subpath type-check with only its documented peers installed', () => {
    const dir = join(root, 'packages', 'adapters');
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest & {
      exports: Record<string, unknown>;
    };
    const optional = Object.keys(manifest.peerDependencies ?? {});
    const strays: string[] = [];
    for (const key of Object.keys(manifest.exports)) {
      if (key === './package.json') continue;
      const subpath = key.slice(2);
      const allowed = documentedPeers(subpath, optional);
      for (const [name, file] of staticImports(join(dir, 'src', subpath))) {
        if (optional.includes(name) && !allowed.includes(name)) strays.push(`${name} (${file})`);
      }
    }
    // With skipLibCheck off, a .d.ts importing a peer the user never installed fails their build.
    expect(strays, 'describe these types structurally, or name the peer on the docs page').toEqual(
      [],
    );
  });

  it('keeps static Node built-ins out of @ballast/core (browsers and edge runtimes load it)', () => {
    const builtins = [...importedPackages('core')].filter(([name]) => isBuiltin(name));
    expect(builtins.map(([name, files]) => `${name} (${files[0]})`)).toEqual([]);
  });
});
