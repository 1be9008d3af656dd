/**
 * The API: validates intent, requires an idempotency key (seed 003 §5, API template) and passes
 * the write to the edge through the signed client. Every call to the edge is signed, carries
 * the tenant and the idempotency key, and continues this request's trace.
 */
import { expressTraceContext, expressTraceScope } from '@ballast/adapters/express';
import { BallastError, toProblem } from '@ballast/core';
import { classifyError, createSignedClient } from '@ballast/server';
import express from 'express';
import pino from 'pino';
import { z } from 'zod';
import { internalSigningSecret, portFromEnv, signingConfig } from './signing-config.js';

const logger = pino({ base: { service: 'api' } });
const edgeUrl = process.env.EDGE_URL ?? 'http://127.0.0.1:8787';

const edge = createSignedClient({
  baseUrl: edgeUrl,
  secret: internalSigningSecret(),
  ...signingConfig,
  nonce: true,
  logger,
});

const CreateContractSchema = z.object({
  customer_id: z.uuid(),
  plan_id: z.uuid(),
});

const app = express();
app.use(expressTraceContext({ logger }));
app.use(express.json());

app.post('/contracts', async (req, res) => {
  const { logger: log } = expressTraceScope(res);
  const sendProblem = (error: unknown) => {
    // classifyError answers an edge's refusal as the gateway it is (502/503/504 UPSTREAM_ERROR),
    // never with the edge's own 403 SIGNATURE_INVALID, which is this API's fault, not the user's.
    const failure = classifyError(error);
    res
      .status(failure.status)
      .type('application/problem+json')
      .send(JSON.stringify(toProblem(failure, { instance: req.originalUrl })));
  };
  const idempotencyKey = req.get('idempotency-key');
  if (!idempotencyKey) {
    sendProblem(new BallastError('IDEMPOTENCY_KEY_MISSING'));
    return;
  }
  const parsed = CreateContractSchema.safeParse(req.body);
  if (!parsed.success) {
    sendProblem(new BallastError('VALIDATION_FAILED'));
    return;
  }
  // In a real API the tenant comes from the authenticated session, never from the client.
  const tenantId = req.get('x-tenant-id') ?? 'tenant-demo';
  log.info({ event: 'contract.create.start', tenantId }, 'creating contract');
  try {
    const response = await edge.post('/contracts', {
      json: parsed.data,
      tenantId,
      idempotencyKey,
    });
    const contract = (await response.json()) as { id: string; was_duplicate: boolean };
    log.info({ event: 'contract.create.done', contractId: contract.id }, 'contract created');
    res.status(response.status).json(contract);
  } catch (error) {
    log.warn(
      { event: 'contract.create.failed', code: (error as BallastError).code },
      'edge refused',
    );
    sendProblem(error);
  }
});

const server = app.listen(portFromEnv(3000), '127.0.0.1', () => {
  const address = server.address();
  logger.info(
    { port: typeof address === 'object' ? address?.port : undefined, edgeUrl },
    'listening',
  );
});
