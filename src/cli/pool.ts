/**
 * A small worker-thread pool for sweeps (node:worker_threads).
 *
 * The worker module is ./worker.ts when running from TypeScript sources (tsx, vitest) and
 * ./worker.js when running compiled code from dist/: its path is resolved relative to this file's
 * import.meta.url with the same extension, and for .ts the worker first registers tsx's loader
 * (see `workerEntry`), so both modes work without configuration.
 *
 * Results are keyed by task id, so the outcome never depends on scheduling.  On abort the pool
 * stops dispatching, raises a shared flag that running tasks poll (they return "interrupted"),
 * and resolves with the results it has.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { SweepTask, SweepTaskResult } from "./worker.js";
import { UserError } from "../io/errors.js";

export interface PoolOptions {
  threads: number;
  signal: AbortSignal;
  /** Called as each task finishes (any order). */
  onResult?: (r: SweepTaskResult, done: number, total: number) => void;
}

/**
 * How to start a worker in the current mode (source vs compiled).  Compiled: the worker file
 * itself.  TypeScript sources: a tiny CommonJS bootstrap (eval) that registers tsx's ESM hooks in
 * the worker (tsx/esm/api `register`) and then imports ./worker.ts (Node 20 does not apply an
 * `--import` loader to a worker's entry module, so the entry cannot be the .ts file itself).
 */
export function workerEntry(): { entry: URL | string; eval: boolean } {
  const ext = extname(fileURLToPath(import.meta.url));
  if (ext === ".ts" || ext === ".mts") {
    const url = new URL("./worker.ts", import.meta.url).href;
    const api = tsxEsmApiUrl();
    const code = `(async () => { const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(url)}); })().catch((e) => { process.nextTick(() => { throw e; }); });`;
    return { entry: code, eval: true };
  }
  return { entry: new URL("./worker.js", import.meta.url), eval: false };
}

/** File URL of tsx's ESM API ("tsx/esm/api", import condition), from tsx's package.json exports. */
function tsxEsmApiUrl(): string {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, unknown> };
  const e = pkg.exports?.["./esm/api"] as { import?: { default?: string } | string } | undefined;
  const rel = typeof e?.import === "string" ? e.import : e?.import?.default;
  if (!rel) throw new Error("cannot locate tsx/esm/api (needed to run sweep workers from TypeScript sources)");
  return pathToFileURL(join(dirname(pkgPath), rel)).href;
}

/** Run tasks on up to `threads` workers (in-process when threads ≤ 1). */
export async function runTasks(tasks: readonly SweepTask[], opts: PoolOptions): Promise<SweepTaskResult[]> {
  const results: SweepTaskResult[] = [];
  const total = tasks.length;
  if (total === 0) return results;
  const threads = Math.max(1, Math.min(Math.floor(opts.threads) || 1, total));
  if (threads === 1) {
    const { executeTask } = await import("./worker.js");
    for (const t of tasks) {
      if (opts.signal.aborted) break;
      const r = await executeTask(t, opts.signal);
      results.push(r);
      opts.onResult?.(r, results.length, total);
    }
    return results;
  }
  const { entry, eval: isEval } = workerEntry();
  const abortBuffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(abortBuffer);
  const workers: Worker[] = [];
  let next = 0;
  return await new Promise<SweepTaskResult[]>((resolvePromise, reject) => {
    let running = 0;
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      opts.signal.removeEventListener("abort", onAbort);
      void Promise.all(workers.map((w) => w.terminate())).then(() => (err ? reject(err) : resolvePromise(results)));
    };
    const onAbort = () => {
      Atomics.store(flag, 0, 1);
      if (running === 0) finish();
    };
    opts.signal.addEventListener("abort", onAbort);
    const dispatch = (w: Worker) => {
      if (opts.signal.aborted || next >= total) {
        if (running === 0) finish();
        return;
      }
      running++;
      w.postMessage(tasks[next++]);
    };
    for (let i = 0; i < threads; i++) {
      const w = new Worker(entry, { eval: isEval, workerData: { rfdynSweepWorker: true, abortBuffer } });
      workers.push(w);
      w.on("message", (r: SweepTaskResult) => {
        running--;
        results.push(r);
        opts.onResult?.(r, results.length, total);
        dispatch(w);
      });
      w.on("error", (e) => finish(e instanceof Error ? e : new Error(String(e))));
      w.on("exit", (code) => {
        if (!finished && code !== 0) finish(new Error(`sweep worker exited with code ${code}`));
      });
    }
    if (opts.signal.aborted) onAbort();
    for (const w of workers) dispatch(w);
  });
}

/**
 * Results of one command's own work units (cp grid points, flow runs) in task-id order; the first
 * failed unit is rethrown (UserError for bad input, otherwise an Error naming `what` and the id).
 */
export function inOrderOrThrow(results: SweepTaskResult[], what: string): SweepTaskResult[] {
  const sorted = [...results].sort((a, b) => a.id - b.id);
  const bad = sorted.find((r) => r.status === "error");
  if (bad) {
    if (bad.userError) throw new UserError(bad.error ?? `${what}: bad input`);
    throw new Error(`${what} ${bad.id} failed: ${bad.error}`);
  }
  return sorted;
}
