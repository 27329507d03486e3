/**
 * Worker side of ./pool.ts: executes one unit of work — an exported async function of some module,
 * named by the module's URL (the caller's `import.meta.url`) and the export's name — with a
 * structured-clonable payload, and posts back its structured-clonable value.  Units are named by
 * URL, not imported here, so this module depends on nothing but src/run: the experiments that use
 * the pool import it, never the other way round.
 *
 * The same `executeUnit` runs in-process (threads = 1) and inside worker threads.  Interruption:
 * in a worker, the pool sets a shared Int32 flag that the unit's signal reads, so long units stop
 * at their next check.
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
  port.on("message", (task: UnitTask) => {
    void executeUnit(task, signal).then((r) => port.postMessage(r));
  });
}
