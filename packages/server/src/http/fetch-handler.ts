/**
 * The shape every Ballast server middleware wraps: a web-standard fetch handler with one extra
 * argument, an object of per-request values (the trace, a verified signature). Passing them as
 * an argument rather than stashing them on the request keeps them typed and keeps them alive
 * when a middleware hands on a rebuilt `Request`.
 */

/** A fetch handler that receives per-request values in `context`. */
export type FetchHandler<Context = object> = (
  request: Request,
  context: Context,
) => Response | Promise<Response>;

/**
 * What a Ballast middleware returns: call it as a plain fetch handler (`handler(request)`), or
 * inside another middleware, which passes its own context on.
 */
export type WrappedHandler<Context = object> = (
  request: Request,
  context?: Context,
) => Promise<Response>;
