// CommonJS smoke test: every documented entry point loads with require() and works.
const assert = require('node:assert/strict');
const core = require('@ballast/core');
const coreKit = require('@ballast/core/adapter-kit');
const testing = require('@ballast/core/testing');
const server = require('@ballast/server');
const serverKit = require('@ballast/server/adapter-kit');
const adapters = ['express', 'fastify', 'postgres', 's3', 'redis', 'fs'].map((subpath) => [
  subpath,
  require(`@ballast/adapters/${subpath}`),
]);

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
  for (const [subpath, module] of adapters) {
    assert.ok(Object.keys(module).length > 0, `@ballast/adapters/${subpath} exports nothing`);
  }
  console.log(`cjs: ${adapters.length + 5} entry points loaded, retry and parseOptions work`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
