/**
 * `pnpm demo`: a guided tour of Ballast. Every scenario in ./scenarios runs real library code
 * with embedded defaults (memory stores, PGlite, a temporary directory), so it needs no server.
 * The exit code is 0 only when every scenario kept every promise it checks.
 *
 * `pnpm demo <word>` runs only the scenarios whose file name contains <word>.
 */
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DemoScenario } from './scenario.js';

const scenariosDir = fileURLToPath(new URL('./scenarios/', import.meta.url));
const filter = process.argv[2];

async function loadScenarios(): Promise<Array<{ file: string; scenario: DemoScenario }>> {
  const files = (await readdir(scenariosDir)).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
  );
  const loaded = await Promise.all(
    files.map(async (file) => {
      const module = (await import(pathToFileURL(join(scenariosDir, file)).href)) as {
        default: DemoScenario;
      };
      return { file: basename(file, '.ts'), scenario: module.default };
    }),
  );
  return loaded
    .filter(({ file }) => !filter || file.includes(filter))
    .sort((a, b) => a.scenario.order - b.scenario.order || a.file.localeCompare(b.file));
}

const results: Array<{ title: string; ok: boolean; ms: number }> = [];
const scenarios = await loadScenarios();
if (scenarios.length === 0) {
  console.error(`No demo scenario matches "${filter}".`);
  process.exit(1);
}

console.log(`Ballast demo: ${scenarios.length} scenarios, no servers needed.\n`);
for (const [index, { scenario }] of scenarios.entries()) {
  console.log(`${index + 1}. ${scenario.title}`);
  const started = performance.now();
  let ok = false;
  try {
    ok = await scenario.run((line) => console.log(`   ${line}`));
  } catch (error) {
    console.log(
      `   ✗ the scenario threw: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const ms = Math.round(performance.now() - started);
  results.push({ title: scenario.title, ok, ms });
  console.log(`   ${ok ? '✓ behaved as promised' : '✗ did NOT behave as promised'} (${ms} ms)\n`);
}

const failed = results.filter((result) => !result.ok);
console.log('Summary');
for (const result of results) console.log(`  ${result.ok ? '✓' : '✗'} ${result.title}`);
console.log(
  failed.length === 0
    ? `\nAll ${results.length} scenarios behaved as promised.`
    : `\n${failed.length} of ${results.length} scenarios failed.`,
);
process.exit(failed.length === 0 ? 0 : 1);
