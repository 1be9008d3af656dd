/**
 * Node's own crypto, when the runtime has it. Core imports no `node:` module (it must load in
 * browsers, Deno and Workers), so it asks for `node:crypto` at run time through
 * `process.getBuiltinModule` (Node ≥ 20.16). On Node, `crypto.subtle` pays a thread-pool round
 * trip per call, which dominates hashing a small request body or HMAC-ing a 1 KB payload; the
 * synchronous native functions give the same bytes without it. Elsewhere this is empty and
 * callers use WebCrypto. Internal: not re-exported.
 */

/** The parts of `node:crypto` Ballast uses; each is absent when the runtime lacks it. */
export interface NativeCrypto {
  readonly createHmac?: (
    algorithm: 'sha256',
    key: Uint8Array,
  ) => { update(data: Uint8Array): { digest(): Uint8Array } };
  /** One-shot digest (Node ≥ 20.12), here always as lower-case hex; text is hashed as UTF-8. */
  readonly hash?: (algorithm: 'sha256', data: Uint8Array | string, encoding: 'hex') => string;
  /** Incremental digest, for content that arrives as a stream (backups). */
  readonly createHash?: (algorithm: 'sha256') => {
    update(data: Uint8Array): unknown;
    digest(encoding: 'hex'): string;
  };
}

function loadNativeCrypto(): NativeCrypto {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  try {
    const module = runtime?.getBuiltinModule?.('node:crypto') as Partial<NativeCrypto> | undefined;
    return {
      ...(typeof module?.createHmac === 'function' && { createHmac: module.createHmac }),
      ...(typeof module?.hash === 'function' && { hash: module.hash }),
      ...(typeof module?.createHash === 'function' && { createHash: module.createHash }),
    };
  } catch {
    // A runtime that exposes getBuiltinModule but refuses node:crypto: WebCrypto serves instead.
    return {};
  }
}

export const nativeCrypto: NativeCrypto = /* @__PURE__ */ loadNativeCrypto();
