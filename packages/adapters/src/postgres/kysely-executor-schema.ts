/**
 * The `db` option of every Postgres store: a Kysely instance or a transaction, recognised by
 * `getExecutor()` so a transaction passed in by the caller is accepted as readily as the pool.
 */

import { methodsSchema } from '@ballast/server/adapter-kit';
import type { QueryExecutorProvider } from 'kysely';

export const kyselyExecutorSchema = methodsSchema<QueryExecutorProvider>(
  ['getExecutor'],
  'a Kysely instance or transaction',
);
