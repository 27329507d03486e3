/**
 * The contract of every model kind: a pure library call
 *
 *     run(model, hooks) → Promise<Result>
 *
 * with no file I/O.  `model` is the validated model (see src/schema/); the Result holds everything
 * the writers (src/io/results/), plots, sweeps and scripts need, in memory.  Files a model refers to
 * (CP factors, initial weights) are loaded into the model by the caller before `run`
 * (src/io/model-files.ts), so a run depends only on its arguments.
 */
import type { RunHooks, RunStatus } from "../run/hooks.js";
import type { RunStore } from "../run/store.js";
import type { PoolStats } from "../parallel/pool.js";

/** Hooks of an experiment: abort and progress, plus status lines and the worker-thread budget. */
export interface ExperimentHooks extends RunHooks {
  /** Status lines for a person (one per finished unit, etc.); default: none. */
  log?: (msg: string) => void;
  /**
   * Worker threads for kinds made of independent units (cp, flow, sweep, compare seeds) and for
   * data-parallel kernels within one run (flow sample passes, the teacher–student ODE's η² pair sums);
   * default 1 (in-process).
   */
  threads?: number;
  /**
   * Durable progress (see src/run/store.ts): finished units and checkpoints of long runs are put
   * here, and a run given a store holding an earlier, interrupted run's values continues from them
   * and ends with the same outputs.  Absent: nothing is saved.
   */
  store?: RunStore;
  /** Seconds between checkpoints of long single runs (default 30). */
  checkpointSeconds?: number;
  /** Filled in with what the worker pool did (batches, steals; src/parallel/pool.ts) by runs made of units. */
  poolStats?: PoolStats;
}

/** What every result has. */
export interface ResultBase<K extends string, M> {
  kind: K;
  status: RunStatus;
  /** One line on how the run ended (e.g. the failure and the time reached). */
  message: string;
  /** The validated model that was run. */
  model: M;
  seed: number;
  /** Wall-clock seconds of the run (and of its parts, where they matter). */
  timings: { wall: number } & Record<string, number>;
  /**
   * Headline figures (numbers only): what a sweep records per run, what the CLI prints, what a
   * report shows first.
   */
  summary: Record<string, number>;
}

/** A model kind: its schema and its run function. */
export interface Experiment<M = unknown, R extends ResultBase<string, M> = ResultBase<string, M>> {
  kind: R["kind"];
  /** One line for `rfdyn --help`. */
  describe: string;
  /** Validate a raw model (UserError naming the field on bad input). */
  parse(raw: unknown): M;
  run(model: M, hooks?: ExperimentHooks): Promise<R>;
}
