/** The event both sides of the outbox benchmark speak (`outbox.bench.ts`, `outbox-child.ts`). */
import { z } from 'zod';
import { createEventCatalog, defineEvent } from '../packages/core/src/index.js';

export const OrderCreated = defineEvent('order.created', 1, z.object({ orderId: z.string() }));
export const catalog = createEventCatalog({ events: [OrderCreated] });
