export {
  type GuardablePostgresClient,
  type GuardablePostgresPool,
  type GuardPostgresPoolOptions,
  guardPostgresPool,
} from './guard-postgres-pool.js';
