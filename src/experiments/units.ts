/**
 * Runs made of independent units (sweep points, cp grid points × samples, flow gains × replicates):
 * one driver for every kind, with
 *   - durable progress: each finished unit's value is put in the run's store (`unit/<id>`) as it
 *     completes, and on resume a unit found there is not recomputed;
 *   - worker threads (src/parallel/pool.ts) when `threads > 1`, else in-process with fine-grained
 *     progress and a return to the event loop between units (so Ctrl-C is seen);
 *   - the same values for every thread count and every interruption/resume pattern, because each
 *     unit depends only on its own payload.
 */
import { yieldToEventLoop, type RunHooks } from "../run/hooks.js";
import { runUnits } from "../parallel/pool.js";
import { UserError } from "../run/errors.js";
import type { ExperimentHooks } from "./types.js";

export interface UnitsSpec<P, V> {
  /** Module URL and export name of the pool unit `(payload, signal) => Promise<V>` (worker threads). */
  module: string;
  fn: string;
  /**
   * The same computation in-process, with progress.  `threads`: the threads its data-parallel
   * kernels may use (src/kernels/parallel.ts) — all of `hooks.threads` when the units run in-process
   * one at a time (a single unit, or -j 1), 1 inside pool workers (the units are the parallelism).
   */
  inProcess: (payload: P, hooks: RunHooks, threads: number) => Promise<V>;
  /** Whether a value is final (stored, counted as done); an interrupted unit's value is not. */
  isFinal: (value: V) => boolean;
  /** What the units are, for progress ("runs", "decompositions", …). */
  unit: string;
  /** Names a unit in the message of its failure (e.g. id → "sweep point 3 (k=6), seed 7"). */
  describe: (id: number) => string;
  /** Short label of a unit for progress phases. */
  label?: (id: number) => string | undefined;
  /** Called once per final value, in completion order (status lines). */
  onFinal?: (id: number, value: V, fromStore: boolean) => void;
}

/**
 * Run units 0..payloads.length−1.  Returns the final values by id (units not finished because of
 * an interruption are absent) and whether the run was interrupted.
 */
export async function runUnitsDurably<P, V>(payloads: readonly P[], spec: UnitsSpec<P, V>, hooks: ExperimentHooks = {}): Promise<{ values: Map<number, V>; interrupted: boolean }> {
  const total = payloads.length;
  const values = new Map<number, V>();
  const store = hooks.store;
  const key = (id: number) => `unit/${id}`;
  const todo: number[] = [];
  for (let id = 0; id < total; id++) {
    const saved = store?.get<V>(key(id));
    if (saved !== undefined) {
      values.set(id, saved);
      spec.onFinal?.(id, saved, true);
    } else todo.push(id);
  }
  const finish = (id: number, v: V) => {
    values.set(id, v);
    store?.put(key(id), v);
    spec.onFinal?.(id, v, false);
  };
  const threads = hooks.threads ?? 1;
  if (threads > 1 && todo.length > 1) {
    const tasks = todo.map((id) => ({ id, module: spec.module, fn: spec.fn, payload: payloads[id] }));
    const rs = await runUnits(tasks, {
      threads,
      signal: hooks.signal,
      stats: hooks.poolStats,
      onResult: (r) => {
        if (r.ok && spec.isFinal(r.value as V)) finish(r.id, r.value as V);
        hooks.onProgress?.({ done: values.size, total, unit: spec.unit });
      },
    });
    const bad = [...rs].sort((a, b) => a.id - b.id).find((r) => !r.ok);
    if (bad) throw unitError(spec.describe(bad.id), bad.error ?? "failed", bad.userError === true);
  } else {
    for (const id of todo) {
      await yieldToEventLoop(); // let a Ctrl-C handler run between units
      if (hooks.signal?.aborted) break;
      const done = values.size;
      const onProgress = hooks.onProgress;
      const label = spec.label?.(id);
      let v: V;
      try {
        v = await spec.inProcess(payloads[id], {
          signal: hooks.signal,
          onProgress: onProgress
            ? (e) => onProgress({ ...e, done: done + (e.total > 0 ? Math.min(1, Math.max(0, e.done / e.total)) : 0), total, unit: spec.unit, phase: label ? (e.phase ? `${label} ${e.phase}` : label) : e.phase })
          : undefined,
        }, Math.max(1, threads));
      } catch (e) {
        const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
        throw unitError(spec.describe(id), msg, e instanceof UserError);
      }
      if (!spec.isFinal(v)) break;
      finish(id, v);
      onProgress?.({ done: values.size, total, unit: spec.unit, phase: label });
    }
  }
  return { values, interrupted: values.size < total };
}

/** The error of a failed unit: bad input stays a UserError (one line, unit named first). */
function unitError(unit: string, message: string, user: boolean): Error {
  return user ? new UserError(`${unit}: ${message}`) : new Error(`${unit} failed: ${message}`);
}
