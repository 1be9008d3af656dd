// CommonJS smoke test: every documented entry point loads with require() and works.
const assert = require('node:assert/strict');
const core = require('@ballast/core');
const coreKit = require('@ballast/core/adapter-kit');
const testing = require('@ballast/core/testing');
const server = require('@ballast/server');
const serverKit = require('@ballast/server/adapter-kit');
// Every entry point of every installed @ballast package, from the packages' own exports maps.
const app = require('./package.json');
const entries = Object.keys(app.dependencies)
  .filter((name) => name.startsWith('@ballast/'))
  .flatMap((name) =>
    Object.keys(require(`${name}/package.json`).exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? name : `${name}/${key.slice(2)}`)),
  );
const loaded = entries.map((specifier) => [specifier, require(specifier)]);

async function main() {
  let calls = 0;
  const value = await core.retry(
    async () => {
      calls += 1;
      if (calls < 2) throw new Response(null, { status: 503 });
      return 'ok';
    },
    { delays: [1] },
  );
  assert.deepEqual([value, calls], ['ok', 2]);
  // One class across entry points: an error made by one subpath is recognised by another.
  const refusing = {
    '~standard': { version: 1, vendor: 'smoke', validate: () => ({ issues: [{ message: 'no' }] }) },
  };
  try {
    coreKit.parseOptions(refusing, {}, 'smoke()');
    assert.fail('parseOptions accepted invalid options');
  } catch (caught) {
    assert.ok(
      caught instanceof core.BallastError,
      'adapter-kit throws the main entry’s BallastError',
    );
    assert.equal(caught.code, 'INVALID_OPTIONS');
  }
  assert.equal(typeof testing.injectFaults, 'function');
  assert.equal(typeof server.idempotency, 'function');
  assert.equal(typeof serverKit.createIdempotencyGuard, 'function');
  for (const [specifier, module] of loaded) {
    assert.ok(Object.keys(module).length > 0, `${specifier} exports nothing`);
  }
  console.log(`cjs: ${loaded.length} entry points loaded, retry and parseOptions work`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
