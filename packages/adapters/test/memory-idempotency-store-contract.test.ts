import { MemoryIdempotencyStore } from '@ballast/core';
import { describeIdempotencyStoreContract } from './support/idempotency-store-contract.js';

// The memory store lives in core; its contract run sits here with the other stores' runs so
// that every store is held to the one suite.
describeIdempotencyStoreContract('MemoryIdempotencyStore', () => new MemoryIdempotencyStore());
