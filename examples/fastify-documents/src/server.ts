/**
 * `pnpm --filter @ballast-examples/fastify-documents start`: the documents API on
 * 127.0.0.1:3000 (`PORT`), reconciling every two hours (`RECONCILE_EVERY`). Ctrl-C stops it.
 */
import { scheduleReconciliation } from '@ballast/core';
import { buildApp, reconcileDocuments } from './app.js';
import { openEnvironment } from './environment.js';

const environment = await openEnvironment();
const app = await buildApp({ ...environment, logger: true });
const address = await app.listen({
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 3000),
});
const schedule = scheduleReconciliation({
  every: process.env.RECONCILE_EVERY ?? '2h',
  run: (signal) =>
    // Default one-hour grace: younger orphans and temporary files may be writes in progress.
    reconcileDocuments({
      storage: environment.storage,
      records: environment.records,
      signal,
      logger: app.log,
    }),
  logger: app.log,
});

async function stop(): Promise<void> {
  await schedule.stop();
  await app.close();
  await environment.close();
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

app.log.info(`documents API on ${address} — ${environment.description}
  curl -s -X POST '${address}/documents?name=notes.txt' -H 'content-type: text/plain' --data-binary @README.md
  curl -s ${address}/documents
  curl -s ${address}/documents/<id>/content
  curl -s -X DELETE ${address}/documents/<id> -o /dev/null -w '%{http_code}\\n'
  curl -s -X POST '${address}/reconcile?dryRun=true'`);
