/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server does not know it yet
 * (first use, `SCRIPT FLUSH`, a failover to a fresh replica). The user's client is not modified
 * (no `defineCommand`), so one client can serve several stores and other libraries.
 */
import { createHash } from 'node:crypto';

/** The commands the idempotency store needs; ioredis' `Redis` and `Cluster` both have them. */
export interface RedisScriptClient {
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: RedisScriptClient,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      // EVAL loads the script into the cache, so the next call takes the EVALSHA path again.
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
