/**
 * CLI plumbing shared by every command: one-line error reporting, interruption, progress bars and
 * output directories.
 *
 * - `UserError` (bad input) → `rfdyn: <message>` on stderr, exit 2, no stack trace.
 * - Other errors → `rfdyn: internal error: <message>`, exit 1 (stack only with RFDYN_DEBUG=1).
 * - Ctrl-C aborts the run's AbortSignal: long loops stop at the next check, write what they have
 *   (status "interrupted") atomically, and the process exits 130.  A second Ctrl-C exits at once.
 */
import { basename, extname, join, resolve } from "node:path";
import cliProgress from "cli-progress";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { UserError } from "../run/errors.js";
import { cleanupPendingWrites, writeJsonAtomic } from "../io/atomic.js";
import { bookkeepingDir, directoryStore } from "../io/run-store.js";
import type { RunStore } from "../run/store.js";
import { IntegrationError } from "../integrate/index.js";
import type { ProgressEvent, RunStatus } from "../run/hooks.js";
import { EtaEstimator, formatEta } from "../run/progress.js";

export interface RunContext {
  /** Output directory (created by writers on demand). */
  out: string;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Show progress bars (stderr is a TTY and --quiet not given). */
  progress: boolean;
  /** Number of worker threads allowed (sweeps). */
  threads: number;
  /** Print a status line. */
  log: (msg: string) => void;
}

/** Default output directory for a model file: results/<model name>. */
export function defaultOutDir(modelPath: string): string {
  return join("results", basename(modelPath, extname(modelPath)));
}

/** Signals handled within this many milliseconds of the first count as one (relayed duplicates). */
const DUPLICATE_SIGNAL_MS = 100;

export function makeContext(argv: { out?: string; quiet?: boolean; threads?: number }, modelPath: string): RunContext {
  if (argv.out !== undefined && String(argv.out).trim() === "") throw new UserError("--out: must be a non-empty path");
  if (argv.threads !== undefined && !(Number.isInteger(argv.threads) && argv.threads >= 1 && argv.threads <= 1024)) throw new UserError(`--threads: must be an integer in [1, 1024] (got ${argv.threads})`);
  const ac = new AbortController();
  let hits = 0;
  let first = 0;
  const onSig = () => {
    // Wrapper processes (npx, tsx) may relay the terminal's Ctrl-C, so one key press can arrive
    // twice within a few milliseconds: a second signal handled within 100 ms of the first counts as
    // the same one.  (The window is measured between the handlers, which run late when the event
    // loop is busy: a 1 s window swallowed a real second Ctrl-C sent 1.1 s after a first one that
    // was handled 0.2 s late.)
    const now = Date.now();
    if (hits > 0 && now - first < DUPLICATE_SIGNAL_MS) return;
    hits++;
    if (hits === 1) first = now;
    if (hits > 1) {
      cleanupPendingWrites();
      process.exit(130);
    }
    process.stderr.write("\nrfdyn: interrupted — finishing the current step and writing partial results (Ctrl-C again to quit now)\n");
    ac.abort();
  };
  process.on("SIGINT", onSig);
  process.on("SIGTERM", onSig);
  const quiet = argv.quiet ?? false;
  return {
    out: resolve(argv.out ?? defaultOutDir(modelPath)),
    signal: ac.signal,
    progress: !quiet && Boolean(process.stderr.isTTY),
    threads: argv.threads ?? 1,
    log: quiet ? () => {} : (m) => process.stderr.write(m + "\n"),
  };
}

/** Progress reporter: a bar on a TTY, nothing otherwise. */
export interface Progress {
  update(e: ProgressEvent): void;
  stop(): void;
}

/** Format a progress event's extras: phase, model time, metrics. */
export function progressInfo(e: ProgressEvent): string {
  const parts: string[] = [];
  if (e.phase) parts.push(e.phase);
  if (e.unit !== "time" && e.unit !== "parts") parts.push(`${Math.round(e.done)}/${Math.round(e.total)} ${e.unit}`);
  if (e.t !== undefined) parts.push(`t = ${e.t.toPrecision(4)}`);
  for (const [k, v] of Object.entries(e.metrics ?? {})) if (Number.isFinite(v)) parts.push(`${k} = ${Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(3) : v.toPrecision(4)}`);
  return parts.join("  ");
}

export function progressBar(ctx: Pick<RunContext, "progress">, label: string): Progress {
  if (!ctx.progress) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | ETA {etaSmooth} | {info}`, hideCursor: true, clearOnComplete: false, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { info: "", etaSmooth: "--" });
  const eta = new EtaEstimator();
  let last = 0;
  return {
    update(e) {
      const raw = e.total > 0 ? e.done / e.total : 0;
      const fraction = Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : 0;
      const now = Date.now();
      const remaining = eta.update(now / 1000, fraction);
      if (now - last < 100 && fraction < 1) return;
      last = now;
      bar.update(Math.round(1000 * fraction), { info: progressInfo(e), etaSmooth: formatEta(remaining) });
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * Check an output directory before any compute: a non-empty path that is not a file, and a
 * directory that exists or can be created, and is writable.
 */
export function checkOutDir(out: string, flag = "--out"): void {
  if (out.trim() === "") throw new UserError(`${flag}: must be a non-empty path`);
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new UserError(`${flag}: "${out}" exists and is not a directory`);
  } else {
    try {
      mkdirSync(out, { recursive: true });
    } catch (e) {
      throw new UserError(`${flag}: cannot create directory "${out}" (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  try {
    accessSync(out, constants.W_OK);
  } catch {
    throw new UserError(`${flag}: directory "${out}" is not writable`);
  }
}

/** Remove temp files (`*.tmp`) that killed writes left anywhere under `dir`. */
function removeTempFiles(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) removeTempFiles(p);
    else if (e.name.endsWith(".tmp")) rmSync(p, { force: true });
  }
}

/** What marks an output directory as one run's: the model hash (and kind) it holds results of. */
interface RunMarker {
  format: "rfdyn-run/1";
  kind: string;
  modelHash: string;
  version: string;
}

/**
 * Claim an output directory for a run, before any compute: the directory is checked (checkOutDir),
 * a directory holding another model's results (or files that are not an rfdyn run) is refused
 * unless `force`, temp files of killed writes are removed, and the run's checkpoint store is
 * returned — emptied unless `resume`.
 */
export function claimOutDir(out: string, run: { kind: string; modelHash: string; version: string; resume: boolean; force: boolean }): RunStore & { clear(): void; keys(): string[] } {
  checkOutDir(out);
  const markerPath = join(bookkeepingDir(out), "run.json");
  let marker: RunMarker | undefined;
  if (existsSync(markerPath)) {
    try {
      marker = JSON.parse(readFileSync(markerPath, "utf8")) as RunMarker;
    } catch {
      marker = undefined;
    }
  }
  const entries = readdirSync(out).filter((f) => f !== ".rfdyn");
  const store = directoryStore(out);
  if (!run.force) {
    if (marker && marker.modelHash !== run.modelHash) {
      throw new UserError(`--out: "${out}" holds results of another model (${marker.kind}, hash ${marker.modelHash.slice(0, 12)}); use --force to replace them or choose another directory`);
    }
    if (!marker && entries.length > 0) {
      throw new UserError(`--out: "${out}" is not empty and holds no rfdyn run of this model; use --force to write into it or choose another directory`);
    }
  }
  if (run.resume && marker && marker.modelHash !== run.modelHash) throw new UserError(`--resume: "${out}" holds a run of another model (hash ${marker.modelHash.slice(0, 12)}); nothing to resume`);
  removeTempFiles(out);
  if (!run.resume || (marker && marker.modelHash !== run.modelHash)) store.clear();
  writeJsonAtomic(markerPath, { format: "rfdyn-run/1", kind: run.kind, modelHash: run.modelHash, version: run.version } satisfies RunMarker);
  return store;
}

/** Exit status of a run status: 0 complete, 130 interrupted, 2 diverged (bad parameters), 3 failed. */
export function exitCodeOf(s: RunStatus): number {
  return s === "interrupted" ? 130 : s === "diverged" ? 2 : s === "failed" ? 3 : 0;
}

/** Run a command handler with the project's error conventions; sets process.exitCode. */
export async function runCli(fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
  } catch (e) {
    cleanupPendingWrites();
    if (e instanceof UserError) {
      process.stderr.write(`rfdyn: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof IntegrationError) {
      process.stderr.write(`rfdyn: ${e.message}\n`);
      process.exitCode = 3;
    } else {
      const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
      process.stderr.write(`rfdyn: internal error: ${msg}${process.env.RFDYN_DEBUG ? "" : " (set RFDYN_DEBUG=1 for a stack trace)"}\n`);
      if (process.env.RFDYN_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = 1;
    }
  }
}
