import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { createFakeApi } from '../../test/support/fake-api.js';
import { createConnectivity } from './connectivity.js';

describe('createConnectivity', () => {
  it('follows online and offline events of its target', () => {
    const target = new EventTarget();
    const seen: string[] = [];
    const connectivity = createConnectivity({
      target,
      on: { change: ({ status }) => seen.push(status) },
    });
    target.dispatchEvent(new Event('offline'));
    target.dispatchEvent(new Event('online'));
    expect(seen).toEqual(['offline', 'online']);
    connectivity.close();
  });

  it('calls the server degraded after N consecutive failures when there is no health URL', () => {
    const connectivity = createConnectivity({ failureThreshold: 3 });
    connectivity.reportFailure();
    connectivity.reportFailure();
    expect(connectivity.status).toBe('online');
    connectivity.reportFailure();
    expect(connectivity.status).toBe('degraded');
    connectivity.reportSuccess();
    expect(connectivity.status).toBe('online');
  });

  it('works in Node with the ping alone: no answer is offline, and it pings until the server is back', async () => {
    const api = createFakeApi();
    const clock = new ManualClock();
    const connectivity = createConnectivity({
      healthUrl: 'http://api.test/health',
      fetch: api.fetch,
      failureThreshold: 2,
      pingIntervalMs: 1_000,
      clock,
    });
    const changes: string[] = [];
    const unsubscribe = connectivity.on('change', ({ status }) => changes.push(status));
    api.online = false;
    connectivity.reportFailure();
    connectivity.reportFailure();
    await clock.advance(0);
    expect(connectivity.status).toBe('offline');
    api.online = true;
    await clock.advance(1_000);
    expect(connectivity.status).toBe('online');
    expect(changes).toEqual(['offline', 'online']);
    unsubscribe();
    connectivity.close();
  });

  it('is degraded when the health endpoint answers with an error status', async () => {
    const api = createFakeApi();
    api.failNext(1, 503);
    const connectivity = createConnectivity({
      healthUrl: 'http://api.test/health',
      fetch: api.fetch,
    });
    await expect(connectivity.check()).resolves.toBe('degraded');
    await expect(connectivity.check()).resolves.toBe('online');
    connectivity.close();
  });

  it('is not online when the ping is redirected (a captive portal), whether fetch follows or not', async () => {
    const redirects: (RequestRedirect | undefined)[] = [];
    const portalFetch = (follows: boolean) =>
      (async (_input: RequestInfo | URL, init?: RequestInit) => {
        redirects.push(init?.redirect);
        if (init?.redirect === 'manual' && !follows) {
          return new Response(null, { status: 302, headers: { location: 'http://portal.test/' } });
        }
        const page = new Response('<html>Sign in</html>', {
          headers: { 'content-type': 'text/html' },
        });
        Object.defineProperty(page, 'redirected', { value: true });
        return page;
      }) as typeof fetch;
    for (const follows of [false, true]) {
      const connectivity = createConnectivity({
        healthUrl: 'http://api.test/health',
        fetch: portalFetch(follows),
      });
      await expect(connectivity.check()).resolves.toBe('degraded');
      connectivity.close();
    }
    expect(redirects).toEqual(['manual', 'manual']);
  });

  it('rejects unknown options', () => {
    expect(() => createConnectivity({ pingEveryMs: 5 } as never)).toThrow(
      /pingEveryMs.*unknown option/,
    );
  });
});
