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
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { UserError } from "../run/errors.js";
import { cleanupPendingWrites } from "../io/atomic.js";
import { IntegrationError } from "../integrate/index.js";
import type { ProgressEvent, RunStatus } from "../run/hooks.js";

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

export function makeContext(argv: { out?: string; quiet?: boolean; threads?: number }, modelPath: string): RunContext {
  if (argv.out !== undefined && String(argv.out).trim() === "") throw new UserError("--out: must be a non-empty path");
  if (argv.threads !== undefined && !(Number.isInteger(argv.threads) && argv.threads >= 1 && argv.threads <= 1024)) throw new UserError(`--threads: must be an integer in [1, 1024] (got ${argv.threads})`);
  const ac = new AbortController();
  let hits = 0;
  let first = 0;
  const onSig = () => {
    // Wrapper processes (npx, tsx) may relay the terminal's Ctrl-C, so one key press can arrive
    // twice within a few milliseconds: only a second signal more than 1 s later quits at once.
    const now = Date.now();
    if (hits > 0 && now - first < 1000) return;
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
    { format: `${label} [{bar}] {percentage}% | ETA {eta_formatted} | {info}`, hideCursor: true, clearOnComplete: false, stream: process.stderr, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { info: "" });
  let last = 0;
  return {
    update(e) {
      const fraction = e.total > 0 ? e.done / e.total : 0;
      const now = Date.now();
      if (now - last < 100 && fraction < 1) return;
      last = now;
      bar.update(Math.round(1000 * Math.min(1, Math.max(0, fraction || 0))), { info: progressInfo(e) });
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
