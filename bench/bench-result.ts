/**
 * What a benchmark reports. `bench/run.ts` adds the environment and writes
 * `bench/results/<name>.json`, so results can be compared across commits and machines.
 */
export interface BenchFigures {
  /** Benchmark name, equal to the file name: `retry` for `retry.bench.ts`. */
  readonly name: string;
  /** Unit of `ballast` and `peer`, and which direction is better, e.g. "ns per call (lower is better)". */
  readonly unit: string;
  readonly ballast: number;
  readonly peer: number;
  readonly peerName: string;
  /** ballast / peer in `unit`. */
  readonly ratio: number;
  /** Further peers' figures by name. */
  readonly peers?: Readonly<Record<string, number>>;
  /** Anything else worth keeping (memory, request counts, targets met). */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** One human line, printed by the runner. */
  readonly summary: string;
}

/** A benchmark module's default export. */
export type Benchmark = () => Promise<BenchFigures>;
