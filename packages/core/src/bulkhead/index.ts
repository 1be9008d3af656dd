export {
  type Bulkhead,
  type BulkheadExecuteOptions,
  type BulkheadOptions,
  createBulkhead,
} from './bulkhead.js';
