/**
 * Provenance of a run, recorded by `rfdyn run` next to its bookkeeping (`.rfdyn/provenance.json`,
 * so result files stay byte-identical between runs): rfdyn version, git commit of the rfdyn
 * sources when they are a git checkout, Node version and platform, the command line, model file
 * and its sha256, seed, start/end times, wall time, status and exit code.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeJsonAtomic } from "./atomic.js";
import { rfdynVersion } from "./version.js";

export const PROVENANCE_FILE = join(".rfdyn", "provenance.json");

export interface Provenance {
  format: "rfdyn-provenance/1";
  rfdynVersion: string;
  git: { commit: string; dirty: boolean } | null;
  node: string;
  platform: string;
  cpus: number;
  command: string[];
  cwd: string;
  modelFile: string;
  modelSha256: string | null;
  kind: string;
  seed: number | null;
  started: string;
  finished: string;
  seconds: number;
  status: string;
  message: string;
  exitCode: number;
  threads: number;
  plots: { png: boolean; dpi: number };
}

let gitCached: Provenance["git"] | undefined;

/** Commit of the rfdyn source tree (this file's checkout), or null when it is not a git checkout. */
export function gitCommit(): Provenance["git"] {
  if (gitCached !== undefined) return gitCached;
  let dir = dirname(fileURLToPath(import.meta.url));
  let root: string | undefined;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, ".git"))) {
      root = dir;
      break;
    }
    dir = dirname(dir);
  }
  if (!root) return (gitCached = null);
  try {
    const opts = { cwd: root, encoding: "utf8" as const, timeout: 5000, stdio: ["ignore", "pipe", "ignore"] as ["ignore", "pipe", "ignore"] };
    const commit = execFileSync("git", ["rev-parse", "HEAD"], opts).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], opts).trim() !== "";
    return (gitCached = /^[0-9a-f]{40}$/.test(commit) ? { commit, dirty } : null);
  } catch {
    return (gitCached = null);
  }
}

export function sha256File(path: string): string | null {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return null;
  }
}

/** Provenance of a run that started at `started` and has just finished. */
export function makeProvenance(run: {
  modelFile: string; kind: string; seed: number | null; started: Date; status: string; message: string; exitCode: number; threads: number; plots: { png: boolean; dpi: number };
}): Provenance {
  const finished = new Date();
  return {
    format: "rfdyn-provenance/1",
    rfdynVersion: rfdynVersion(),
    git: gitCommit(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    command: process.argv.slice(1),
    cwd: process.cwd(),
    modelFile: run.modelFile,
    modelSha256: sha256File(run.modelFile),
    kind: run.kind,
    seed: run.seed,
    started: run.started.toISOString(),
    finished: finished.toISOString(),
    seconds: (finished.getTime() - run.started.getTime()) / 1000,
    status: run.status,
    message: run.message,
    exitCode: run.exitCode,
    threads: run.threads,
    plots: run.plots,
  };
}

export function writeProvenance(out: string, p: Provenance): void {
  writeJsonAtomic(join(out, PROVENANCE_FILE), p);
}
