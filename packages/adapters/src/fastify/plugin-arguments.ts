/**
 * A Fastify plugin is meant for `app.register()`, which calls it with the instance, an options
 * object and (callback style) `done`. Called any other way it would fail deep inside with a
 * `TypeError`; this check says what went wrong instead.
 */
import { invalidArgument } from '@ballast/core/adapter-kit';
import { isObject } from '../options/is-object.js';

/** Throws `INVALID_OPTIONS` unless `fastify` is a Fastify instance and `options` an object. */
export function assertPluginArguments(where: string, fastify: unknown, options: unknown): void {
  if (typeof (fastify as { addHook?: unknown } | null)?.addHook !== 'function') {
    throw invalidArgument(
      where,
      'fastify',
      'a Fastify instance: register the plugin with app.register()',
    );
  }
  if (!isObject(options)) throw invalidArgument(where, '(options)', 'an options object');
}

/** {@link assertPluginArguments} for a callback-style plugin, which also needs `done`. */
export function assertCallbackPluginArguments(
  where: string,
  fastify: unknown,
  options: unknown,
  done: unknown,
): void {
  assertPluginArguments(where, fastify, options);
  if (typeof done !== 'function') {
    throw invalidArgument(
      where,
      'done',
      "Fastify's callback: register the plugin with app.register()",
    );
  }
}
