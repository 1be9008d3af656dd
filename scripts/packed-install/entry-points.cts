// The CommonJS view of the same packages: `require` conditions and `.d.cts` types.
import core = require('@ballast/core');
import kit = require('@ballast/core/adapter-kit');
import testing = require('@ballast/core/testing');
import server = require('@ballast/server');
import serverKit = require('@ballast/server/adapter-kit');
import express = require('@ballast/adapters/express');
import postgres = require('@ballast/adapters/postgres');

export const error: core.BallastError = new core.BallastError('TIMEOUT');
export const retried: Promise<string> = core.retry(async () => 'ok');
export const parse: typeof kit.parseOptions = kit.parseOptions;
export const inject: typeof testing.injectFaults = testing.injectFaults;
export const middleware: typeof server.idempotency = server.idempotency;
export const guard: typeof serverKit.createIdempotencyGuard = serverKit.createIdempotencyGuard;
export const adapters = [express.expressIdempotency, postgres.PostgresIdempotencyStore] as const;
