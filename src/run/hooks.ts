/**
 * The one contract between a long computation and whoever runs it (CLI, sweep worker, script):
 *
 *   RunHooks { signal, onProgress(ProgressEvent) }   in
 *   RunStatus + message                              out
 *
 * Every integrator, simulator, decomposition and experiment in rfdyn takes `RunHooks` and reports
 * a `RunStatus`; nothing else carries abort or progress.  This module has no imports, so every
 * layer (integrate, sim, cp, theory, experiments) may use it.
 */

/** Anything with an `aborted` flag: an AbortSignal, or a worker's view of a shared abort flag. */
export interface AbortLike {
  readonly aborted: boolean;
}

/** A structured progress report: `done` of `total` `unit`s, optionally the model time reached. */
export interface ProgressEvent {
  /** Work finished, in `unit`s (0 ≤ done ≤ total). */
  done: number;
  total: number;
  /** What is counted: "time" (model time), "steps", "runs", "iterations", "points", … */
  unit: string;
  /** Model time reached, where the work has one. */
  t?: number;
  /** Which part of a multi-part run this is (e.g. "seed 2/5 SGD", "restart 1/3"). */
  phase?: string;
  /** Figures worth showing beside the bar (e.g. { pmse: 0.41, ipr: 0.02 }). */
  metrics?: Record<string, number>;
}

export interface RunHooks {
  /** Polled at every step/iteration; when it reads aborted the run stops with status "interrupted". */
  signal?: AbortLike;
  onProgress?: (e: ProgressEvent) => void;
}

/**
 * How a run ended.
 *   done         reached its end
 *   steady       stopped early at a steady state (|dy/dt| below the model's tolerance)
 *   event        stopped early at a model event (e.g. an IPR threshold, ε converged)
 *   interrupted  stopped by the signal; the result holds what finished
 *   diverged     the state or loss became non-finite or ran away
 *   failed       a numerical method gave up (step size underflow, step budget)
 */
export type RunStatus = "done" | "steady" | "event" | "interrupted" | "diverged" | "failed";

/** Statuses after which the outputs are complete (the run did what the model asked for). */
export function isComplete(s: RunStatus): boolean {
  return s === "done" || s === "steady" || s === "event";
}

/** The worse of two statuses (for runs made of several parts). */
export function worseStatus(a: RunStatus, b: RunStatus): RunStatus {
  const rank: Record<RunStatus, number> = { done: 0, steady: 0, event: 0, interrupted: 1, failed: 2, diverged: 3 };
  return rank[b] > rank[a] ? b : a;
}

/**
 * Scale a sub-task's progress into a parent's: events of part `index` of `count` equal parts are
 * reported to `parent` as fractions of the whole, with `phase` prefixed.
 */
export function subProgress(parent: RunHooks["onProgress"], index: number, count: number, phase?: string): RunHooks["onProgress"] {
  if (!parent) return undefined;
  return (e) => {
    const f = e.total > 0 ? Math.min(1, Math.max(0, e.done / e.total)) : 0;
    parent({ ...e, done: index + f, total: count, unit: "parts", phase: phase === undefined ? e.phase : e.phase ? `${phase} ${e.phase}` : phase });
  };
}

/** Resolve on the next macrotask, so signal handlers (Ctrl-C) and timers get to run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * A clock for cooperative loops: `due()` is true at most every `ms` milliseconds, telling a
 * synchronous inner loop to return to an async caller that then awaits `yieldToEventLoop()`.
 */
export class YieldClock {
  private last = performance.now();
  constructor(private readonly ms = 40) {}
  due(): boolean {
    if (this.ms <= 0) return true;
    const now = performance.now();
    if (now - this.last < this.ms) return false;
    this.last = now;
    return true;
  }
}

/**
 * Cooperative computations are written once, as generators that `yield` at their pause points
 * (between steps, iterations, line-search evaluations): `runToEnd` runs one synchronously (the
 * yields are ignored), `runCooperatively` returns to the event loop at each yield.  Both give the
 * same result, since pausing never touches the arithmetic.
 */
export function runToEnd<T>(it: Generator<void, T, void>): T {
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

export async function runCooperatively<T>(it: Generator<void, T, void>): Promise<T> {
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    await yieldToEventLoop();
  }
}
