/**
 * Sweep worker: executes one run of a model (any kind) and returns its numeric summary.
 *
 * - Kinds with an in-memory compute function (currently "lsg") run without writing files.
 * - Any other kind with a runner in ./runners.ts runs into its own directory (`task.runDir`) and
 *   the numeric fields of its `result.json` "summary" and "final" objects are read back.
 *
 * The same `executeTask` runs in-process (threads = 1) and inside worker threads (started by
 * ./pool.ts with workerData.rfdynSweepWorker).  Interruption: in a worker, the pool sets a shared
 * Int32 flag that the run's AbortSignal-like object reads, so long runs stop at their next check.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { UserError } from "../io/errors.js";

export interface SweepTask {
  id: number;
  kind: string;
  model: Record<string, unknown>;
  modelPath: string;
  /** Output directory for kinds that can only run through their file-writing runner. */
  runDir: string;
}

export interface SweepTaskResult {
  id: number;
  status: string;
  summary: Record<string, number>;
  /** Structured-clonable result of an in-memory compute function (e.g. a CP analysis), if any. */
  payload?: unknown;
  error?: string;
  /** True when the error is bad input (UserError) rather than a numerical/internal failure. */
  userError?: boolean;
}

type Compute = (model: Record<string, unknown>, signal: AbortSignal) => Promise<{ status: string; summary: Record<string, number>; payload?: unknown }>;

/** In-memory compute functions per kind (no per-run files). */
export const computers: Record<string, () => Promise<Compute>> = {
  lsg: async () => {
    const { computeLsg } = await import("./commands/lsg.js");
    return async (model, signal) => {
      const r = computeLsg(model, { signal });
      return { status: r.status, summary: r.summary };
    };
  },
  // One run of a flow model: task.model = { model, run, baseDir } (see commands/flow.ts).
  "flow-point": async () => {
    const { computeFlowPoint } = await import("./commands/flow.js");
    return async (task, signal) => {
      const r = await computeFlowPoint(task as never, signal);
      const last = r.runs[0]?.trajectory;
      const summary: Record<string, number> = last ? { ipr: last.ipr[last.ipr.length - 1] } : {};
      return { status: r.status, summary, payload: r };
    };
  },
  // One (grid point, sample) of a cp model: task.model = { model, grid, sample } (see commands/cp.ts).
  "cp-point": async () => {
    const { computeCpPoint } = await import("./commands/cp.js");
    return async (task, signal) => {
      const a = computeCpPoint(task as never, signal);
      return { status: a.status, summary: { leadingIpr: a.leadingIpr, maxIprTopK: a.maxIprTopK }, payload: a };
    };
  },
};

/** Validators used before a sweep starts (so a bad grid fails at once with a one-line message). */
export const validators: Record<string, () => Promise<(model: Record<string, unknown>) => void>> = {
  lsg: async () => {
    const { parseLsgModel } = await import("../io/schema/lsg.js");
    return (m) => void parseLsgModel(m);
  },
};

function numericSummary(s: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (s && typeof s === "object") for (const [k, v] of Object.entries(s)) if (typeof v === "number") out[k] = v;
  return out;
}

export async function executeTask(task: SweepTask, signal: AbortSignal): Promise<SweepTaskResult> {
  try {
    const comp = computers[task.kind];
    if (comp) {
      const r = await (await comp())(task.model, signal);
      return { id: task.id, status: r.status, summary: numericSummary(r.summary), payload: r.payload };
    }
    const { runners } = await import("./runners.js");
    const load = runners[task.kind];
    if (!load) throw new UserError(`model.base.kind: no runner for kind "${task.kind}"`);
    const runner = await load();
    await runner(task.model, { out: task.runDir, signal, progress: false, threads: 1, log: () => {} }, task.modelPath);
    const res = JSON.parse(readFileSync(join(task.runDir, "result.json"), "utf8")) as { status?: string; summary?: unknown; final?: unknown };
    // Numeric fields of "summary" (lsg, flow, cp, …) and of "final" (simulate, ode); summary wins.
    const summary = { ...numericSummary(res.final), ...numericSummary(res.summary) };
    return { id: task.id, status: signal.aborted ? "interrupted" : String(res.status ?? "done"), summary };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return { id: task.id, status: "error", summary: {}, error: msg, userError: e instanceof UserError };
  }
}

if (!isMainThread && parentPort && (workerData as { rfdynSweepWorker?: boolean } | null)?.rfdynSweepWorker) {
  const flag = new Int32Array((workerData as { abortBuffer: SharedArrayBuffer }).abortBuffer);
  const target = new EventTarget();
  const signal = {
    get aborted() {
      return Atomics.load(flag, 0) === 1;
    },
    reason: undefined,
    onabort: null,
    throwIfAborted() {
      if (Atomics.load(flag, 0) === 1) throw new Error("aborted");
    },
    addEventListener: target.addEventListener.bind(target),
    removeEventListener: target.removeEventListener.bind(target),
    dispatchEvent: target.dispatchEvent.bind(target),
  } as unknown as AbortSignal;
  const port = parentPort;
  port.on("message", (task: SweepTask) => {
    void executeTask(task, signal).then((r) => port.postMessage(r));
  });
}
