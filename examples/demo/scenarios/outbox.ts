/**
 * Issue 16 on the embedded default: a memory outbox, a relay and the in-process publisher (the
 * same relay and event processor that run against Postgres and BullMQ in production). An order
 * and its event commit together or not at all; the confirmation is sent once even when the
 * event is relayed twice; a v1 event reaches a v2 handler through its upcaster; what can never
 * succeed is a dead letter with its reason, and a redrive after the fix sends it once.
 */
import {
  BallastError,
  createEventCatalog,
  createEventProcessor,
  createInProcessPublisher,
  createRelay,
  defineEvent,
  defineUpcaster,
  handleEvent,
  MemoryInboxStore,
  MemoryOutbox,
} from '@ballast/core';
import { z } from 'zod';
import type { DemoScenario } from '../scenario.js';

const OrderCreatedV1 = defineEvent('order.created', 1, z.object({ orderId: z.string() }));
const OrderCreatedV2 = defineEvent(
  'order.created',
  2,
  z.object({ orderId: z.string(), email: z.string() }),
);
const OrderCreatedV3 = defineEvent(
  'order.created',
  3,
  z.object({ orderId: z.string(), email: z.string(), locale: z.string() }),
);

const scenario: DemoScenario = {
  title: 'Transactional outbox: committed orders are confirmed exactly once',
  order: 40,
  async run(say) {
    const catalog = createEventCatalog({
      events: [OrderCreatedV1, OrderCreatedV2],
      upcasters: [
        defineUpcaster(OrderCreatedV1, OrderCreatedV2, (payload) => ({
          ...payload,
          email: `${payload.orderId}@example.test`,
        })),
      ],
    });
    const sent: string[] = [];
    let smtpFixed = false;
    const processor = createEventProcessor({
      consumer: 'confirmation-emails',
      catalog,
      handlers: [
        handleEvent(OrderCreatedV2, (event) => {
          if (event.payload.email === 'nobody') {
            throw new BallastError('VALIDATION_FAILED', { message: 'no address to send to' });
          }
          if (event.payload.orderId === 'o-4' && !smtpFixed) throw new Error('SMTP refused');
          sent.push(`${event.payload.orderId} → ${event.payload.email}`);
        }),
      ],
      inbox: new MemoryInboxStore(),
    });
    const outbox = new MemoryOutbox();
    const publisher = createInProcessPublisher({ processor, backoffMs: [10, 20] });
    const relay = createRelay({ store: outbox, publisher, pollIntervalMs: 50 });
    relay.start();

    say('POST /orders o-1: the order and order.created.v2 commit in one transaction.');
    const o1 = OrderCreatedV2.create({ orderId: 'o-1', email: 'ana@example.test' });
    await outbox.transaction((trx) => outbox.publish(trx, o1));
    say('POST /orders o-2: the stock check fails after the event was written; it rolls back.');
    await outbox
      .transaction(async (trx) => {
        await outbox.publish(trx, OrderCreatedV2.create({ orderId: 'o-2', email: 'b@x.test' }));
        throw new Error('out of stock');
      })
      .catch(() => {});
    say('An old service still publishes order.created.v1 for o-3.');
    await outbox.transaction((trx) =>
      outbox.publish(trx, OrderCreatedV1.create({ orderId: 'o-3' })),
    );
    say('o-4 meets an SMTP outage; o-5 has no address; o-6 is a v3 nobody can read yet.');
    await outbox.transaction((trx) =>
      outbox.publishMany(trx, [
        OrderCreatedV2.create({ orderId: 'o-4', email: 'dan@example.test' }),
        OrderCreatedV2.create({ orderId: 'o-5', email: 'nobody' }),
        OrderCreatedV3.create({ orderId: 'o-6', email: 'e@x.test', locale: 'es' }),
      ]),
    );
    await waitUntil(
      async () => (await outbox.depth()) === 0 && publisher.deadLetters().length === 3,
    );
    await publisher.idle();

    say('A relay that died before marking o-1 sent publishes it again:');
    await publisher.publish([o1]);
    await publisher.idle();
    for (const line of sent) say(`  email sent: ${line}`);
    for (const dead of publisher.deadLetters()) {
      const orderId = (dead.event.payload as { orderId: string }).orderId;
      say(
        `  dead letter: ${orderId} (${dead.event.type}) after ${dead.attempts} attempt(s): ${dead.reason}`,
      );
    }
    const deadOf = (orderId: string) =>
      publisher
        .deadLetters()
        .find((dead) => (dead.event.payload as { orderId: string }).orderId === orderId);
    const deadOk =
      deadOf('o-4')?.attempts === 3 &&
      deadOf('o-5')?.attempts === 1 &&
      deadOf('o-6')?.reason === 'unknown-version';

    say('SMTP is fixed; an operator redrives the order.created dead letters:');
    smtpFixed = true;
    const redriven = publisher.redrive({ type: 'order.created.v2' });
    await waitUntil(async () => sent.length === 3);
    await publisher.idle();
    say(`  ${redriven} redriven; email sent: ${sent.at(-1)}`);
    await relay.stop();
    await publisher.close();

    return (
      deadOk &&
      sent.length === 3 &&
      sent.filter((line) => line.startsWith('o-1 ')).length === 1 &&
      !sent.some((line) => line.startsWith('o-2 ')) &&
      sent.includes('o-3 → o-3@example.test') &&
      sent.includes('o-4 → dan@example.test')
    );
  },
};

async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5_000,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error('the outbox did not settle in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export default scenario;
