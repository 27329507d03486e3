/**
 * Worker side of ./pool.ts: executes units of work — an exported async function of some module,
 * named by the module's URL (the caller's `import.meta.url`) and the export's name — with a
 * structured-clonable payload, and posts back each unit's structured-clonable value as soon as it is
 * done.  Units are named by URL, not imported here, so a worker loads only this file, src/run and
 * the module of its units (the experiments that use the pool import it, never the other way round).
 *
 * Protocol (messages of a worker started by the pool):
 *   pool → worker  { type: "batch", tasks: UnitTask[] }   appended to the worker's local queue
 *   worker → pool  { type: "result", result, ms }          one per unit, in the order run (ms: its duration)
 *   worker → pool  { type: "dropped", ids }                queued units not started because of an abort
 *   worker → pool  { type: "ready" }                       once, when loaded
 *   pool → worker  { type: "preload", modules, seq }       import unit modules now (before any batch)
 *   worker → pool  { type: "preloaded", seq }              once they are loaded (or failed to: a unit
 *                                                          of a module that cannot load reports that)
 * Units of the queue run one after another; the pool sends the next batch while the last unit of the
 * previous one runs, so a worker never waits for work between batches.
 *
 * The same `executeUnit` runs in-process (threads = 1) and inside worker threads.  Interruption:
 * the pool sets a shared Int32 flag that the unit's signal reads, so a long unit stops at its next
 * check, and the worker drops the units it has not started.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { UserError } from "../run/errors.js";
import type { AbortLike } from "../run/hooks.js";

export interface UnitTask {
  id: number;
  /** URL of the module that exports the unit function (pass `import.meta.url`). */
  module: string;
  /** Name of the exported function `(payload, signal) => Promise<value>`. */
  fn: string;
  payload: unknown;
}

export interface UnitResult {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  /** True when the error is bad input (UserError) rather than a numerical/internal failure. */
  userError?: boolean;
}

export type WorkerMessage =
  | { type: "ready" }
  | { type: "preloaded"; seq: number }
  | { type: "result"; result: UnitResult; ms: number }
  | { type: "dropped"; ids: number[] };

type UnitFn = (payload: unknown, signal: AbortLike) => Promise<unknown>;

export async function executeUnit(task: UnitTask, signal: AbortLike): Promise<UnitResult> {
  try {
    const mod = (await import(task.module)) as Record<string, unknown>;
    const fn = mod[task.fn];
    if (typeof fn !== "function") throw new Error(`unit ${task.fn} is not exported by ${task.module}`);
    const value = await (fn as UnitFn)(task.payload, signal);
    return { id: task.id, ok: true, value };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    // A UserError crossing a thread boundary arrives as a plain clone: recognise it by name too.
    return { id: task.id, ok: false, error: msg, userError: e instanceof UserError || (e instanceof Error && e.name === "UserError") };
  }
}

if (!isMainThread && parentPort && (workerData as { rfdynUnitWorker?: boolean } | null)?.rfdynUnitWorker) {
  const flag = new Int32Array((workerData as { abortBuffer: SharedArrayBuffer }).abortBuffer);
  const signal: AbortLike = {
    get aborted() {
      return Atomics.load(flag, 0) === 1;
    },
  };
  const port = parentPort;
  const queue: UnitTask[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      if (signal.aborted) {
        port.postMessage({ type: "dropped", ids: queue.splice(0).map((t) => t.id) } satisfies WorkerMessage);
        break;
      }
      const task = queue.shift()!;
      const t0 = performance.now();
      const result = await executeUnit(task, signal);
      port.postMessage({ type: "result", result, ms: performance.now() - t0 } satisfies WorkerMessage);
    }
    running = false;
  };
  port.on("message", (m: { type: "batch"; tasks: UnitTask[] } | { type: "preload"; modules: string[]; seq: number }) => {
    if (m.type === "preload") {
      // Load the unit modules (and instantiate the kernels) while the caller is still loading its
      // own code or setting up; a batch arriving meanwhile waits on the same module promises.
      void Promise.all(m.modules.map((u) => import(u)))
        .then(async () => (await import("../kernels/wasm.js")).wasmKernels())
        .catch(() => undefined)
        .then(() => port.postMessage({ type: "preloaded", seq: m.seq } satisfies WorkerMessage));
      return;
    }
    if (m.type !== "batch") return;
    queue.push(...m.tasks);
    if (!running) void drain();
  });
  port.postMessage({ type: "ready" } satisfies WorkerMessage);
}
