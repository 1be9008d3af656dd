/**
 * What the Express and Fastify idempotency tests share: routes that can be held mid-handler (so
 * a duplicate arrives while the first is in flight) and a client that sends keyed JSON.
 */

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * Named points where a route waits while the test holds it. A route calls `hold(name)`; a test
 * calls `holdRoute(name)` before sending, awaits `entered`, then `release()`s.
 */
export function routeGates() {
  const gates = new Map<string, { promise: Promise<void>; entered: () => void }>();
  const hold = async (name: string) => {
    const held = gates.get(name);
    if (held) {
      held.entered();
      await held.promise;
    }
  };
  const holdRoute = (name: string) => {
    const released = gate();
    const entered = gate();
    gates.set(name, { promise: released.promise, entered: entered.open });
    return {
      entered: entered.promise,
      release: () => {
        gates.delete(name);
        released.open();
      },
    };
  };
  return { hold, holdRoute };
}

/** Sends JSON (or a string as it is) to `baseUrl`, with `Idempotency-Key: key` unless `null`. */
export function keyedSender(baseUrl: string) {
  return (
    path: string,
    body: unknown,
    key: string | null = 'key-1',
    headers: Record<string, string> = {},
    method = 'POST',
  ) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(key === null ? {} : { 'idempotency-key': key }),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
}
