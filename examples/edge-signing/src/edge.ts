/**
 * The edge: a fetch handler (deployable to Deno, Workers, Supabase Edge Functions as it is)
 * that accepts only calls the API signed (seed 003 §4 "Edge layer: verify signature") and
 * follows the seed's edge template: boundary, one idempotent write, answer. Every log line
 * carries the caller's trace id.
 */
import { BallastError, MemoryNonceStore } from '@ballast/core';
import { problemResponse, type TraceScope, traceContext, verifySignature } from '@ballast/server';
import pino from 'pino';
import { serveFetchHandler } from './serve-fetch-handler.js';
import { internalSigningSecret, portFromEnv, signingConfig } from './signing-config.js';

interface Contract {
  id: string;
  tenant_id: string;
  customer_id: string;
  plan_id: string;
}

const logger = pino({ base: { service: 'edge' } });
// One edge process here; several instances would share a RedisNonceStore or PostgresNonceStore.
const nonceStore = new MemoryNonceStore();
// Stands in for the database's idempotency table (seed 003 §5, database template).
const contractsByKey = new Map<string, Contract>();

const handler = traceContext({ logger, logRequests: true })(
  verifySignature({ secret: internalSigningSecret(), ...signingConfig, nonceStore })<TraceScope>(
    async (request, { logger: log, signature }) => {
      const url = new URL(request.url);
      if (request.method !== 'POST' || url.pathname !== '/contracts') {
        return problemResponse(new BallastError('NOT_FOUND'), { instance: url.pathname });
      }
      // Both headers are covered by the signature: nobody between API and edge changed them.
      const tenantId = request.headers.get('x-tenant-id');
      const idempotencyKey = request.headers.get('idempotency-key');
      if (!tenantId || !idempotencyKey) {
        return problemResponse(new BallastError('IDEMPOTENCY_KEY_MISSING'), {
          instance: url.pathname,
        });
      }
      const body = (await request.json()) as { customer_id: string; plan_id: string };
      const key = `${tenantId}:${idempotencyKey}`;
      const existing = contractsByKey.get(key);
      if (existing) {
        log.info({ event: 'contract.create.duplicate', contractId: existing.id }, 'duplicate');
        return Response.json({ ...existing, was_duplicate: true });
      }
      const contract: Contract = {
        id: crypto.randomUUID(),
        tenant_id: tenantId,
        customer_id: body.customer_id,
        plan_id: body.plan_id,
      };
      contractsByKey.set(key, contract);
      log.info(
        { event: 'contract.created.v1', contractId: contract.id, tenantId, keyId: signature.keyId },
        'contract created',
      );
      return Response.json({ ...contract, was_duplicate: false }, { status: 201 });
    },
  ),
);

const { port } = await serveFetchHandler(handler, portFromEnv(8787));
logger.info({ port }, 'listening');
