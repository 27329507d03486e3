/**
 * Durable progress of a run.  A `RunStore` keeps values by key so that a run killed at any moment
 * (Ctrl-C, SIGTERM, kill -9, a preempted cluster job) can be resumed and end with the same outputs
 * as an uninterrupted run:
 *
 *   - runs made of independent units (sweep points, cp grid points × samples, flow gains ×
 *     replicates, compare seeds, attractor starts) `put` each unit's result under `unit/<id>` as it
 *     finishes and, on resume, `get` it instead of recomputing;
 *   - long single runs (SGD, long ODEs) `put` their full state (RNG streams included) under a fixed
 *     key every `checkpointSeconds`, and on resume continue from it.
 *
 * Values are structured data: numbers (non-finite included), strings, booleans, null, arrays,
 * plain objects and typed arrays.  `put` returns once the value is safely stored (atomically: a
 * reader sees the old value or the new one, never a torn one).  The store of a directory is
 * src/io/run-store.ts; `memoryStore()` is for tests and scripts.
 */
export interface RunStore {
  get<T = unknown>(key: string): T | undefined;
  put(key: string, value: unknown): void;
}

/** An in-memory store (values are kept by reference; copy typed arrays you keep mutating). */
export function memoryStore(): RunStore & { keys(): string[] } {
  const m = new Map<string, unknown>();
  return {
    get: <T>(key: string) => m.get(key) as T | undefined,
    put: (key, value) => void m.set(key, value),
    keys: () => [...m.keys()],
  };
}

/** Default seconds between checkpoints of long single runs. */
export const DEFAULT_CHECKPOINT_SECONDS = 30;
