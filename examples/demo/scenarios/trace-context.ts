/**
 * Seed 003 "Observability": one trace id across every layer. A browser request enters the API
 * with an `x-request-id`; the API logs, calls the edge through the signed client, and the edge
 * logs: every line on both sides carries the same trace id, and the edge's span names the
 * API's call as its parent. In-process (the "edge" is a fetch handler), no server needed.
 */
import {
  generateSigningSecret,
  type Logger,
  MemoryNonceStore,
  parseTraceparent,
} from '@ballast/core';
import {
  createSignedClient,
  type TraceScope,
  traceContext,
  verifySignature,
} from '@ballast/server';
import type { DemoScenario } from '../scenario.js';

type Line = { service: string; message: string; fields: Record<string, unknown> };

/** A pino-shaped logger that keeps its lines, so the scenario can show and check them. */
function recordingLogger(service: string, lines: Line[]): Logger {
  const write = (fields: Record<string, unknown>, message?: string) => {
    lines.push({ service, message: message ?? '', fields });
  };
  const logger: Logger = {
    debug: write,
    info: write,
    warn: write,
    error: write,
    child: (bindings) => {
      const bound = (fields: Record<string, unknown>, message?: string) =>
        write({ ...bindings, ...fields }, message);
      return { debug: bound, info: bound, warn: bound, error: bound };
    },
  };
  return logger;
}

const scenario: DemoScenario = {
  title: 'Trace context: one trace id from the browser through the API to the edge',
  order: 41,
  async run(say) {
    const lines: Line[] = [];
    const secret = generateSigningSecret();
    const strict = { canonical: 'strict' } as const;

    const edge = traceContext({ logger: recordingLogger('edge', lines) })(
      verifySignature({ secret, ...strict, nonceStore: new MemoryNonceStore() })<TraceScope>(
        async (_request, { logger, trace }) => {
          logger.info(
            { event: 'contract.created.v1', parentId: trace.parentId },
            'contract created',
          );
          return Response.json({ id: 'c-42' }, { status: 201 });
        },
      ),
    );
    const edgeClient = createSignedClient({
      baseUrl: 'http://edge.internal',
      secret,
      ...strict,
      nonce: true,
      fetch: (request) => edge(request),
      generateIdempotencyKeys: true,
    });
    const api = traceContext({ logger: recordingLogger('api', lines) })(
      async (_request, { logger }) => {
        logger.info({ event: 'contract.create.start' }, 'creating contract');
        // No trace passed: the client continues the request's trace from AsyncLocalStorage.
        const created = await edgeClient.post('/contracts', {
          json: { plan: 'pro' },
          tenantId: 't-1',
        });
        logger.info({ event: 'contract.create.done' }, 'contract created');
        return new Response(await created.text(), { status: created.status });
      },
    );

    const browserRequestId = crypto.randomUUID();
    say(`browser → API  POST /contracts  x-request-id: ${browserRequestId}`);
    const response = await api(
      new Request('http://api.local/contracts', {
        method: 'POST',
        headers: { 'x-request-id': browserRequestId },
      }),
    );
    const traceId = browserRequestId.replaceAll('-', '');
    for (const line of lines) {
      say(
        `${line.service.padEnd(4)} log  traceId=${String(line.fields.traceId)}  ${line.fields.event ?? line.message}`,
      );
    }
    const echoed = response.headers.get('x-request-id');
    say(
      `API → browser  ${response.status}  x-request-id: ${echoed}  traceparent: ${response.headers.get('traceparent')}`,
    );

    const edgeLine = lines.find((line) => line.service === 'edge');
    const apiSpan = parseTraceparent(response.headers.get('traceparent'))?.parentId;
    const checks = [
      response.status === 201,
      echoed === browserRequestId,
      lines.length === 3,
      lines.every((line) => line.fields.traceId === traceId),
      lines.every((line) => line.fields.requestId === browserRequestId),
      // The edge's parent is the client's span, itself a child of the API's span.
      typeof edgeLine?.fields.parentId === 'string' && edgeLine.fields.parentId !== apiSpan,
    ];
    say(
      checks.every(Boolean)
        ? 'every line on both sides carries the browser’s id; the edge’s parent span is the API’s call'
        : 'a line lost the trace',
    );
    return checks.every(Boolean);
  },
};

export default scenario;
