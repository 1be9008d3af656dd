/**
 * Ambient trace context, for code that cannot be handed the context explicitly (a logger deep
 * in a library, the signing client called from a service method). It uses `AsyncLocalStorage`
 * where the runtime has it: Node, Bun, Deno, and Cloudflare Workers with `nodejs_compat`.
 *
 * This is the only Node-flavoured file of the trace module. It does not `import` from
 * `node:async_hooks`, because `@ballast/server` is built for the neutral platform and must load
 * in a browser or an edge runtime without Node compatibility. It asks for the module through
 * `process.getBuiltinModule` (Node ≥ 20.16, Deno, Bun, Workers with `nodejs_compat`) at first
 * use instead; where that does not exist, ambient context is simply absent and everything still
 * works through the explicit context argument.
 */

import type { Logger, TraceContext } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';
import { isObject } from '../options/is-object.js';

/** What a traced request exposes to the code that handles it. */
export interface TraceScope {
  /** The request's trace context. */
  readonly trace: TraceContext;
  /** A logger that writes this trace's ids on every line. */
  readonly logger: Logger;
}

// The two methods Ballast uses, typed here so no Node type leaks into the public declarations.
interface AsyncStorage<T> {
  run<R>(store: T, callback: () => R): R;
  getStore(): T | undefined;
}

type AsyncStorageConstructor = new <T>() => AsyncStorage<T>;

interface BuiltinModuleHost {
  process?: { getBuiltinModule?: (id: string) => { AsyncLocalStorage?: unknown } | undefined };
}

function loadAsyncLocalStorage(): AsyncStorage<TraceScope> | undefined {
  try {
    const host = globalThis as BuiltinModuleHost;
    const asyncHooks = host.process?.getBuiltinModule?.('node:async_hooks');
    const Storage = asyncHooks?.AsyncLocalStorage as AsyncStorageConstructor | undefined;
    return Storage ? new Storage<TraceScope>() : undefined;
  } catch {
    // A runtime that polyfills `process` but refuses the module: ambient context is an extra,
    // so its absence is not an error; the explicit context argument still carries the trace.
    return undefined;
  }
}

let storage: AsyncStorage<TraceScope> | undefined | null = null;

function asyncStorage(): AsyncStorage<TraceScope> | undefined {
  if (storage === null) storage = loadAsyncLocalStorage();
  return storage;
}

/**
 * Whether this runtime carries ambient trace context (`AsyncLocalStorage` is available). When
 * `false`, {@link currentTraceContext} always returns `undefined` and only the explicit context
 * argument carries the trace.
 */
export function hasAmbientTrace(): boolean {
  return asyncStorage() !== undefined;
}

/**
 * Runs `callback` with `scope` as the ambient trace, so {@link currentTraceContext} inside it,
 * and in everything it awaits, returns `scope.trace`. The trace middleware and the Express and
 * Fastify adapters call it per request; call it yourself for work that starts elsewhere (a job
 * whose envelope carries a trace id).
 */
export function runWithTrace<R>(scope: TraceScope, callback: () => R): R {
  if (!isObject(scope)) throw invalidArgument('runWithTrace()', 'scope', 'a TraceScope');
  if (typeof callback !== 'function') {
    throw invalidArgument('runWithTrace()', 'callback', 'a function');
  }
  const als = asyncStorage();
  return als ? als.run(scope, callback) : callback();
}

/** The ambient trace context, or `undefined` outside a traced request or without ALS. */
export function currentTraceContext(): TraceContext | undefined {
  return asyncStorage()?.getStore()?.trace;
}

/** The ambient trace scope (context and trace logger), or `undefined`. */
export function currentTraceScope(): TraceScope | undefined {
  return asyncStorage()?.getStore();
}
