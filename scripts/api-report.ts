/**
 * The API report: every name each public entry point exports, with its kind, read from the
 * sources through the TypeScript compiler (so type-only exports count as much as runtime ones).
 *
 * A package's committed `api-report.md` is what users can import today. `api-report.test.ts`
 * fails when the sources export a name the report does not list, or stop exporting one it does:
 * a name that appears or disappears is a change to the public API, so it needs a changeset.
 *
 *   pnpm api:update        rewrite every package's api-report.md from the sources
 *   pnpm api:report        print the counts per entry point
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A public entry point: the import specifier users write and the source file behind it. */
export interface PublicEntry {
  packageName: string;
  packageDir: string;
  specifier: string;
  source: string;
}

export type ExportKind =
  | 'class'
  | 'function'
  | 'const'
  | 'enum'
  | 'namespace'
  | 'interface'
  | 'type';

export interface ExportedName {
  name: string;
  kind: ExportKind;
  /** True when the name exists at run time (a function, class, constant…), not only as a type. */
  runtime: boolean;
  /** True when its declaration is tagged `@internal`: such a name must not be on a public entry. */
  internal: boolean;
  /** True when its declaration has a TSDoc comment (what editors show and the `.d.ts` carries). */
  documented: boolean;
}

/** The published packages, in dependency order. */
export const publishedPackages = ['core', 'server', 'client', 'adapters'] as const;

/**
 * The entry points of a package, read from its `package.json` `exports` and mapped back to the
 * source file tsup builds each from (`dist/<name>.js` ← `src/<name>/index.ts` or `src/index.ts`).
 */
export function publicEntries(pkg: string): PublicEntry[] {
  const packageDir = join(root, 'packages', pkg);
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string;
    private?: boolean;
    exports?: Record<string, unknown>;
  };
  const entries: PublicEntry[] = [];
  for (const subpath of Object.keys(manifest.exports ?? {})) {
    if (subpath === './package.json') continue;
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    const source =
      subpath === '.'
        ? join(packageDir, 'src/index.ts')
        : join(packageDir, 'src', subpath.slice(2), 'index.ts');
    entries.push({ packageName: manifest.name, packageDir, specifier, source });
  }
  return entries;
}

function kindOf(symbol: ts.Symbol): ExportKind {
  const flags = symbol.flags;
  if (flags & ts.SymbolFlags.Class) return 'class';
  if (flags & ts.SymbolFlags.Function) return 'function';
  if (flags & ts.SymbolFlags.Enum) return 'enum';
  if (flags & ts.SymbolFlags.Variable) return 'const';
  if (flags & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) return 'namespace';
  if (flags & ts.SymbolFlags.Interface) return 'interface';
  return 'type';
}

/** Reads the exports of every given entry with one TypeScript program. */
export function readExports(entries: readonly PublicEntry[]): Map<string, ExportedName[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (config === undefined) throw new Error('cannot read tsconfig.json');
  const program = ts.createProgram({
    rootNames: entries.map((entry) => entry.source),
    options: { ...config.options, noEmit: true },
  });
  const checker = program.getTypeChecker();
  const result = new Map<string, ExportedName[]>();
  for (const entry of entries) {
    const file = program.getSourceFile(entry.source);
    if (file === undefined) throw new Error(`${entry.specifier}: ${entry.source} does not exist`);
    const moduleSymbol = checker.getSymbolAtLocation(file);
    const names: ExportedName[] = [];
    for (const exported of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) {
      const target =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const kind = kindOf(target);
      const runtime = (target.flags & ts.SymbolFlags.Value) !== 0 && !isTypeOnlyExport(exported);
      const internal = (target.declarations ?? []).some((declaration) =>
        ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === 'internal'),
      );
      const documented = isDocumented(exported, checker);
      names.push({ name: exported.name, kind, runtime, internal, documented });
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    result.set(entry.specifier, names);
  }
  return result;
}

/**
 * Whether the name has a TSDoc comment: on its declaration, or on a re-export along the way
 * (`export * as v from './small-validator.js'` documents a namespace that has no declaration).
 */
function isDocumented(symbol: ts.Symbol, checker: ts.TypeChecker): boolean {
  let current: ts.Symbol | undefined = symbol;
  for (let hops = 0; current !== undefined && hops < 20; hops++) {
    if (current.getDocumentationComment(checker).length > 0) return true;
    // The comment of `export * as v from …` sits on the export declaration around the name.
    const onExport = (current.declarations ?? []).some(
      (declaration) =>
        ts.isNamespaceExport(declaration) &&
        ts.getJSDocCommentsAndTags(declaration.parent).length > 0,
    );
    if (onExport) return true;
    if (!(current.flags & ts.SymbolFlags.Alias)) return false;
    current = checker.getImmediateAliasedSymbol(current);
  }
  return false;
}

/** `export type { X }` of a class makes only its type public. */
function isTypeOnlyExport(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).some(
    (declaration) =>
      ts.isExportSpecifier(declaration) &&
      (declaration.isTypeOnly || declaration.parent.parent.isTypeOnly),
  );
}

/** The report for one package, as committed in `packages/<pkg>/api-report.md`. */
export function renderReport(pkg: string, exports: Map<string, ExportedName[]>): string {
  const lines = [
    `# API report: ${publicEntries(pkg)[0]?.packageName ?? pkg}`,
    '',
    '<!-- Generated by `pnpm api:update` (scripts/api-report.ts). Do not edit by hand: a name that',
    '     appears or disappears here is a public API change and needs a changeset. -->',
  ];
  for (const entry of publicEntries(pkg)) {
    const names = exports.get(entry.specifier) ?? [];
    const runtime = names.filter((name) => name.runtime).length;
    lines.push('', `## \`${entry.specifier}\``, '');
    lines.push(
      `${names.length} names: ${runtime} runtime values, ${names.length - runtime} types only.`,
      '',
    );
    for (const name of names) lines.push(`- ${name.kind} \`${name.name}\``);
  }
  return `${lines.join('\n')}\n`;
}

export function reportPath(pkg: string): string {
  return join(root, 'packages', pkg, 'api-report.md');
}

export function allEntries(): PublicEntry[] {
  return publishedPackages.flatMap((pkg) => publicEntries(pkg)).filter(existsSource);
}

function existsSource(entry: PublicEntry): boolean {
  return ts.sys.fileExists(entry.source);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2] ?? 'report';
  const exports = readExports(allEntries());
  for (const pkg of publishedPackages) {
    if (!publicEntries(pkg).some(existsSource)) continue;
    if (command === 'update') writeFileSync(reportPath(pkg), renderReport(pkg, exports));
  }
  for (const [specifier, names] of exports) {
    const runtime = names.filter((name) => name.runtime).length;
    console.log(
      `${specifier.padEnd(28)} ${String(names.length).padStart(4)} names (${runtime} runtime)`,
    );
  }
  if (command === 'update') console.log('api-report.md updated; add a changeset for the change.');
}
