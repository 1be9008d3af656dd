import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  allBlocks,
  checkBlocks,
  type DocBlock,
  describeProblem,
  docFiles,
  extractBlocks,
  publicNamesFromReports,
} from './docs-code-blocks.js';

const fence = '```';

const examples = fileURLToPath(new URL('../examples', import.meta.url));

function exampleSources(dir = examples): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return exampleSources(path);
    return /\.(ts|tsx|js|mjs)$/.test(name) ? [path] : [];
  });
}

// Blocks that must not compile: proof that the check can fail, checked in the same program as
// the docs (one TypeScript program is the expensive part).
const mustFail: DocBlock[] = [
  {
    file: 'probe/misspelt-option.md',
    line: 1,
    index: 1,
    code: "import { retry } from '@ballast/core';\nawait retry(async () => 1, { retriez: 2 });",
  },
  {
    file: 'probe/moved-export.md',
    line: 1,
    index: 1,
    code: "import { injectFaults } from '@ballast/core';",
  },
  {
    file: 'probe/adapter-kit-name.md',
    line: 1,
    index: 1,
    code: 'const yes: boolean = isPromiseLike(Promise.resolve(1));',
  },
];
const mustPass: DocBlock[] = [
  // An excerpt: `request` comes from earlier on the page, `retry` from an earlier block.
  {
    file: 'probe/excerpt.md',
    line: 1,
    index: 1,
    code: 'await retry(({ signal }) => fetch(request.url, { signal }), { retries: 2 });',
  },
];

const blocks = allBlocks();
const problems = checkBlocks([...blocks, ...mustFail, ...mustPass], publicNamesFromReports());
const failing = (file: string) => problems.filter((problem) => problem.block.file === file);

describe('docs code blocks', () => {
  it('finds the ts blocks of the docs pages', () => {
    expect(blocks.length).toBeGreaterThan(40);
  });

  for (const file of docFiles()) {
    it(`compile in ${file}`, () => {
      const found = failing(file);
      expect(
        found.length,
        `${found.map(describeProblem).join('\n\n')}\n\nFix the block, declare what it assumes ` +
          'with a `// declare: const x: T` line, or mark a deliberate fragment ```ts nocheck.',
      ).toBe(0);
    });
  }

  it('imports adapter-kit entries only on the page for adapter authors, and never in examples', () => {
    const kitImport = /from '@ballast\/[a-z]+\/adapter-kit'/;
    const onUserPages = blocks
      .filter((block) => block.file !== 'docs/adapter-kit.md' && kitImport.test(block.code))
      .map((block) => `${block.file}, block ${block.index} (line ${block.line})`);
    expect(onUserPages, 'use the public entries, or move the block to docs/adapter-kit.md').toEqual(
      [],
    );
    const inExamples = exampleSources().filter((file) =>
      kitImport.test(readFileSync(file, 'utf8')),
    );
    expect(inExamples, 'examples show what applications write: public entries only').toEqual([]);
  });

  it('fails a block with a misspelt option, a moved export or an adapter-kit name', () => {
    for (const block of mustFail) expect(failing(block.file), block.file).not.toEqual([]);
  });

  it('lets an excerpt use names from earlier on its page', () => {
    expect(failing('probe/excerpt.md').map(describeProblem)).toEqual([]);
  });

  it('skips other languages and ts blocks marked nocheck, and numbers the rest', () => {
    const markdown = [
      `${fence}ts`,
      'const a = 1;',
      fence,
      `${fence}sh`,
      'pnpm test',
      fence,
      `${fence}ts nocheck`,
      'retry(fn, { …options })',
      fence,
      `${fence}typescript`,
      'const b = 2;',
      fence,
    ].join('\n');
    expect(extractBlocks('x.md', markdown)).toEqual([
      { file: 'x.md', line: 1, index: 1, code: 'const a = 1;' },
      { file: 'x.md', line: 10, index: 2, code: 'const b = 2;' },
    ]);
  });
});
