/**
 * A small worker-thread pool for the independent units of a run (sweep points, cp grid points ×
 * samples, flow gains × replicates), node:worker_threads.  A unit is an exported async function
 * named by module URL and export name (see ./worker.ts), called with a structured-clonable payload;
 * results are keyed by unit id, so the outcome never depends on scheduling.  With threads ≤ 1 the
 * units run in-process through the same `executeUnit`, so a one-thread run never starts a worker.
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
import { executeUnit, type UnitTask, type UnitResult } from "./worker.js";
import { UserError } from "../run/errors.js";
import type { AbortLike } from "../run/hooks.js";

export interface PoolOptions {
  threads: number;
  signal?: AbortLike;
  /** Called as each unit finishes (any order). */
  onResult?: (r: UnitResult, done: number, total: number) => void;
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

/**
 * Run units on up to `threads` worker threads; with threads ≤ 1 (or one unit) they run in-process,
 * one after another, through the same registry.  On abort the pool stops dispatching, raises a
 * shared flag that running units poll (their signal reads aborted), and resolves with what finished.
 */
export async function runUnits(tasks: readonly UnitTask[], opts: PoolOptions): Promise<UnitResult[]> {
  const results: UnitResult[] = [];
  const total = tasks.length;
  if (total === 0) return results;
  const threads = Math.max(1, Math.min(Math.floor(opts.threads) || 1, total));
  const signal: AbortLike = opts.signal ?? { aborted: false };
  if (threads === 1) {
    for (const t of tasks) {
      if (signal.aborted) break;
      const r = await executeUnit(t, signal);
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
  return await new Promise<UnitResult[]>((resolvePromise, reject) => {
    let running = 0;
    let finished = false;
    let poll: ReturnType<typeof setInterval> | undefined;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      if (poll) clearInterval(poll);
      void Promise.all(workers.map((w) => w.terminate())).then(() => (err ? reject(err) : resolvePromise(results)));
    };
    const checkAbort = () => {
      if (!signal.aborted) return;
      Atomics.store(flag, 0, 1);
      if (running === 0) finish();
    };
    // The signal may be a plain flag (no events): poll it while units run.
    poll = setInterval(checkAbort, 50);
    const dispatch = (w: Worker) => {
      if (signal.aborted || next >= total) {
        if (running === 0) finish();
        return;
      }
      running++;
      w.postMessage(tasks[next++]);
    };
    for (let i = 0; i < threads; i++) {
      const w = new Worker(entry, { eval: isEval, workerData: { rfdynUnitWorker: true, abortBuffer } });
      workers.push(w);
      w.on("message", (r: UnitResult) => {
        running--;
        results.push(r);
        opts.onResult?.(r, results.length, total);
        dispatch(w);
      });
      w.on("error", (e) => finish(e instanceof Error ? e : new Error(String(e))));
      w.on("exit", (code) => {
        if (!finished && code !== 0) finish(new Error(`worker thread exited with code ${code}`));
      });
    }
    checkAbort();
    for (const w of workers) dispatch(w);
  });
}

/**
 * Unit results in id order; the first failed unit is rethrown (UserError for bad input, otherwise
 * an Error naming `what` and the id).
 */
export function inOrderOrThrow(results: UnitResult[], what: string): UnitResult[] {
  const sorted = [...results].sort((a, b) => a.id - b.id);
  const bad = sorted.find((r) => !r.ok);
  if (bad) {
    if (bad.userError) throw new UserError(bad.error ?? `${what}: bad input`);
    throw new Error(`${what} ${bad.id} failed: ${bad.error}`);
  }
  return sorted;
}
