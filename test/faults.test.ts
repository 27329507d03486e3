/**
 * Fault injection through the CLI: for seven kinds (online SGD simulate, cp with 12 decompositions,
 * flow with 9 runs, compare with 3 seeds, sweep with 10 runs, mixture ode, attractors) a reference
 * output directory comes from one uninterrupted run; then the same model is run into another
 * directory and killed at seeded pseudo-random moments — mostly `kill -9`, some SIGTERM — and
 * resumed with `--resume --checkpoint-every 0.05` until a run completes.  The outputs must equal
 * the reference byte for byte, wall-clock fields masked (list: WALL_KEYS in test/cli-harness.ts),
 * no file may be corrupt and no temp file may remain.  Also the output-directory rules: another
 * model's directory is refused (exit 2, one line) unless --force; --resume with nothing to resume
 * just runs.  Two processes at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, corruptFiles, diffDirs, exitWithin, golden, limit, listFiles, rng, sleep, spawnRun, tempFiles, type CliRun } from "./cli-harness.js";

/**
 * Hash of the sources: in a shared checkout another edit of src/ between the reference run and the
 * resumed runs changes last bits (seen once: a numeric kernel edited mid-test), which is not a
 * resume bug; the comparison then fails with this named as the cause.
 */
function srcHash(): string {
  const h = createHash("sha256");
  for (const f of listFiles(join(ROOT, "src"))) h.update(f).update(readFileSync(join(ROOT, "src", f)));
  return h.digest("hex");
}
let hashBefore = "";

/** Small models (2–6 s per run) of every kind with durable units or checkpoints. */
const models: Record<string, () => unknown> = {
  // online SGD, checkpoint sgd/state
  simulate: () => { const m = golden("default"); m.training.time = 300; return m; },
  // 2 × 2 grid points × 3 samples = 12 decompositions (units)
  cp: () => { const m = golden("ig22-fig4c-cp"); m.sweep.samples = 3; return m; },
  // 3 gains × 3 replicates = 9 runs (units)
  flow: () => { const m = golden("ig22-fig4b-full"); m.replicates = 3; return m; },
  // teacher–student, 3 seeds (seed/<s>)
  compare: () => { const m = golden("saad-solla-plateau"); m.sgd.seeds = 3; m.time.end = 80; return m; },
  // 5 points × 2 seeds = 10 runs (units)
  sweep: () => { const m = golden("lsg24-kurtosis-sgd"); m.base.sgd.t1 = 40; return m; },
  // mixture ODE, checkpoint ode/state at its 20 output times
  ode: () => { const m = golden("ig22-fig3-ode-long"); m.task.geometry.L = 16; m.network.K = 4; m.time.end = 100; m.time.points = 20; return m; },
  // 2 starts × 12 seeds (start/<si>/<k>)
  attractors: () => { const m = golden("ig22-figS2-attractors"); m.starts.seeds = 12; return m; },
};
const KILLS_PER_KIND = 4;

/**
 * Wait until the run claims its output directory (it rewrites <out>/.rfdyn/run.json, after start-up
 * and validation, just before computing); false if it exited first.
 */
async function claimed(run: CliRun, out: string, since: number): Promise<boolean> {
  let exited = false;
  void run.exited.then(() => (exited = true));
  const marker = join(out, ".rfdyn", "run.json");
  for (;;) {
    if (existsSync(marker) && statSync(marker).mtimeMs >= since - 5) return true;
    if (exited) return false;
    await sleep(10);
  }
}

interface Row { kind: string; kills: number; sigterms: number; resumes: number; refMs: number; delays: number[]; result: string; ref: string; dir: string; equal?: boolean }
const rows = new Map<string, Row>();
let root = "";

/** Run to the end; `ms` is the time from claiming the output directory to the exit. */
async function runToEnd(model: string, out: string, extra: string[]): Promise<{ code: number | null; ms: number; stderr: string }> {
  const t0 = Date.now();
  const r = spawnRun(model, out, ["-q", ...extra]);
  await claimed(r, out, t0);
  const t1 = Date.now();
  const e = await r.exited;
  return { code: e.code, ms: e.at - t1, stderr: r.stderr() };
}

async function faultKind(kind: string, seed: number): Promise<Row> {
  const r = rng(seed);
  const model = join(root, `${kind}.json`);
  writeFileSync(model, JSON.stringify(models[kind]()));
  const ref = join(root, `${kind}-ref`), dir = join(root, `${kind}-faults`);
  const refRun = await runToEnd(model, ref, []);
  if (refRun.code !== 0) throw new Error(`${kind}: reference run failed (${refRun.code}): ${refRun.stderr}`);
  let kills = 0, sigterms = 0, resumes = 0, result = "";
  const delays: number[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const args = attempt === 0 ? ["-q", "--checkpoint-every", "0.05"] : ["-q", "--resume", "--checkpoint-every", "0.05"];
    if (attempt > 0) resumes++;
    const t0 = Date.now();
    const run = spawnRun(model, dir, args);
    if (kills < KILLS_PER_KIND) {
      // A moment within the run: 2–45 % of the reference run's compute-and-write time after the
      // directory is claimed (resumed runs have less left to do).
      const delay = Math.round(refRun.ms * (0.02 + 0.43 * r()));
      const sig: NodeJS.Signals = r() < 0.25 ? "SIGTERM" : "SIGKILL";
      delays.push(delay);
      await claimed(run, dir, t0);
      const early = await exitWithin(run, delay);
      if (early) {
        result = early.code === 0 ? "done" : `exit ${early.code}`;
        if (early.code !== 0) throw new Error(`${kind}: attempt ${attempt} exited ${early.code}: ${run.stderr()}`);
        break;
      }
      run.child.kill(sig);
      const e = await run.exited;
      if (e.code === 0) {
        result = "done"; // finished while the signal was on its way
        break;
      }
      if (sig === "SIGTERM") {
        if (e.code !== 130) throw new Error(`${kind}: SIGTERM gave exit ${e.code}: ${run.stderr()}`);
        sigterms++;
      }
      kills++;
      continue;
    }
    const e = await run.exited;
    result = e.code === 0 ? "done" : `exit ${e.code}`;
    if (e.code !== 0) throw new Error(`${kind}: resumed run exited ${e.code}: ${run.stderr()}`);
    break;
  }
  // The directories are compared in the tests, after every kind has run: a synchronous comparison
  // here would block this process's event loop while another kind's run is being timed.
  return { kind, kills, sigterms, resumes, refMs: refRun.ms, delays, result, ref, dir };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "rfdyn-faults-"));
  hashBefore = srcHash();
  const kinds = Object.keys(models);
  await limit(2, kinds.map((k, i) => async () => void rows.set(k, await faultKind(k, 1000 + i))));
}, 300_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("killed (kill -9 / SIGTERM) and resumed runs end with the reference outputs", () => {
  for (const kind of Object.keys(models)) {
    it(kind, () => {
      const row = rows.get(kind)!;
      expect(row.result).toBe("done");
      const diffs = diffDirs(row.ref, row.dir), corrupt = corruptFiles(row.dir), temps = tempFiles(row.dir);
      row.equal = diffs.length + corrupt.length + temps.length === 0;
      if (diffs.length > 0) expect(srcHash(), "src/ was edited while the test ran: outputs of the reference and the resumed runs come from different code").toBe(hashBefore);
      expect(diffs).toEqual([]);
      expect(corrupt).toEqual([]);
      expect(temps).toEqual([]);
      expect(existsSync(join(row.dir, ".rfdyn", "checkpoints")), "checkpoints are cleared when a run completes").toBe(false);
    });
  }

  it("at least 20 kills in total, and the summary table", () => {
    console.log("kind        kills  (SIGTERM)  resumes  ref ms  result                 kill delays after claim (ms)");
    for (const r of rows.values()) console.log(`${r.kind.padEnd(11)} ${String(r.kills).padStart(5)}  ${String(r.sigterms).padStart(9)}  ${String(r.resumes).padStart(7)}  ${String(r.refMs).padStart(6)}  ${(r.result + (r.equal === undefined ? "" : r.equal ? ", outputs equal" : ", outputs DIFFER")).padEnd(22)} ${r.delays.join(" ")}`);
    expect([...rows.values()].reduce((a, r) => a + r.kills, 0)).toBeGreaterThanOrEqual(20);
  });
});

describe("output-directory rules", () => {
  it("a directory holding another model's results is refused (exit 2, one line) unless --force", async () => {
    const other = join(root, "cp.json");
    const target = join(root, "simulate-copy");
    cpSync(join(root, "simulate-ref"), target, { recursive: true }); // holds simulate results
    const refused = await runToEnd(other, target, []);
    expect(refused.code).toBe(2);
    const lines = refused.stderr.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rfdyn: --out: .* holds results of another model/);
    const forced = await runToEnd(other, target, ["--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(diffDirs(join(root, "cp-ref"), target).filter((d) => !d.startsWith("extra "))).toEqual([]);
  });

  it("--resume with nothing to resume just runs", async () => {
    const out = join(root, "simulate-fresh-resume");
    const r = await runToEnd(join(root, "simulate.json"), out, ["--resume"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(diffDirs(join(root, "simulate-ref"), out)).toEqual([]);
  });
});
