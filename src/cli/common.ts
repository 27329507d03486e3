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
import { UserError } from "../io/errors.js";
import { cleanupPendingWrites } from "../io/atomic.js";
import { IntegrationError } from "../integrate/types.js";

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

/** Progress reporter: a bar on a TTY, nothing otherwise.  `update(fraction, info)`. */
export interface Progress {
  update(fraction: number, info?: string): void;
  stop(): void;
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
    update(fraction, info = "") {
      const now = Date.now();
      if (now - last < 100 && fraction < 1) return;
      last = now;
      bar.update(Math.round(1000 * Math.min(1, Math.max(0, fraction))), { info });
    },
    stop() {
      bar.stop();
    },
  };
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

/** Throw a UserError if the run was interrupted (for code paths that cannot save partial output). */
export function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new UserError("interrupted");
}

export function assertNever(x: never, what: string): never {
  throw new UserError(`unsupported ${what}: ${JSON.stringify(x)}`);
}
