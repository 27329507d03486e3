/**
 * A worker-thread pool for the independent units of a run (sweep points, cp grid points ×
 * samples, flow gains × replicates, compare seeds), node:worker_threads.  A unit is an exported
 * async function named by module URL and export name (see ./worker.ts), called with a
 * structured-clonable payload; results are keyed by unit id, so the outcome never depends on
 * scheduling.  With threads ≤ 1 the units run in-process through the same `executeUnit`, so a
 * one-thread run never starts a worker.
 *
 * Lanes.  -j N runs units on N lanes: the calling (main) thread and N − 1 worker threads.  The main
 * thread has its modules loaded and its code compiled already, so it works from the first millisecond
 * while the workers load, and one worker start-up (module loading, JIT warm-up, per-module caches) is
 * saved; it returns to the event loop between its units (worker messages, progress, Ctrl-C).
 *
 * Start-up.  Workers start lazily on the first multi-threaded call and are kept for the next calls
 * of the process with the same thread count (unref'd while idle, so they never keep a process
 * alive); a worker loads only ./worker.ts, src/run and the module of its units (module-level caches
 * of that module — e.g. the covariances of an lsg sweep point — then serve every later unit).
 *
 * Scheduling (deterministic results, dynamic placement):
 *   - the tasks (in id order) are split into one contiguous range per lane, so consecutive units
 *     (the seeds of one sweep point, which share cached set-up) tend to run on the same worker;
 *   - a worker takes BATCHES from the front of its range: the batch size adapts to the measured unit
 *     duration (≈ TARGET_BATCH_MS of work per message, 1 … MAX_BATCH units); the next batch is sent
 *     while the last unit of the current one runs, so a worker does not wait for work;
 *   - a worker whose range is empty STEALS the back half of the largest remaining range;
 *   - each unit's result is posted as soon as it is done (durable progress, prompt interruption).
 * `PoolStats` counts batches, steals and stolen units.
 *
 * On abort (or the first failed unit) the pool stops dispatching, raises a shared flag that running
 * units poll (they return "interrupted") and that makes workers drop the units they have not started,
 * waits for the units in flight, terminates the workers and resolves with the results it has.
 */
import { Worker } from "node:worker_threads";
import { executeUnit, type UnitTask, type UnitResult, type WorkerMessage } from "./worker.js";
import { workerEntryFor, siblingModule } from "../kernels/worker-entry.js";
import { UserError } from "../run/errors.js";
import type { AbortLike } from "../run/hooks.js";

export type { UnitTask, UnitResult } from "./worker.js";

/** Aimed-for work per batch message (ms), from the measured mean unit duration. */
export const TARGET_BATCH_MS = 100;
/** Largest batch (units per message). */
export const MAX_BATCH = 64;

/** What the pool did during one `runUnits` call (filled in when passed as `PoolOptions.stats`). */
export interface PoolStats {
  /** Lanes used: the main thread and the worker threads (0: in-process, one thread). */
  workers: number;
  /** Worker threads started by this call (0 when the pool of an earlier call was reused). */
  started: number;
  /** Batch messages sent. */
  batches: number;
  /** Largest batch sent. */
  maxBatch: number;
  /** Times a worker took work from another worker's range, and how many units it took. */
  steals: number;
  stolenUnits: number;
  /** Units finished (any outcome) per lane (lane 0: the main thread). */
  perWorker: number[];
  /** Milliseconds spent inside units per lane, and the lane's first unit's end (ms after the call). */
  busyMs: number[];
  firstDoneMs: number[];
  /** Mean measured unit duration (ms). */
  meanUnitMs: number;
}

export interface PoolOptions {
  threads: number;
  signal?: AbortLike;
  /** Called as each unit finishes (any order). */
  onResult?: (r: UnitResult, done: number, total: number) => void;
  /** Filled in with what the pool did. */
  stats?: PoolStats;
}

interface PoolWorker {
  w: Worker;
  /** Units sent and not yet reported (run or dropped). */
  inflight: number;
  /** Ids sent and not yet reported (for the error of a crashed worker). */
  ids: Set<number>;
  /** The worker has loaded (it has sent "ready"). */
  ready: boolean;
  /** Modules asked to preload (`prestartUnitPool`), and the waits for their "preloaded" replies. */
  preloading: Map<string, Promise<void>>;
  preloadWaits: Map<number, () => void>;
  /** Per-call handler (set by the run in progress). */
  onMessage?: (m: WorkerMessage) => void;
  onFailure?: (e: Error) => void;
}

class UnitPool {
  readonly workers: PoolWorker[] = [];
  readonly flag: Int32Array;
  private readonly abortBuffer = new SharedArrayBuffer(4);
  dead = false;
  busy = false;

  constructor(readonly size: number) {
    this.flag = new Int32Array(this.abortBuffer);
    const { entry, eval: isEval } = workerEntryFor(siblingModule(import.meta.url, "worker"));
    for (let i = 0; i < size; i++) {
      const w = new Worker(entry, { eval: isEval, workerData: { rfdynUnitWorker: true, abortBuffer: this.abortBuffer } });
      const pw: PoolWorker = { w, inflight: 0, ids: new Set(), ready: false, preloading: new Map(), preloadWaits: new Map() };
      w.on("message", (m: WorkerMessage) => {
        if (m.type === "ready") pw.ready = true;
        else if (m.type === "preloaded") {
          pw.preloadWaits.get(m.seq)?.();
          pw.preloadWaits.delete(m.seq);
        }
        else pw.onMessage?.(m);
      });
      w.on("error", (e) => {
        this.dead = true;
        pw.onFailure?.(e instanceof Error ? e : new Error(String(e)));
      });
      w.on("exit", (code) => {
        this.dead = true;
        if (code !== 0) pw.onFailure?.(new Error(`worker thread exited with code ${code}`));
        // A worker gone before it has loaded ends the waits too (its failure is reported by the run).
        for (const res of pw.preloadWaits.values()) res();
        pw.preloadWaits.clear();
      });
      w.unref();
      this.workers.push(pw);
    }
  }

  async destroy(): Promise<void> {
    this.dead = true;
    if (sharedPool === this) sharedPool = undefined;
    await Promise.all(this.workers.map((p) => p.w.terminate()));
  }
}

let sharedPool: UnitPool | undefined;
let preloadSeq = 0;

/** Terminate the kept worker pool (if any); the next multi-threaded call starts a new one. */
export async function closeUnitPool(): Promise<void> {
  const p = sharedPool;
  sharedPool = undefined;
  if (p) await p.destroy();
}

/** The kept pool of `size` workers, or a new one (`fresh` = true). */
function acquirePool(size: number): { pool: UnitPool; fresh: boolean } {
  if (sharedPool && !sharedPool.dead && !sharedPool.busy && sharedPool.size === size) return { pool: sharedPool, fresh: false };
  if (sharedPool && !sharedPool.busy) void sharedPool.destroy();
  const pool = new UnitPool(size);
  // A pool busy with another (concurrent) call is left to it; the new one is kept from now on.
  sharedPool = pool;
  return { pool, fresh: true };
}

/**
 * Start the workers of a coming `runUnits(…, { threads })` call now and have each load `modules`
 * (the URLs of the unit modules it will run) at once, so that a worker's start-up — thread and
 * isolate creation, module loading, kernel instantiation: 0.2–0.5 s — overlaps what the caller does
 * before its units start (loading its own modules, validating the model, setting up), on the other
 * core.  The pool is the kept one that `runUnits` then reuses (same worker count, threads − 1); a
 * later call with another thread count starts its own.  Nothing to do for threads ≤ 1.  The promise
 * resolves when every worker has loaded the modules (callers need not wait for it; tests do).
 */
export function prestartUnitPool(threads: number, modules: readonly string[]): Promise<void> {
  const n = Math.floor(threads) - 1;
  if (!(n >= 1)) return Promise.resolve();
  const { pool } = acquirePool(n);
  return Promise.all(pool.workers.map((pw) => {
    const fresh = [...new Set(modules)].filter((u) => !pw.preloading.has(u));
    if (fresh.length > 0) {
      const seq = ++preloadSeq;
      const loaded = new Promise<void>((res) => pw.preloadWaits.set(seq, res));
      for (const u of fresh) pw.preloading.set(u, loaded);
      pw.w.postMessage({ type: "preload", modules: fresh, seq });
    }
    return Promise.all(modules.map((u) => pw.preloading.get(u))).then(() => undefined);
  })).then(() => undefined);
}

/**
 * Run units on up to `threads` lanes (this thread and threads − 1 workers); with threads ≤ 1 (or one unit) they run in-process,
 * one after another, through the same registry.  On abort the pool stops dispatching, raises a
 * shared flag that running units poll (their signal reads aborted), and resolves with what finished.
 */
export async function runUnits(tasks: readonly UnitTask[], opts: PoolOptions): Promise<UnitResult[]> {
  const results: UnitResult[] = [];
  const total = tasks.length;
  const stats: PoolStats = opts.stats ?? emptyStats();
  Object.assign(stats, emptyStats());
  if (total === 0) return results;
  const threads = Math.max(1, Math.min(Math.floor(opts.threads) || 1, total));
  const signal: AbortLike = opts.signal ?? { aborted: false };
  if (threads === 1) {
    let sumMs = 0;
    stats.perWorker = [0];
    stats.busyMs = [0];
    stats.firstDoneMs = [NaN];
    const tCall = performance.now();
    for (const t of tasks) {
      if (signal.aborted) break;
      const t0 = performance.now();
      const r = await executeUnit(t, signal);
      const t1 = performance.now();
      sumMs += t1 - t0;
      results.push(r);
      stats.perWorker[0]++;
      stats.busyMs[0] += t1 - t0;
      if (results.length === 1) stats.firstDoneMs[0] = t1 - tCall;
      opts.onResult?.(r, results.length, total);
    }
    stats.meanUnitMs = results.length ? sumMs / results.length : 0;
    return results;
  }

  // Lane 0 is this (the calling) thread, lanes 1 … threads − 1 are pool workers: -j N starts N − 1
  // workers, and the main thread, whose modules are loaded and whose code is already compiled, works
  // from the first millisecond instead of idling while the workers load.
  const nWorkers = threads - 1;
  const { pool, fresh } = acquirePool(nWorkers);
  pool.busy = true;
  Atomics.store(pool.flag, 0, 0);
  stats.workers = threads;
  stats.started = fresh ? nWorkers : 0;
  stats.perWorker = new Array<number>(threads).fill(0);
  stats.busyMs = new Array<number>(threads).fill(0);
  stats.firstDoneMs = new Array<number>(threads).fill(NaN);
  const tCall = performance.now();
  for (const pw of pool.workers) pw.w.ref();

  // Contiguous ranges [lo, hi) of task indices, one per lane (lane 0: the main thread).
  const ranges = Array.from({ length: threads }, (_, k) => ({ lo: Math.floor((k * total) / threads), hi: Math.floor(((k + 1) * total) / threads) }));
  let sumMs = 0, nMs = 0;
  let stopped = false; // abort or failure: dispatch nothing more
  let failure: Error | undefined;
  let mainBusy = true;
  // What the main lane's units poll: the caller's signal, or a stop (failure elsewhere).
  const unitSignal: AbortLike = { get aborted() { return stopped || signal.aborted; } };

  return await new Promise<UnitResult[]>((resolvePromise, reject) => {
    let finished = false;
    let poll: ReturnType<typeof setInterval> | undefined;
    const inflight = () => pool.workers.reduce((s, p) => s + p.inflight, 0);
    const finish = () => {
      if (finished) return;
      finished = true;
      if (poll) clearInterval(poll);
      stats.meanUnitMs = nMs ? sumMs / nMs : 0;
      for (const pw of pool.workers) {
        pw.onMessage = undefined;
        pw.onFailure = undefined;
      }
      pool.busy = false;
      const done = () => (failure ? reject(failure) : resolvePromise(results));
      if (stopped || failure || pool.dead || sharedPool !== pool) {
        // (A pool superseded by a concurrent call's is not kept either.)
        // Workers may hold an interrupted unit's state or a raised flag: start afresh next time.
        void pool.destroy().then(done, done);
      } else {
        for (const pw of pool.workers) pw.w.unref();
        done();
      }
    };
    const maybeFinish = () => {
      if (!mainBusy && inflight() === 0 && (stopped || ranges.every((r) => r.lo >= r.hi))) finish();
    };
    const stop = () => {
      if (stopped) return;
      stopped = true;
      Atomics.store(pool.flag, 0, 1);
      // A worker still starting runs nothing yet: do not wait for it (the pool is terminated).
      for (const pw of pool.workers) if (!pw.ready) { pw.inflight = 0; pw.ids.clear(); }
      maybeFinish();
    };
    const checkAbort = () => {
      if (signal.aborted) stop();
    };
    // The signal may be a plain flag (no events): poll it while units run.
    poll = setInterval(checkAbort, 50);
    const batchSize = (): number => {
      if (nMs === 0) return 1;
      const mean = Math.max(sumMs / nMs, 0.01);
      return Math.max(1, Math.min(MAX_BATCH, Math.round(TARGET_BATCH_MS / mean)));
    };
    /**
     * Up to `want` task indices for lane k from the front of its range; a lane whose range is empty
     * first steals the back half of the largest remaining range.  At most half of what is left of the
     * lane's own range (guided self-scheduling): a batch sized from fast units elsewhere must not
     * swallow a slow range whole and leave nothing to steal.
     */
    const take = (k: number, want: number): { lo: number; hi: number } | undefined => {
      let own = ranges[k];
      if (own.lo >= own.hi) {
        let victim = -1, most = 0;
        ranges.forEach((r, j) => {
          if (j !== k && r.hi - r.lo > most) { most = r.hi - r.lo; victim = j; }
        });
        if (victim < 0) return undefined;
        const n = Math.ceil(most / 2);
        const v = ranges[victim];
        ranges[k] = own = { lo: v.hi - n, hi: v.hi };
        v.hi -= n;
        stats.steals++;
        stats.stolenUnits += n;
      }
      const left = own.hi - own.lo;
      const b = Math.min(want, left > 1 ? Math.ceil(left / 2) : left);
      const got = { lo: own.lo, hi: own.lo + b };
      own.lo += b;
      return got;
    };
    const dispatch = (k: number) => {
      if (stopped || signal.aborted) return;
      const pw = pool.workers[k - 1];
      const got = take(k, batchSize());
      if (!got) return;
      const batch = tasks.slice(got.lo, got.hi);
      pw.inflight += batch.length;
      for (const t of batch) pw.ids.add(t.id);
      stats.batches++;
      stats.maxBatch = Math.max(stats.maxBatch, batch.length);
      pw.w.postMessage({ type: "batch", tasks: batch });
    };
    const record = (k: number, r: UnitResult, ms: number) => {
      if (finished) return;
      sumMs += ms;
      nMs++;
      stats.perWorker[k]++;
      stats.busyMs[k] += ms;
      if (Number.isNaN(stats.firstDoneMs[k])) stats.firstDoneMs[k] = performance.now() - tCall;
      results.push(r);
      if (!r.ok) stop();
      opts.onResult?.(r, results.length, total);
    };
    pool.workers.forEach((pw, j) => {
      const k = j + 1;
      pw.onMessage = (m) => {
        if (finished) return;
        if (m.type === "result") {
          pw.inflight--;
          pw.ids.delete(m.result.id);
          record(k, m.result, m.ms);
        } else if (m.type === "dropped") {
          pw.inflight -= m.ids.length;
          for (const id of m.ids) pw.ids.delete(id);
        }
        checkAbort();
        if (!stopped && pw.inflight <= 1) dispatch(k);
        maybeFinish();
      };
      pw.onFailure = (e) => {
        if (finished) return;
        const ids = [...pw.ids].sort((a, b) => a - b);
        failure = new Error(`worker thread failed${ids.length ? ` while running unit${ids.length > 1 ? "s" : ""} ${ids.join(", ")}` : ""}: ${e.message.split("\n")[0]}`);
        stopped = true;
        Atomics.store(pool.flag, 0, 1);
        finish();
      };
    });
    /**
     * The main thread's lane: one unit at a time from lane 0 (the same `executeUnit` as the workers),
     * back to the event loop between units so worker messages, progress and Ctrl-C are handled.
     * Before each unit every worker is topped up to more than one unit ahead, so it does not run
     * dry while this thread is busy.
     */
    const mainLane = async () => {
      try {
        while (!stopped && !signal.aborted && !finished) {
          const got = take(0, 1);
          if (!got) break;
          for (let k = 1; k < threads; k++) if (pool.workers[k - 1].inflight <= 1) dispatch(k);
          const t0 = performance.now();
          const r = await executeUnit(tasks[got.lo], unitSignal);
          record(0, r, performance.now() - t0);
          await new Promise<void>((res) => setImmediate(res));
          checkAbort();
        }
      } finally {
        mainBusy = false;
        if (!finished) maybeFinish();
      }
    };
    checkAbort();
    if (stopped) {
      mainBusy = false;
      maybeFinish();
      return;
    }
    for (let k = 1; k < threads; k++) dispatch(k);
    void mainLane().catch((e: unknown) => {
      failure = e instanceof Error ? e : new Error(String(e));
      stopped = true;
      Atomics.store(pool.flag, 0, 1);
      finish();
    });
  });
}

function emptyStats(): PoolStats {
  return { workers: 0, started: 0, batches: 0, maxBatch: 0, steals: 0, stolenUnits: 0, perWorker: [], busyMs: [], firstDoneMs: [], meanUnitMs: 0 };
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
