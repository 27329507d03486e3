/**
 * Data-parallel kernels over the rows of a sample matrix, on worker threads, synchronous for the
 * caller (an ODE right-hand side stays `rhs(t, y, dy)`), with results bit-identical for every thread
 * count N (1 included).
 *
 * Determinism.  A pass over n rows is cut into chunks whose boundaries depend only on n and the
 * problem's sizes (`fixedChunkRows`), never on N.  Each chunk writes its own partial result (its own
 * slot of a SharedArrayBuffer); the caller then reduces the partials in chunk order.  Which thread ran
 * which chunk does not change a bit.  N = 1 runs the same chunks and the same reduction in-thread.
 *
 * Dispatch (`KernelTeam.run`, Atomics-based, no messages per call).  The team has N − 1 worker threads
 * (started lazily, on the first `run`) plus the calling thread.  A shared Int32 control block holds a
 * claim word (generation << 16 | next chunk index; index 0xFFFF = closed), the job id, the chunk
 * count and a done counter.  `run` closes the claim word, writes the job's id and count, opens it at
 * index 0 and notifies the workers; every thread (the caller included) claims chunks by
 * compare-and-swap on the claim word (so a slow or still-starting worker simply claims fewer) and
 * runs them; the caller then waits (Atomics.wait, allowed on Node's main thread) until the done
 * counter reaches the count.  A worker reads a job's parameters only after a successful claim, which
 * cannot happen once the caller has moved on, so it never mixes two calls.
 *
 * Jobs.  A job is a chunk function `(data, chunk) => void` exported by some module (named by URL, as
 * the units of src/parallel/pool.ts, so this layer imports none of its callers) plus its `data`: an
 * object of SharedArrayBuffer-backed typed arrays and numbers, sent to each worker once
 * (`register`).  Per-call inputs (e.g. the current w) are written by the caller into shared arrays of
 * `data` before `run`; outputs are written by the chunks into shared partial slots.  One chunk
 * function per chunk kind (flow row pass, CP loss pass): a faster implementation of one kind (e.g.
 * WebAssembly SIMD) is swapped in there, per chunk.  A worker that has not loaded a job's module yet
 * skips that call (the other threads do the work) and loads it meanwhile.
 *
 * Errors: an exception in a worker's chunk is reported to the caller, which throws it from `run`
 * (after the call's other chunks are done).  A worker thread that dies abruptly (e.g. out of memory)
 * is not detected while the caller waits: such a failure hangs the run.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { siblingModule, workerEntryFor } from "./worker-entry.js";

/** Indices of the shared control block (Int32). */
export const CTL = { CLAIM: 0, JOB: 1, COUNT: 2, DONE: 3, ERROR: 4, QUIT: 5, BY_WORKERS: 6, SIZE: 8 } as const;
export const CLOSED = 0xffff;
/** Largest number of chunks of one call. */
export const MAX_TASKS = 0xfffe;

/** A Float64Array on a SharedArrayBuffer (zero-filled). */
export function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8), 0, n);
}

/** `x` itself when it lives on a SharedArrayBuffer, else a shared copy. */
export function toShared(x: Float64Array): Float64Array {
  if (x.buffer instanceof SharedArrayBuffer) return x;
  const s = sharedFloat64(x.length);
  s.set(x);
  return s;
}

/**
 * Rows per chunk of a pass over n rows: at least `minRows`, at most `maxChunks` chunks, a multiple
 * of `multiple` — a function of the problem only (never of the thread count).  `override` (tests)
 * fixes it.
 */
export function fixedChunkRows(n: number, minRows: number, maxChunks: number, multiple: number, override?: number): number {
  let rows = override ?? Math.max(minRows, Math.ceil(n / maxChunks));
  if (!(Number.isInteger(rows) && rows >= 1)) throw new RangeError(`chunk rows must be a positive integer (got ${rows})`);
  if (override === undefined) rows = Math.ceil(rows / multiple) * multiple;
  return rows;
}

/** Chunk boundaries [0, rows, 2·rows, …, n] of a pass over n rows. */
export function chunkBounds(n: number, rows: number): number[] {
  const b = [0];
  for (let lo = rows; lo < n; lo += rows) b.push(lo);
  b.push(n);
  return b;
}

type ChunkFn = (data: unknown, chunk: number) => void;

interface JobMessage { type: "job"; id: number; module: string; kind: string; data: unknown }

/**
 * N − 1 worker threads plus the caller, running the chunks of registered jobs synchronously.  With
 * threads ≤ 1 no worker is ever started and `run` executes the chunks in order in-thread.
 */
export class KernelTeam {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly workers: { w: Worker; port: MessagePort; errors: MessagePort; loaded: number }[] = [];
  private waiters: (() => void)[] = [];
  private readonly jobs: JobMessage[] = [];
  private gen = 0;
  private closed = false;
  private total = 0;

  constructor(threads: number) {
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= 1024)) throw new RangeError(`threads must be an integer in [1, 1024] (got ${threads})`);
    this.threads = threads;
    this.ctl = new Int32Array(new SharedArrayBuffer(CTL.SIZE * 4));
    Atomics.store(this.ctl, CTL.CLAIM, CLOSED);
  }

  /**
   * Make a job known to the workers: `kind` is the name of a chunk function `(data, chunk) => void`
   * exported by `module` (a module URL, e.g. the caller's import.meta.url); `data` is structured-cloned
   * to each worker (SharedArrayBuffer-backed arrays are shared, not copied).  Returns the job id.
   */
  register(module: string, kind: string, data: unknown): number {
    const job: JobMessage = { type: "job", id: this.jobs.length, module, kind, data };
    this.jobs.push(job);
    for (const w of this.workers) w.port.postMessage(job);
    return job.id;
  }

  /**
   * Run chunks 0 … count − 1 of job `id`: `local(chunk)` is the caller's own chunk function (the same
   * computation as the worker's).  Returns when every chunk is done; rethrows a worker's error.
   */
  run(id: number, count: number, local: (chunk: number) => void): void {
    if (this.closed) throw new Error("KernelTeam: used after close()");
    if (!(count >= 0 && count <= MAX_TASKS)) throw new RangeError(`KernelTeam: ${count} chunks (max ${MAX_TASKS})`);
    this.total += count;
    if (this.threads === 1 || count <= 1) {
      for (let c = 0; c < count; c++) local(c);
      return;
    }
    if (this.workers.length === 0) this.start();
    const ctl = this.ctl;
    this.gen = (this.gen + 1) & 0xffff;
    const g = this.gen << 16;
    Atomics.store(ctl, CTL.CLAIM, g | CLOSED);
    Atomics.store(ctl, CTL.JOB, id);
    Atomics.store(ctl, CTL.COUNT, count);
    Atomics.store(ctl, CTL.DONE, 0);
    Atomics.store(ctl, CTL.CLAIM, g);
    Atomics.notify(ctl, CTL.CLAIM);
    let v = g;
    let mine = 0;
    let failure: unknown;
    for (;;) {
      const idx = v & 0xffff;
      if (idx >= count) break;
      const prev = Atomics.compareExchange(ctl, CTL.CLAIM, v, v + 1);
      if (prev !== v) { v = prev; continue; }
      try {
        local(idx);
      } catch (e) {
        failure ??= e;
      }
      mine++;
      v = Atomics.load(ctl, CTL.CLAIM);
    }
    let d = Atomics.add(ctl, CTL.DONE, mine) + mine;
    while (d < count) {
      Atomics.wait(ctl, CTL.DONE, d, 1000);
      d = Atomics.load(ctl, CTL.DONE);
    }
    if (failure !== undefined) {
      Atomics.store(ctl, CTL.ERROR, 0);
      for (const w of this.workers) while (receiveMessageOnPort(w.errors));
      throw failure;
    }
    if (Atomics.load(ctl, CTL.ERROR) !== 0) {
      Atomics.store(ctl, CTL.ERROR, 0);
      let msg = "a kernel worker failed";
      for (const w of this.workers) {
        for (let m = receiveMessageOnPort(w.errors); m; m = receiveMessageOnPort(w.errors)) msg = String((m.message as { message: string }).message);
      }
      throw new Error(msg);
    }
  }

  /**
   * Start the workers (if not yet) and resolve once each has loaded every job registered so far, so
   * that the next `run` is shared from its first chunk (optional: `run` works without it).
   */
  ready(): Promise<void> {
    if (this.threads === 1 || this.closed) return Promise.resolve();
    if (this.workers.length === 0) this.start();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      // While someone awaits the workers' loading, they must keep the process alive (an unref'd
      // worker's message would never come: Node would exit with an unsettled promise).
      for (const w of this.workers) w.w.ref();
      this.checkReady();
    });
  }

  private checkReady(): void {
    if (this.workers.every((w) => w.loaded >= this.jobs.length)) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of this.workers) w.w.unref();
      for (const r of ws) r();
    }
  }

  private start(): void {
    const { entry, eval: isEval } = workerEntryFor(siblingModule(import.meta.url, "parallel-worker"));
    for (let i = 0; i < this.threads - 1; i++) {
      const jobs = new MessageChannel(), errors = new MessageChannel();
      const w = new Worker(entry, {
        eval: isEval,
        workerData: { rfdynKernelWorker: true, ctl: this.ctl.buffer, port: jobs.port2, errors: errors.port2 },
        transferList: [jobs.port2, errors.port2],
      });
      // Idle workers and their ports never keep the process alive: a team left open (no close())
      // does not hang the exit.  Chunks are dispatched through shared memory, not the event loop.
      w.unref();
      jobs.port1.unref();
      errors.port1.unref();
      w.on("error", () => undefined); // reported through the error port when it happens in a chunk
      for (const j of this.jobs) jobs.port1.postMessage(j);
      const rec = { w, port: jobs.port1, errors: errors.port1, loaded: 0 };
      w.on("message", (m: { loaded?: number }) => {
        if (typeof m.loaded === "number") rec.loaded = m.loaded;
        this.checkReady();
      });
      this.workers.push(rec);
    }
  }

  /** Chunks run so far: in all, and by the workers (the rest by the caller). */
  get chunks(): { total: number; byWorkers: number } {
    return { total: this.total, byWorkers: Atomics.load(this.ctl, CTL.BY_WORKERS) };
  }

  /** Stop the workers (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.waiters) r();
    this.waiters = [];
    Atomics.store(this.ctl, CTL.QUIT, 1);
    Atomics.store(this.ctl, CTL.CLAIM, CLOSED);
    Atomics.notify(this.ctl, CTL.CLAIM);
    for (const { w, port, errors } of this.workers) {
      port.close();
      errors.close();
      void w.terminate();
    }
    this.workers.length = 0;
  }
}

/** Worker side (./parallel-worker.ts): serve chunks until the team is closed. */
export async function serveChunks(ctlBuffer: SharedArrayBuffer, port: MessagePort, errors: MessagePort, loaded: (n: number) => void): Promise<void> {
  const ctl = new Int32Array(ctlBuffer);
  const fns = new Map<number, { fn: ChunkFn; data: unknown }>();
  const pending: JobMessage[] = [];
  const drain = () => {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) pending.push(m.message as JobMessage);
  };
  let last = Atomics.load(ctl, CTL.CLAIM);
  for (;;) {
    // Load the modules of jobs registered so far (asynchronously: calls meanwhile go without us).
    drain();
    while (pending.length > 0) {
      const j = pending.shift()!;
      const mod = (await import(j.module)) as Record<string, unknown>;
      const fn = mod[j.kind];
      fns.set(j.id, { fn: typeof fn === "function" ? (fn as ChunkFn) : () => { throw new Error(`chunk kind ${j.kind} is not exported by ${j.module}`); }, data: j.data });
      drain();
      if (pending.length === 0) loaded(fns.size);
    }
    Atomics.wait(ctl, CTL.CLAIM, last);
    if (Atomics.load(ctl, CTL.QUIT) !== 0) return;
    let v = Atomics.load(ctl, CTL.CLAIM);
    for (;;) {
      const idx = v & 0xffff;
      if (idx === CLOSED) break;
      const count = Atomics.load(ctl, CTL.COUNT);
      if (idx >= count) break;
      const job = fns.get(Atomics.load(ctl, CTL.JOB));
      if (!job) break; // not loaded yet: skip this call
      const prev = Atomics.compareExchange(ctl, CTL.CLAIM, v, v + 1);
      if (prev !== v) { v = prev; continue; }
      try {
        job.fn(job.data, idx);
      } catch (e) {
        errors.postMessage({ message: e instanceof Error ? e.message.split("\n")[0] : String(e) });
        Atomics.store(ctl, CTL.ERROR, 1);
      }
      Atomics.add(ctl, CTL.BY_WORKERS, 1);
      if (Atomics.add(ctl, CTL.DONE, 1) + 1 >= count) Atomics.notify(ctl, CTL.DONE);
      v = Atomics.load(ctl, CTL.CLAIM);
    }
    last = v;
  }
}
