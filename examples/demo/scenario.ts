/**
 * One stop of the `pnpm demo` tour. A scenario runs real Ballast code with embedded defaults
 * (memory stores, PGlite, a temporary directory), narrates each event in one short line, and
 * says whether everything behaved as promised.
 */
export interface DemoScenario {
  /** Shown as the heading, e.g. "Retry recovers a flaky dependency". */
  readonly title: string;
  /** Order in the tour; lower runs first. Foundation scenarios use 10–19. */
  readonly order: number;
  /**
   * Runs the scenario. `say` prints one line for a person. Returns true only when every
   * promise the scenario checks held; throwing counts as a failure.
   */
  run(say: (line: string) => void): Promise<boolean>;
}
