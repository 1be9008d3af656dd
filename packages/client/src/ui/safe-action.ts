/**
 * The double-click guard of seed 003 §5 (`safeAction`): while an action runs, calling it again
 * does nothing and resolves with the running call's result, so a nervous second tap on
 * "Register sale" cannot submit twice. A button can be disabled meanwhile through `onBusy`.
 */

/** Options of {@link safeAction}. */
export interface SafeActionOptions {
  /** Told when the action starts (`true`) and settles (`false`), e.g. to disable a button. */
  onBusy?: (busy: boolean) => void;
}

/**
 * Wraps `action` so that at most one call runs at a time; a call made while one runs returns
 * the running call's promise instead of starting another.
 *
 * @example
 * ```ts
 * const register = safeAction(() => queue.send({ path: '/sales', body: readForm() }), {
 *   onBusy: (busy) => (button.disabled = busy),
 * });
 * button.addEventListener('click', () => void register());
 * ```
 */
export function safeAction<Args extends unknown[], Result>(
  action: (...args: Args) => Promise<Result>,
  options: SafeActionOptions = {},
): (...args: Args) => Promise<Result> {
  let running: Promise<Result> | undefined;
  return (...args) => {
    if (running !== undefined) return running;
    options.onBusy?.(true);
    const current = (async () => action(...args))();
    running = current;
    void current
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        options.onBusy?.(false);
      });
    return current;
  };
}
