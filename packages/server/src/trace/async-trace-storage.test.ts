import { createTraceContext, noopLogger } from '@ballast/core';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe('ambient trace storage', () => {
  it('uses AsyncLocalStorage where the runtime has it', async () => {
    const storage = await import('./async-trace-storage.js');
    const trace = createTraceContext();
    expect(storage.hasAmbientTrace()).toBe(true);
    const seen = await storage.runWithTrace({ trace, logger: noopLogger }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return storage.currentTraceContext();
    });
    expect(seen).toBe(trace);
    expect(storage.currentTraceScope()).toBeUndefined();
  });

  it('degrades to explicit context only on a runtime without it (a browser, a bare edge)', async () => {
    // What a runtime without Node compatibility looks like: no process.getBuiltinModule.
    vi.stubGlobal('process', { ...process, getBuiltinModule: undefined });
    vi.resetModules();
    const storage = await import('./async-trace-storage.js');
    const { traceContext } = await import('./trace-context-middleware.js');
    expect(storage.hasAmbientTrace()).toBe(false);
    const trace = createTraceContext();
    expect(storage.runWithTrace({ trace, logger: noopLogger }, () => 'ran')).toBe('ran');
    expect(storage.currentTraceContext()).toBeUndefined();
    const handler = traceContext()((_request, context) =>
      Response.json({
        explicit: context.trace.traceId,
        ambient: storage.currentTraceContext() ?? null,
      }),
    );
    const body = (await (await handler(new Request('http://edge.test/'))).json()) as {
      explicit: string;
      ambient: null;
    };
    expect(body.explicit).toMatch(/^[0-9a-f]{32}$/);
    expect(body.ambient).toBeNull();
  });

  it('treats a runtime that refuses the module like one without it', async () => {
    vi.stubGlobal('process', {
      ...process,
      getBuiltinModule: () => {
        throw new Error('module not allowed');
      },
    });
    vi.resetModules();
    const storage = await import('./async-trace-storage.js');
    expect(storage.hasAmbientTrace()).toBe(false);
  });
});
