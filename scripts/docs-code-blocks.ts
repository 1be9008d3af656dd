/**
 * Type-checks the TypeScript code blocks of the docs, so a renamed option or a moved export
 * cannot leave a page that no longer compiles.
 *
 * Every ```ts block of `docs/*.md` and the packages' READMEs is compiled as its own module
 * (strict, like the repository), resolving `@ballast/*` to the sources and peers such as
 * `express` or `ioredis` as the adapters package does.
 *
 * Docs blocks are excerpts: they use names the page introduced earlier (`request`, `db`,
 * `storage`) and Ballast functions imported in an earlier block. So a block is checked as a
 * fragment: a Ballast export it uses without importing is imported for it, and a name nobody
 * declared is let through (as `any`). Everything else is checked: imports that no longer
 * exist, unknown or misspelt options, wrong argument and return types, misused results. A
 * block can also state what it assumes in a comment that is compiled as declarations:
 *
 *     // declare: const request: Request
 *     // declare: function createSale(body: unknown): Promise<Response>
 *
 * (one declaration per line).
 * A deliberate fragment that is not TypeScript on its own opts out with `ts nocheck` as its
 * info string.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { publishedPackages, reportPath } from './api-report.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface DocBlock {
  /** Path of the Markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** Position among the file's checked blocks, from 1. */
  readonly index: number;
  readonly code: string;
}

export interface BlockProblem {
  readonly block: DocBlock;
  readonly messages: string[];
}

/** The Markdown files whose blocks are checked. */
export function docFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  const readmes = readdirSync(join(root, 'packages')).map((pkg) => `packages/${pkg}/README.md`);
  return [...docs, ...readmes, 'README.md'].filter((file) => ts.sys.fileExists(join(root, file)));
}

const fence = /^(\s*)(```+|~~~+)\s*([\w-]*)([^\n]*)$/;

/** The ```ts / ```typescript blocks of `markdown` that are not marked `nocheck`. */
export function extractBlocks(file: string, markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const lines = markdown.split('\n');
  let open: { marker: string; line: number; checked: boolean; body: string[] } | undefined;
  lines.forEach((text, position) => {
    const match = fence.exec(text);
    if (open === undefined) {
      if (match === null) return;
      const language = (match[3] ?? '').toLowerCase();
      const checked =
        (language === 'ts' || language === 'typescript') && !/\bnocheck\b/.test(match[4] ?? '');
      open = { marker: match[2] as string, line: position + 1, checked, body: [] };
      return;
    }
    if (match !== null && (match[2] as string).startsWith(open.marker) && !match[3]) {
      if (open.checked) {
        blocks.push({
          file,
          line: open.line,
          index: blocks.length + 1,
          code: open.body.join('\n'),
        });
      }
      open = undefined;
      return;
    }
    open.body.push(text);
  });
  return blocks;
}

/**
 * Diagnostics that only say a block is an excerpt: a name declared elsewhere on the page, a
 * callback parameter whose type would come from it, a `return` from the enclosing handler.
 */
const excerptCodes = new Set([
  1108, // A 'return' statement can only be used within a function body.
  2304, // Cannot find name.
  2552, // Cannot find name. Did you mean …?
  7006, // Parameter implicitly has an 'any' type.
  7031, // Binding element implicitly has an 'any' type.
  18004, // No value exists in scope for the shorthand property.
]);

/** Where a public name is imported from, and whether it is a type only. */
export interface PublicName {
  readonly specifier: string;
  readonly typeOnly: boolean;
  /** Only on an adapter-kit entry: never imported for a block, and never let through unimported. */
  readonly adapterKit: boolean;
}

/** True for a diagnostic that only says the block is an excerpt (see {@link excerptCodes}). */
function isExcerptOnly(diagnostic: ts.Diagnostic, publicNames: PublicNames): boolean {
  if (!excerptCodes.has(diagnostic.code)) return false;
  const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  const name = /^Cannot find name '([^']+)'/.exec(text)?.[1];
  // An adapter-kit name used without an import is not an excerpt: a user would need it.
  return name === undefined || publicNames.get(name)?.adapterKit !== true;
}

/** Every name a public `@ballast/*` entry exports, with the first entry that exports it. */
export type PublicNames = ReadonlyMap<string, PublicName>;

/** The block as a module: `// declare:` lines become declarations, and it is made a module. */
export function blockSource(block: DocBlock, publicNames: PublicNames = new Map()): string {
  const body = block.code
    .split('\n')
    .map((line) => {
      const declared = /^\s*\/\/\s*declare:\s*(.*)$/.exec(line);
      if (declared === null) return line;
      return `declare ${(declared[1] as string).trim()}`;
    })
    .join('\n');
  return `${body}\n${missingImports(body, publicNames)}export {};\n`;
}

/** Imports for the Ballast names `code` uses but neither imports nor declares. */
function missingImports(code: string, publicNames: PublicNames): string {
  const imported = new Set(
    [...code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((match) =>
      (match[1] as string).split(',').map(
        (part) =>
          part
            .replace(/^\s*type\s+/, '')
            .trim()
            .split(/\s+as\s+/)
            .pop() ?? '',
      ),
    ),
  );
  const declared = new Set(
    [
      ...code.matchAll(/\b(?:const|let|var|function|class|interface|type)\s+([A-Za-z_$][\w$]*)/g),
    ].map((match) => match[1] as string),
  );
  const bySpecifier = new Map<string, string[]>();
  const used = new Set(code.match(/(?<![.\w$'"`])[A-Za-z_$][\w$]*/g) ?? []);
  for (const name of used) {
    const found = publicNames.get(name);
    if (found === undefined || found.adapterKit || imported.has(name) || declared.has(name)) {
      continue;
    }
    const specifier = found.specifier;
    const spec = found.typeOnly ? `type ${name}` : name;
    bySpecifier.set(specifier, [...(bySpecifier.get(specifier) ?? []), spec]);
  }
  return [...bySpecifier]
    .map(([specifier, names]) => `import { ${names.join(', ')} } from '${specifier}';\n`)
    .join('');
}

/** Compiles every block in one program and returns the blocks that do not compile. */
export function checkBlocks(
  blocks: readonly DocBlock[],
  publicNames: PublicNames = new Map(),
): BlockProblem[] {
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
  // The virtual files sit in the adapters package, so peers (express, ioredis, the AWS SDK)
  // resolve from its node_modules exactly as for the adapters' own sources.
  const home = join(root, 'packages/adapters/docs-blocks');
  const sources = new Map<string, DocBlock>();
  for (const block of blocks) {
    const name = `${block.file.replace(/[/.]/g, '_')}_${block.index}.ts`;
    sources.set(join(home, name), block);
  }
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    // Examples often introduce a value to show its type and leave it unused.
    noUnusedLocals: false,
    noUnusedParameters: false,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (path) => {
    const block = sources.get(path);
    return block ? blockSource(block, publicNames) : readFile(path);
  };
  host.fileExists = (path) => sources.has(path) || fileExists(path);
  host.getSourceFile = (path, languageVersion, onError, shouldCreate) => {
    const block = sources.get(path);
    if (block) {
      return ts.createSourceFile(path, blockSource(block, publicNames), languageVersion, true);
    }
    return getSourceFile(path, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram({ rootNames: [...sources.keys()], options, host });
  const problems: BlockProblem[] = [];
  for (const [path, block] of sources) {
    const file = program.getSourceFile(path);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(file),
      ...program.getSemanticDiagnostics(file),
    ].filter((diagnostic) => !isExcerptOnly(diagnostic, publicNames));
    if (diagnostics.length === 0) continue;
    problems.push({
      block,
      messages: diagnostics.map((diagnostic) => {
        const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
        if (diagnostic.file === undefined || diagnostic.start === undefined) return text;
        const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
        // Line within the Markdown file: the fence line, plus the block's own line.
        return `${block.file}:${block.line + line + 1}: ${text}`;
      }),
    });
  }
  return problems;
}

/**
 * The names users can import, read from the committed API reports (which the API report test
 * keeps true). Names only on an adapter-kit entry are marked: a page for users must not need
 * them, so a block that uses one without importing it fails.
 */
export function publicNamesFromReports(): PublicNames {
  const names = new Map<string, PublicName>();
  for (const pkg of publishedPackages) {
    const path = reportPath(pkg);
    if (!ts.sys.fileExists(path)) continue;
    for (const section of readFileSync(path, 'utf8').split(/^## /m).slice(1)) {
      const specifier = /^`([^`]+)`/.exec(section)?.[1];
      if (specifier === undefined) continue;
      const adapterKit = specifier.endsWith('/adapter-kit');
      for (const match of section.matchAll(/^- (\w+) `([^`]+)`$/gm)) {
        const [, kind, name] = match as unknown as [string, string, string];
        if (names.has(name) && !names.get(name)?.adapterKit) continue;
        names.set(name, {
          specifier,
          typeOnly: kind === 'interface' || kind === 'type',
          adapterKit,
        });
      }
    }
  }
  return names;
}

export function allBlocks(): DocBlock[] {
  return docFiles().flatMap((file) => extractBlocks(file, readFileSync(join(root, file), 'utf8')));
}

export function describeProblem(problem: BlockProblem): string {
  const { block } = problem;
  return [
    `${block.file}, block ${block.index} (line ${block.line}):`,
    ...problem.messages.map((message) => `  ${message}`),
  ].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const blocks = allBlocks();
  const problems = checkBlocks(blocks, publicNamesFromReports());
  for (const problem of problems) console.log(`${describeProblem(problem)}\n`);
  console.log(`${blocks.length} blocks checked, ${problems.length} do not compile`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
