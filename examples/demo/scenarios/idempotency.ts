/**
 * Seed 002 §2.4: a sale retried with the same Idempotency-Key must not be recorded twice. An
 * in-process fetch handler with the memory store refuses a duplicate that arrives while the
 * first request is still running (409 + Retry-After), answers the first, replays a retry, and
 * refuses the key reused for another sale (422). The sale is written once. Real timers, ~30 ms.
 */
import { MemoryIdempotencyStore } from '@ballast/core';
import { idempotency } from '@ballast/server';
import type { DemoScenario } from '../scenario.js';

const scenario: DemoScenario = {
  title: 'Idempotency-Key: a retried sale is recorded once',
  order: 20,
  async run(say) {
    const sales: Array<{ total: number }> = [];
    let slowNext = false;
    const handler = idempotency({
      store: new MemoryIdempotencyStore(),
      required: true,
      scope: 'global',
    })(async (request) => {
      const sale = (await request.json()) as { total: number };
      if (slowNext) await new Promise((resolve) => setTimeout(resolve, 30));
      sales.push(sale);
      return Response.json(
        { id: sales.length, ...sale },
        { status: 201, headers: { location: `/sales/${sales.length}` } },
      );
    });
    const postSale = (key: string, total: number) =>
      handler(
        new Request('http://pos.local/sales', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `"${key}"` },
          body: JSON.stringify({ total }),
        }),
      );
    const line = async (label: string, response: Response) => {
      const replayed = response.headers.get('idempotent-replayed') === 'true';
      const retryAfter = response.headers.get('retry-after');
      const body = (await response.json()) as { code?: string; id?: number };
      say(
        `${label} → ${response.status}${body.code ? ` ${body.code}` : ` sale #${body.id}`}` +
          `${replayed ? ' (Idempotent-Replayed)' : ''}${retryAfter ? ` Retry-After: ${retryAfter}s` : ''}`,
      );
      return { status: response.status, replayed, body };
    };

    // The till sends the sale; the connection is slow, so the cashier taps "Cobrar" again.
    slowNext = true;
    const pending = postSale('sale-1', 120);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const duplicate = await line(
      'Second tap while the first is running',
      await postSale('sale-1', 120),
    );
    slowNext = false;
    const first = await line('POST /sales total 120, key sale-1', await pending);
    const retry = await line('Network retry, same key and body', await postSale('sale-1', 120));
    const reused = await line('Key sale-1 reused for another total', await postSale('sale-1', 999));
    say(`Sales written: ${sales.length}`);

    return (
      first.status === 201 &&
      !first.replayed &&
      retry.status === 201 &&
      retry.replayed &&
      retry.body.id === first.body.id &&
      duplicate.status === 409 &&
      reused.status === 422 &&
      reused.body.code === 'IDEMPOTENCY_KEY_REUSED' &&
      sales.length === 1
    );
  },
};

export default scenario;
