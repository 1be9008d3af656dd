/**
 * What each published package declares matches what its code uses: every package it imports is a
 * dependency or a peer, every dependency is used, and the licence ships with it. (The packed
 * tarballs themselves are checked by scripts/packed-install-check.sh in CI.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
    // Comments hold examples (`import pg from 'pg'`) that are not the package's imports.
    const source = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const specifiers = [
      // import … from 'x' / export … from 'x' (statements may span lines)
      ...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gm),
      // import 'x' and import('x')
      ...source.matchAll(/\bimport\s*\(?\s*'([^']+)'/g),
    ]
      .map((match) => match[1] as string)
      .filter((specifier) => /^(@[\w.-]+\/)?[\w.:-]+(\/[\w./-]*)?$/.test(specifier))
      .filter((specifier) => !specifier.startsWith('.'));
    for (const specifier of specifiers) {
      const parts = specifier.split('/');
      const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
      imported.set(name, [...(imported.get(name) ?? []), file.slice(root.length + 1)]);
    }
  }
  return imported;
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

  it('keeps static Node built-ins out of @ballast/core (browsers and edge runtimes load it)', () => {
    const builtins = [...importedPackages('core')].filter(([name]) => isBuiltin(name));
    expect(builtins.map(([name, files]) => `${name} (${files[0]})`)).toEqual([]);
  });
});
