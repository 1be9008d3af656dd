/**
 * Marks a Fastify plugin as not encapsulated, so the hooks it adds apply to the context that
 * registers it rather than to a child context of their own. This is what `fastify-plugin` does,
 * through the three symbols Fastify documents for it; setting them here keeps the Fastify
 * adapter's only requirement the `fastify` peer itself.
 */

/** What Fastify reads from a plugin: its name in errors and `printPlugins()`, its version range. */
export interface PluginMeta {
  /** Unique name, e.g. `@ballast/adapters/fastify/idempotency`. */
  readonly name: string;
  /** The Fastify versions the plugin supports (a semver range Fastify checks at registration). */
  readonly fastify: string;
}

/** Returns `plugin`, marked so Fastify registers it in the caller's context (no encapsulation). */
export function unencapsulatedPlugin<Plugin extends (...args: never[]) => unknown>(
  plugin: Plugin,
  meta: PluginMeta,
): Plugin {
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: meta.name,
    [Symbol.for('plugin-meta')]: meta,
  });
  return plugin;
}
