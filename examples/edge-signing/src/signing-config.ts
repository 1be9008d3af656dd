/**
 * What the API and the edge must agree on. Both processes import this file, so the canonical
 * form, the nonce and the signed headers can never drift apart between signer and verifier.
 */
import { BallastError } from '@ballast/core';

/**
 * The strict form signs method, path with query, body, the tenant and the idempotency key, and
 * a nonce, so none of them can be changed or replayed (the seed's `${timestamp}.${body}` covers
 * only the body).
 */
export const signingConfig = {
  canonical: 'strict',
  signedHeaders: ['x-tenant-id', 'idempotency-key'],
} as const;

/** The shared secret, from the environment, refused at start-up when missing (seed 003 §4). */
export function internalSigningSecret(): string {
  const secret = process.env.INTERNAL_SIGNING_SECRET;
  if (!secret) {
    throw new BallastError('INVALID_OPTIONS', { message: 'INTERNAL_SIGNING_SECRET is required' });
  }
  return secret;
}

/** The port to listen on: `PORT`, or a free one chosen by the system (`0`). */
export function portFromEnv(fallback: number): number {
  const value = process.env.PORT;
  return value === undefined ? fallback : Number(value);
}
