/**
 * Side-by-side benchmark against the numpy/scipy peers (issue 12): `npm run bench:peers`
 * (compiled to dist/bench/peers.js; `npx tsx bench/peers.ts` works too).
 *
 * For each workload the harness exports the SAME data in the peers' formats (raw little-endian
 * float64 arrays + meta.json in a temporary directory; see ../shared/peers/README.md), then runs the
 * peer (`OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python3 …`) and rfdyn's equivalent alternately,
 * `--runs N` (default 3) times each, on one thread each side, checks that the results agree, and prints
 *
 *     workload | rfdyn | peer | ratio (median, min–max) | target
 *
 * where ratio = peer time ÷ rfdyn time (rfdyn throughput ÷ peer throughput) of each interleaved pair.
 * Times are wall-clock on both sides (the peers time themselves with perf_counter, excluding Python
 * start-up and data loading; rfdyn's side likewise excludes data generation and set-up).  The table
 * is also written as JSON to bench-results/peers.json.
 *
 * Workloads (`--only <substring>` selects by key):
 *   sgd        online SGD D = 400, K = 8, erf, NLGP (ξ = 8, 16; g = 3), fixed biases ±1 and v = 1/K,
 *              η = 0.05/D, one fresh sample per step (sampling included) vs sgd_numpy.py
 *   flow       IG22 single-neuron full flow, D = 100, P = 10⁴, t = 0…1000, rtol 1e-6, atol 1e-9: best
 *              method each side (peer: LSODA with the analytic Jacobian, RK45; rfdyn: gbs, rkc and any
 *              stiff method the `solve` entry point accepts — "rodas"/"bdf" are detected at run time);
 *              final w must agree with the peer's LSODA to ~1e-6 relative
 *   rhs        the same flow, one RHS evaluation (flow_numpy.py rhs)
 *   cp-fg      CP loss + gradient D = 100, P = 10⁴, r = 20 at θ = [1…1, U0] (cp_numpy.py fg); losses
 *              must agree to 1e-10 relative
 *   cp-decomp  CP decomposition, variable projection ("reduced"), same start U0, same stopping rules
 *              (L-BFGS memory 10, ftol 1e-12, gtol 1e-7, maxIter 5000; cp_numpy.py reduced); both count
 *              evaluations of the data terms the same way (the scaling evaluation at U0, every
 *              line-search evaluation, the final evaluation).  The peer runs unchanged under a tracing
 *              wrapper (its scale, first gradient, loss after every iteration, final V).  Checks: the
 *              same objective at U0 (1e-10), the same minimum from a well-conditioned start (1e-9),
 *              both stop by convergence; ratio = time to the same loss (see benchCpDecomp)
 *   saad-solla Saad–Solla K = M = 4 to t = 1000 (DOP853 rtol 1e-9, the default); no Python peer: compared with the
 *              fixed figure of a C++ Euler code (dt = 0.01), 1.3 s, measured once on one of these
 *              machines (issue 12) — a reference number, not run here
 *
 * A peer is skipped with a clear line when python3, numpy or scipy are missing (rfdyn's side is then
 * still measured).  Peers directory: $RFDYN_PEERS_DIR, `--peers DIR`, or ../shared/peers next to the
 * repository.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { endianness, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../src/stats/rng.js";
import { twoClassTask } from "../src/data/task.js";
import { deriveFlowCoefficients } from "../src/theory/coefficients.js";
import { buildSingleNeuronFlow, type SingleNeuronFlow } from "../src/theory/single-neuron.js";
import { classDatasets, integrateFlow } from "../src/theory/flow-trajectory.js";
import { solve, type Method } from "../src/integrate/index.js";
import { ImplicitCumulantLoss } from "../src/cp/loss.js";
import { decompose, matchFactors, randomFactors, ReducedCpObjective } from "../src/cp/decompose.js";
import { sampleClass } from "../src/cp/analyse.js";
import { initNetwork } from "../src/sim/network.js";
import { SgdStepper } from "../src/sim/sgd.js";
import { buildTask } from "../src/sim/simulate.js";
import { integrateTeacherStudent } from "../src/theory/saad-solla.js";
import { overlaps, teacherStudentInit } from "../src/sim/teacher-student.js";

// ---------------------------------------------------------------------------------------------
// Command line, peers, helpers
// ---------------------------------------------------------------------------------------------

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (bench/ from source, dist/bench/ when compiled). */
const repoRoot = existsSync(join(here, "..", "package.json")) ? resolve(here, "..") : resolve(here, "..", "..");

interface Args { runs: number; only: string[]; peers: string; out: string; clock: "cpu" | "wall" }

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 3, only: [], clock: "cpu", peers: process.env.RFDYN_PEERS_DIR ?? resolve(repoRoot, "..", "shared", "peers"), out: join(repoRoot, "bench-results", "peers.json") };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    if (k === "--runs") {
      a.runs = Number(v);
      if (!(Number.isInteger(a.runs) && a.runs >= 1 && a.runs <= 100)) throw new Error(`--runs: an integer in [1, 100] (got ${v})`);
      i++;
    } else if (k === "--only") { a.only.push(...String(v).split(",")); i++; }
    else if (k === "--peers") { a.peers = resolve(String(v)); i++; }
    else if (k === "--out") { a.out = resolve(String(v)); i++; }
    else if (k === "--clock") {
      if (v !== "cpu" && v !== "wall") throw new Error(`--clock: cpu or wall (got ${v})`);
      a.clock = v;
      i++;
    }
    else if (k === "--help" || k === "-h") {
      console.log("usage: bench:peers [--runs N] [--only sgd|flow|rhs|cp-fg|cp-decomp|saad-solla[,…]] [--clock cpu|wall] [--peers DIR] [--out FILE]");
      process.exit(0);
    } else throw new Error(`unknown option ${k} (try --help)`);
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const log = (s: string) => process.stderr.write(s + "\n");

/** Why the Python peers cannot run (null: they can). */
function pythonProblem(): string | null {
  if (!existsSync(join(args.peers, "flow_numpy.py"))) return `peer scripts not found in ${args.peers} (set RFDYN_PEERS_DIR or --peers)`;
  const r = spawnSync("python3", ["-c", "import numpy, scipy; print(numpy.__version__, scipy.__version__)"], { encoding: "utf8" });
  if (r.error) return `python3 not found (${r.error.message})`;
  if (r.status !== 0) return `python3 cannot import numpy/scipy (${(r.stderr || "").trim().split("\n").pop()})`;
  log(`peers: python3 with numpy ${r.stdout.trim().replace(" ", ", scipy ")}, one thread (OPENBLAS_NUM_THREADS=1)`);
  return null;
}
const noPython = pythonProblem();
if (noPython) log(`peers: SKIPPING every Python peer: ${noPython}`);

const PEER_ENV = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1", OPENBLAS_VERBOSE: "0" };

/**
 * With `--clock cpu` (default) the peer runs unchanged except that its own timer, time.perf_counter,
 * is replaced by time.process_time (CPU seconds of the Python process, all threads — one with
 * OPENBLAS_NUM_THREADS=1), so both sides are timed in CPU seconds of one thread: robust to the
 * time-slicing of a loaded machine (not to cache or memory-bandwidth contention).
 */
const CPU_CLOCK_WRAPPER = "import runpy, sys, time; time.perf_counter = time.process_time; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')";

/** Run one peer script; returns its stdout (throws with its stderr on failure). */
function peer(script: string, argv: (string | number)[]): string {
  const cmd = [join(args.peers, script), ...argv.map(String)];
  const r = spawnSync("python3", args.clock === "cpu" ? ["-c", CPU_CLOCK_WRAPPER, ...cmd] : cmd, { encoding: "utf8", env: PEER_ENV, maxBuffer: 1 << 24 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${script} ${argv.join(" ")} failed (status ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

function num(out: string, re: RegExp, what: string): number {
  const m = re.exec(out);
  if (!m) throw new Error(`cannot find ${what} in peer output:\n${out}`);
  return Number(m[1]);
}

/** Raw little-endian float64 file. */
function writeF64(path: string, a: Float64Array): void {
  if (endianness() === "LE") { writeFileSync(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength)); return; }
  const dv = new DataView(new ArrayBuffer(a.length * 8));
  for (let i = 0; i < a.length; i++) dv.setFloat64(8 * i, a[i], true);
  writeFileSync(path, new Uint8Array(dv.buffer));
}

function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float64Array(b.byteLength / 8);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(8 * i, true);
  return out;
}

function relDiff(a: Float64Array, b: Float64Array): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] * b[i]; }
  return Math.sqrt(d / n);
}

const median = (x: number[]) => { const s = [...x].sort((p, q) => p - q); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** Seconds on the chosen clock: CPU seconds of this process (default) or wall-clock seconds. */
function clock(): number {
  if (args.clock === "wall") return performance.now() / 1e3;
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}
function wall<T>(f: () => T): { value: T; seconds: number } {
  const t0 = clock();
  const value = f();
  return { value, seconds: clock() - t0 };
}
async function wallAsync<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = clock();
  const value = await f();
  return { value, seconds: clock() - t0 };
}

function fmtNum(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e4) return Math.round(x).toLocaleString("en-US");
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toPrecision(digits) : x.toPrecision(Math.max(2, digits - 1));
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

interface Side {
  /** What ran (method etc.). */
  label: string;
  /** Per-run figures (seconds, ms or steps/s, see unit). */
  runs: number[];
  unit: string;
  /** Extra facts: RHS counts, evaluations, losses. */
  note?: string;
}

interface Row {
  key: string;
  workload: string;
  rfdyn: Side;
  /** null: skipped (reason in `skipped`) or no Python peer (fixed reference in `reference`). */
  peer: Side | null;
  /** A fixed reference figure instead of a peer run (Saad–Solla). */
  reference?: { label: string; value: number; unit: string };
  /** Per-pair ratios peer time / rfdyn time (or rfdyn rate / peer rate). */
  ratios: number[];
  target: string;
  agreement: string;
  agrees: boolean | null;
  skipped?: string;
  details?: string[];
}

const rows: Row[] = [];
const want = (key: string) => args.only.length === 0 || args.only.some((o) => key.includes(o));

function sideText(s: Side): string {
  return `${s.label} ${fmtNum(median(s.runs))} ${s.unit}${s.note ? ` (${s.note})` : ""}`;
}

function ratioText(r: number[]): string {
  if (r.length === 0) return "—";
  const lo = Math.min(...r), hi = Math.max(...r);
  return `${median(r).toFixed(2)} (${lo.toFixed(2)}–${hi.toFixed(2)})`;
}

// ---------------------------------------------------------------------------------------------
// Online SGD
// ---------------------------------------------------------------------------------------------

async function benchSgd(): Promise<void> {
  const D = 400, K = 8, peerSteps = 20_000, ourSteps = 60_000;
  const task = buildTask({ geometry: { dim: 1, L: D }, classes: [{ kind: "nlgp", xi: 8, gain: 3 }, { kind: "nlgp", xi: 16, gain: 3 }], labels: "pm1" });
  const net = initNetwork({ K, activation: "erf", secondLayer: { mode: "fixed" }, bias: { mode: "fixed", value: 1, pattern: "split" }, initScale: 1 }, D, new Rng(1));
  const st = new SgdStepper(net, { lr: 0.05, lrScaling: 1, weightDecay: 0, trainSecondLayer: false, trainBias: false });
  // Same workload as sgd_numpy.py: K erf units on D inputs, v = 1/K and biases ±1 fixed, W step η/D
  // with η = 0.05, labels ±1, one fresh NLGP sample (unit marginal variance) per step.
  const checks: string[] = [];
  if (net.K !== K || net.D !== D || net.activation !== "erf") checks.push("network shape");
  if (!net.v.every((x) => x === 1 / K)) checks.push("v ≠ 1/K");
  if (!net.b.every((x, k) => x === (k < K / 2 ? 1 : -1))) checks.push("biases ≠ ±1 split");
  if (st.cW !== 0.05 / D || st.cB !== 0 || st.cV !== 0) checks.push("step sizes");
  const x = new Float64Array(D), x2 = new Float64Array(D), rng = new Rng(2);
  let m2 = 0;
  const nChk = 4000;
  for (let s = 0; s < nChk; s++) { task.sample(x, rng); for (let i = 0; i < D; i++) m2 += x[i] * x[i]; }
  m2 /= nChk * D;
  if (Math.abs(m2 - 1) > 0.02) checks.push(`input variance ${m2.toFixed(4)} ≠ 1`);
  const lab = task.labels;
  let drawn = 0;
  const draw = (xx: Float64Array) => { drawn++; return lab[task.sample(xx, rng)]; };
  st.runOnline(10_000, draw, x, x2); // warm-up
  const ours: number[] = [], theirs: number[] = [], ratios: number[] = [];
  for (let k = 0; k < args.runs; k++) {
    if (!noPython) theirs.push(num(peer("sgd_numpy.py", [D, peerSteps]), /numpy steps\/s (\d+(?:\.\d+)?)/, "steps/s"));
    const before = drawn;
    const { seconds } = wall(() => st.runOnline(ourSteps, draw, x, x2));
    if (drawn - before !== ourSteps) checks.push(`drew ${drawn - before} samples for ${ourSteps} steps`);
    ours.push(ourSteps / seconds);
    if (!noPython) ratios.push(ours[k] / theirs[k]);
    log(`  sgd run ${k + 1}: rfdyn ${fmtNum(ours[k])} steps/s${noPython ? "" : `, numpy ${fmtNum(theirs[k])} steps/s`}`);
  }
  let finite = true;
  for (const w of net.W) if (!Number.isFinite(w)) finite = false;
  if (!finite) checks.push("weights not finite");
  rows.push({
    key: "sgd", workload: "online SGD D = 400, K = 8, NLGP, sampling included",
    rfdyn: { label: "SgdStepper.runOnline", runs: ours, unit: "steps/s" },
    peer: noPython ? null : { label: "sgd_numpy.py", runs: theirs, unit: "steps/s" },
    ratios, target: "≥ 5",
    agreement: checks.length === 0 ? `same workload (statistical: speed only; input variance ${m2.toFixed(4)})` : `WORKLOAD MISMATCH: ${checks.join("; ")}`,
    agrees: checks.length === 0,
    skipped: noPython ?? undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// Single-neuron flow (full variant, sample covariance)
// ---------------------------------------------------------------------------------------------

interface FlowData {
  flow: SingleNeuronFlow; w0: Float64Array; dir: string;
  /** Per-class samples and the folded coefficients (a, c) = (π/n)(c2, c4), as the peer reads them. */
  cls: { X: Float64Array; n: number; a: number; c: number }[];
}
let flowData: Promise<FlowData> | undefined;

function flowSetup(tmp: string): Promise<FlowData> {
  return (flowData ??= (async () => {
    const L = 100, P = 10_000, T = 1000;
    const task = twoClassTask({ dim: 1, L }, { kind: "nlgp", xi: 0, gain: 3 }, { kind: "nlgp", xi: 3, gain: 3 });
    const cls = classDatasets(task, P, Rng.stream(1, 0), false);
    const coef = await deriveFlowCoefficients({ v: 1, b: -1, labels: [-1, 1] });
    const weight = cls.map((c) => c.n / P);
    const flow = buildSingleNeuronFlow({
      variant: "full", D: L, v: 1, b: -1,
      classes: cls.map((c, mu) => ({ label: mu ? 1 : -1, weight: weight[mu], X: c.X as Float64Array, n: c.n, cov: "sample" as const })),
    }, coef);
    const w0 = new Float64Array(L);
    Rng.stream(1, 1).fillNormal(w0, 1 / Math.sqrt(L));
    const dir = join(tmp, "flow");
    mkdirSync(dir);
    cls.forEach((c, mu) => writeF64(join(dir, `X${mu}.f64`), Float64Array.from(c.X)));
    writeF64(join(dir, "w0.f64"), w0);
    writeFileSync(join(dir, "meta.json"), JSON.stringify({ D: L, P, T, n: cls.map((c) => c.n), weight, c2: Array.from(coef.c2), c4: coef.c4 }));
    const c4 = coef.c4;
    return { flow, w0, dir, cls: cls.map((c, mu) => ({ X: c.X as Float64Array, n: c.n, a: (weight[mu] / c.n) * coef.c2[mu], c: (weight[mu] / c.n) * c4 })) };
  })());
}

/** Algorithms `solve` accepts, probed on dy/dt = −y (stiff methods are being added). */
function availableMethods(candidates: string[]): string[] {
  return candidates.filter((m) => {
    try {
      const s = solve({ rhs: (_t, y, dy) => { dy[0] = -y[0]; }, y0: [1], tspan: [0, 1], jac: (_t, _y, J) => { J[0] = -1; } }, m as Method, { rtol: 1e-6, atol: 1e-9 });
      return Math.abs(s.y[s.y.length - 1][0] - Math.exp(-1)) < 1e-4;
    } catch {
      return false;
    }
  });
}

async function benchFlow(tmp: string): Promise<void> {
  const { flow, w0, dir } = await flowSetup(tmp);
  const T = 1000;
  const ourMethods = ["gbs", "rkc", ...availableMethods(["rodas", "bdf"])];
  log(`  rfdyn methods: ${ourMethods.join(", ")} (stiff methods detected at run time)`);
  const peerMethods = noPython ? [] : ["LSODA", "RK45"];
  const ours = new Map<string, { runs: number[]; nRhs: number; w: Float64Array; status: string }>();
  const theirs = new Map<string, { runs: number[]; nRhs: number; extra: string; w: Float64Array }>();
  for (let k = 0; k < args.runs; k++) {
    for (const m of peerMethods) {
      const out = peer("flow_numpy.py", [dir, m, 1e-6, 1e-9]);
      const s = num(out, /: ([\d.]+) s, \d+ RHS/, "wall time"), n = num(out, /, (\d+) RHS/, "RHS count");
      const jac = /jacobian evaluations (\d+), LU (\d+)/.exec(out);
      const e = theirs.get(m) ?? { runs: [], nRhs: n, extra: jac ? `${jac[1]} Jacobians, ${jac[2]} LU` : "", w: readF64(join(dir, `w_numpy_${m}.f64`)) };
      e.runs.push(s);
      theirs.set(m, e);
      log(`  flow run ${k + 1}: numpy ${m} ${s.toFixed(3)} s, ${n} RHS${jac ? `, ${jac[1]} Jacobians` : ""}`);
    }
    for (const m of ourMethods) {
      const { value: tr, seconds } = await wallAsync(() => integrateFlow(flow, w0, { T, times: [0, T], method: m as Method, rtol: 1e-6, atol: 1e-9 }));
      const e = ours.get(m) ?? { runs: [], nRhs: tr.nRhs, w: tr.wFinal, status: tr.status };
      e.runs.push(seconds);
      ours.set(m, e);
      log(`  flow run ${k + 1}: rfdyn ${m} ${seconds.toFixed(3)} s, ${tr.nRhs} RHS (${tr.status})`);
    }
  }
  const bestOf = <V extends { runs: number[] }>(m: Map<string, V>) => [...m.entries()].sort((a, b) => median(a[1].runs) - median(b[1].runs))[0];
  const [om, o] = bestOf(ours);
  const ref = theirs.get("LSODA");
  const details: string[] = [];
  let agrees: boolean | null = null;
  let agreement = "no peer to compare with";
  if (ref) {
    const diffs = [...ours.entries()].map(([m, v]) => [m, relDiff(v.w, ref.w)] as const);
    const rk = theirs.get("RK45");
    agrees = diffs.every(([, d]) => d <= 1e-5);
    agreement = `final w vs scipy LSODA, relative: ${diffs.map(([m, d]) => `${m} ${d.toExponential(1)}`).join(", ")}${rk ? `; scipy RK45 ${relDiff(rk.w, ref.w).toExponential(1)}` : ""}`;
  }
  for (const [m, v] of ours) details.push(`rfdyn ${m}: ${fmtNum(median(v.runs))} s (min ${fmtNum(Math.min(...v.runs))}), ${v.nRhs} RHS, ${v.status}`);
  for (const [m, v] of theirs) details.push(`scipy ${m}: ${fmtNum(median(v.runs))} s (min ${fmtNum(Math.min(...v.runs))}), ${v.nRhs} RHS${v.extra ? `, ${v.extra}` : ""}`);
  let ratios: number[] = [];
  let peerSide: Side | null = null;
  if (theirs.size > 0) {
    const [pm, p] = bestOf(theirs);
    ratios = p.runs.map((s, k) => s / o.runs[k]);
    peerSide = { label: `scipy ${pm}${pm === "LSODA" ? " + Jacobian" : ""}`, runs: p.runs, unit: "s", note: `${p.nRhs} RHS${p.extra ? ` + ${p.extra}` : ""}` };
  }
  rows.push({
    key: "flow", workload: "single-neuron full flow D = 100, P = 10⁴, t = 0…1000, best method each side",
    rfdyn: { label: om, runs: o.runs, unit: "s", note: `${o.nRhs} RHS` },
    peer: peerSide, ratios, target: "≥ 1", agreement, agrees, details, skipped: noPython ?? undefined,
  });
}

async function benchRhs(tmp: string): Promise<void> {
  const { flow, w0, dir } = await flowSetup(tmp);
  const dw = new Float64Array(w0.length);
  const ours: number[] = [], theirs: number[] = [], ratios: number[] = [];
  for (let k = 0; k < args.runs; k++) {
    if (!noPython) theirs.push(num(peer("flow_numpy.py", [dir, "rhs"]), /numpy rhs ([\d.]+) ms/, "ms/eval"));
    for (let j = 0; j < 30; j++) flow.rhs(0, w0, dw);
    const n = 300;
    const { seconds } = wall(() => { for (let j = 0; j < n; j++) flow.rhs(0, w0, dw); });
    ours.push((seconds / n) * 1e3);
    if (!noPython) ratios.push(theirs[k] / ours[k]);
    log(`  rhs run ${k + 1}: rfdyn ${ours[k].toFixed(3)} ms${noPython ? "" : `, numpy ${theirs[k].toFixed(3)} ms`}`);
  }
  // Agreement: rfdyn's RHS against the peer's formula, dw = Σ_μ (π/n) Σ_ν (c2 λ + c4 λ³) x_ν, summed
  // naively here over the exported data (the final-w check of the flow row covers whole trajectories).
  const { cls } = await flowSetup(tmp);
  const D = w0.length, ref = new Float64Array(D);
  for (const { X, n, a, c } of cls) {
    for (let nu = 0; nu < n; nu++) {
      let lam = 0;
      for (let i = 0; i < D; i++) lam += X[nu * D + i] * w0[i];
      const f = (a + c * lam * lam) * lam;
      for (let i = 0; i < D; i++) ref[i] += f * X[nu * D + i];
    }
  }
  flow.rhs(0, w0, dw);
  const drhs = relDiff(dw, ref);
  rows.push({
    key: "rhs", workload: "same flow, per RHS evaluation",
    rfdyn: { label: "flow.rhs", runs: ours, unit: "ms" },
    peer: noPython ? null : { label: "flow_numpy.py rhs", runs: theirs, unit: "ms" },
    ratios, target: "≥ 1",
    agreement: `RHS at w0 vs the peer's formula summed naively: relative difference ${drhs.toExponential(1)} (tolerance 1e-12)`, agrees: drhs <= 1e-12,
    skipped: noPython ?? undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// CP decomposition of the sample 4th cumulant
// ---------------------------------------------------------------------------------------------

interface CpData { X: Float64Array; U0: Float64Array; dir: string; P: number; D: number; r: number }
let cpData: CpData | undefined;

function cpSetup(tmp: string): CpData {
  if (cpData) return cpData;
  const D = 100, P = 10_000, r = 20;
  const X = sampleClass({ dim: 1, L: D }, { kind: "nlgp", xi: 5, gain: 3 }, P, new Rng(1));
  const U0 = randomFactors(r, D, Rng.stream(1, 0)); // unit rows: decompose's restart 0 at seed 1
  const dir = join(tmp, "cp");
  mkdirSync(dir);
  writeF64(join(dir, "X.f64"), X);
  writeF64(join(dir, "U0.f64"), U0);
  writeFileSync(join(dir, "meta.json"), JSON.stringify({ P, D, r }));
  cpData = { X, U0, dir, P, D, r };
  return cpData;
}

function benchCpFg(tmp: string): void {
  const { X, U0, dir, P, D, r } = cpSetup(tmp);
  const loss = new ImplicitCumulantLoss(X, P, D, r);
  const theta = new Float64Array(r + r * D);
  theta.fill(1, 0, r);
  theta.set(U0, r);
  const g = new Float64Array(theta.length);
  const ours: number[] = [], theirs: number[] = [], ratios: number[] = [];
  let fPeer = NaN, gPeer = NaN;
  for (let k = 0; k < args.runs; k++) {
    if (!noPython) {
      const out = peer("cp_numpy.py", [dir, "fg"]);
      theirs.push(num(out, /loss\+grad ([\d.]+) ms/, "ms/eval"));
      fPeer = num(out, / f=(?:np\.float64\()?(-?[\d.eE+-]+)/, "f");
      gPeer = num(out, /\|g\|=(?:np\.float64\()?([\d.eE+-]+)/, "|g|");
    }
    for (let j = 0; j < 3; j++) loss.fg(theta, g);
    const n = 40;
    const { seconds } = wall(() => { for (let j = 0; j < n; j++) loss.fg(theta, g); });
    ours.push((seconds / n) * 1e3);
    if (!noPython) ratios.push(theirs[k] / ours[k]);
    log(`  cp-fg run ${k + 1}: rfdyn ${ours[k].toFixed(3)} ms${noPython ? "" : `, numpy ${theirs[k].toFixed(3)} ms`}`);
  }
  const f = loss.fg(theta, g);
  let gn = 0;
  for (const v of g) gn += v * v;
  gn = Math.sqrt(gn);
  const df = Math.abs(f - fPeer) / Math.abs(fPeer), dg = Math.abs(gn - gPeer) / gPeer;
  rows.push({
    key: "cp-fg", workload: "CP loss + gradient D = 100, P = 10⁴, r = 20",
    rfdyn: { label: "ImplicitCumulantLoss.fg", runs: ours, unit: "ms", note: `${(loss.flopsPerEval() / (median(ours) * 1e-3) / 1e9).toFixed(2)} GFLOP/s` },
    peer: noPython ? null : { label: "cp_numpy.py fg", runs: theirs, unit: "ms" },
    ratios, target: "≥ 1",
    agreement: noPython ? "no peer to compare with" : `loss relative difference ${df.toExponential(1)}, |gradient| ${dg.toExponential(1)} (tolerance 1e-10)`,
    agrees: noPython ? null : df <= 1e-10 && dg <= 1e-10,
    skipped: noPython ?? undefined,
  });
}

/**
 * Python wrapper that runs cp_numpy.py UNCHANGED (runpy) but records what a like-for-like comparison
 * needs: the peer's objective scale |L(V0)| (its global `scale`), the scaled loss and ‖g‖∞ of the
 * optimiser's first evaluation (at V0), the scaled loss and the time since the peer's own t0 after
 * every L-BFGS-B iteration (minimize's callback), and the final parameters.  With --clock cpu its
 * perf_counter is replaced by process_time as in CPU_CLOCK_WRAPPER.  Writes OUT.json and OUT.x.f64.
 * The per-iteration callback and the wrapper around fg cost microseconds against ~20 ms evaluations.
 */
const CP_TRACE_WRAPPER = `
import json, runpy, sys, time
import numpy as np
import scipy.optimize as so
clk = time.process_time if sys.argv[1] == "cpu" else time.perf_counter
out = sys.argv[2]
sys.argv = sys.argv[3:]
T0 = []
def pc():
    t = clk()
    if not T0: T0.append(t)
    return t
time.perf_counter = pc
rec = {"scale": None, "first": None, "iters": []}
_minimize = so.minimize
def minimize(fun, x0, *a, **k):
    rec["scale"] = float(sys._getframe(1).f_globals.get("scale", float("nan")))
    def fg(x):
        f, g = fun(x)
        if rec["first"] is None: rec["first"] = [float(f), float(np.abs(g).max())]
        return f, g
    def callback(intermediate_result):
        rec["iters"].append([clk() - T0[0], float(intermediate_result.fun)])
    k["callback"] = callback
    res = _minimize(fg, x0, *a, **k)
    np.asarray(res.x, dtype=np.float64).tofile(out + ".x.f64")
    return res
so.minimize = minimize
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    json.dump(rec, open(out + ".json", "w"))
`;

interface CpRun {
  seconds: number; loss: number; evals: number; iterations: number; status: string;
  /** (seconds since the start, unscaled loss) after every iteration. */
  trace: [number, number][];
  /** Final factors, unit rows (r×D). */
  U: Float64Array;
}

/** cp_numpy.py reduced on DIR under CP_TRACE_WRAPPER. */
function peerCpReduced(dir: string): CpRun & { scale: number; first: [number, number]; message: string } {
  const outBase = join(dir, "trace");
  const r = spawnSync("python3", ["-c", CP_TRACE_WRAPPER, args.clock, outBase, join(args.peers, "cp_numpy.py"), dir, "reduced"], { encoding: "utf8", env: PEER_ENV, maxBuffer: 1 << 24 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`cp_numpy.py ${dir} reduced failed (status ${r.status}): ${r.stderr.trim()}`);
  const out = r.stdout;
  const rec = JSON.parse(readFileSync(outBase + ".json", "utf8")) as { scale: number; first: [number, number]; iters: [number, number][] };
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { r: number; D: number };
  const V = readF64(outBase + ".x.f64");
  return {
    seconds: num(out, /L-BFGS-B: ([\d.]+) s/, "wall time"),
    loss: num(out, /loss (-?[\d.e+-]+),/, "loss"),
    iterations: num(out, /(\d+) iterations/, "iterations"),
    evals: num(out, /(\d+) evaluations/, "evaluations"),
    status: out.split("evaluations, ")[1]?.trim() ?? "",
    message: out.split("evaluations, ")[1]?.trim() ?? "",
    scale: rec.scale, first: rec.first,
    trace: rec.iters.map(([t, f]) => [t, f * rec.scale] as [number, number]),
    U: unitRows(V, meta.r, meta.D),
  };
}

/** rfdyn's decompose (reduced, one restart from U0, the peer's stopping rules), traced per iteration. */
function oursCpReduced(X: Float64Array, P: number, D: number, r: number, U0: Float64Array): CpRun {
  // The loss constructor (second moment C, O(PD²)) is outside the timer, as the peer's C is.
  const loss = new ImplicitCumulantLoss(X, P, D, r);
  const trace: [number, number][] = [];
  const t0 = clock();
  const res = decompose(loss, { restarts: 1, initFactors: U0, method: "reduced", m: 10, maxIter: 5000, gtol: 1e-7, ftol: 1e-12 }, {
    onProgress: (e) => { const f = e.metrics?.loss; if (typeof f === "number") trace.push([clock() - t0, f]); },
  });
  const seconds = clock() - t0;
  return { seconds, loss: res.loss, evals: loss.evaluations, iterations: res.restarts[0].iterations, status: res.restarts[0].status, trace, U: Float64Array.from(res.factors) };
}

function unitRows(V: Float64Array, r: number, D: number): Float64Array {
  const U = new Float64Array(r * D);
  for (let a = 0; a < r; a++) {
    let s = 0;
    for (let i = 0; i < D; i++) s += V[a * D + i] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < D; i++) U[a * D + i] = V[a * D + i] * inv;
  }
  return U;
}

/** max_a min_± |u_a ∓ u'_{π(a)}| over the best matching π (factors compared up to order and sign). */
function factorDiff(U: Float64Array, V: Float64Array, r: number, D: number): number {
  return Math.max(...matchFactors(U, r, V, r, D).error);
}

/** First time the traced loss is ≤ target (NaN if never). */
function timeTo(trace: [number, number][], target: number): number {
  for (const [t, f] of trace) if (f <= target) return t;
  return NaN;
}

/**
 * CP decomposition against scipy L-BFGS-B.  Both sides minimise the same scaled reduced objective
 * L(V)/|L(V0)| from the same U0 with the same stopping rules (‖g‖∞ ≤ 1e-7·max(1, ‖V‖∞), relative
 * decrease ≤ 1e-12, 5000 iterations, memory 10) — checked below — but their line searches differ
 * (rfdyn: strong Wolfe c1 = 1e-4, c2 = 0.9, N&W zoom + approximate Wolfe; L-BFGS-B: Moré–Thuente
 * dcsrch, c1 = 1e-3, c2 = 0.9), so on this non-convex loss (r = 20, many local minima) the iterates
 * part after a few steps and each side may stop in a different local minimum.  Hence:
 *  - agreement: (1) the same problem: the peer's |L(V0)| and scaled ‖∇L(V0)‖∞ equal rfdyn's to 1e-10
 *    relative; (2) the same minimum where there is one to find: from a well-conditioned start (rfdyn's
 *    minimum, factors perturbed by 1 %) both must reach the same loss to 1e-9 relative and the same
 *    factors to 1e-4; (3) both stop by their convergence tests (gtol/ftol), not by a budget or failure.
 *    The cold-start final losses are reported, with their relative difference, not required to agree;
 *  - ratios: time to the SAME loss — the first time each side's loss is within 1e-6 (relative) of the
 *    worse of the two final losses (both reach it; L-BFGS decreases monotonically) — the headline
 *    (interleaved pairs); per evaluation (time / evaluations of the data terms, counted the same way on
 *    both sides: the scaling evaluation at U0, every line-search evaluation, the final evaluation) and
 *    total time to each side's own stop, in the details.
 */
function benchCpDecomp(tmp: string): void {
  const { X, U0, dir, P, D, r } = cpSetup(tmp);
  const ours: CpRun[] = [], theirs: ReturnType<typeof peerCpReduced>[] = [];
  for (let k = 0; k < args.runs; k++) {
    if (!noPython) theirs.push(peerCpReduced(dir));
    ours.push(oursCpReduced(X, P, D, r, U0));
    const o = ours[k], p = theirs[k];
    log(`  cp-decomp run ${k + 1}: rfdyn ${o.seconds.toFixed(2)} s, ${o.evals} evals, ${o.iterations} iterations, loss ${o.loss.toExponential(10)} (${o.status})${p ? `; numpy ${p.seconds.toFixed(2)} s, ${p.evals} evals, ${p.iterations} iterations, loss ${p.loss.toExponential(10)}` : ""}`);
  }
  const o = ours[ours.length - 1];
  const converged = (s: string) => s === "gtol" || s === "ftol";
  const details: string[] = [];
  let agreement = "no peer to compare with";
  let agrees: boolean | null = null;
  let ratios: number[] = [];
  let peerSide: Side | null = null;
  if (!noPython) {
    const p = theirs[theirs.length - 1];
    // (1) Same problem at the start.
    const red = new ReducedCpObjective(new ImplicitCumulantLoss(X, P, D, r));
    const g0 = new Float64Array(r * D);
    const L0 = red.fg(U0, g0);
    let g0Inf = 0;
    for (const v of g0) g0Inf = Math.max(g0Inf, Math.abs(v));
    g0Inf /= Math.abs(L0);
    const dScale = Math.abs(p.scale - Math.abs(L0)) / Math.abs(L0), dG0 = Math.abs(p.first[1] - g0Inf) / g0Inf;
    const sameStart = dScale <= 1e-10 && dG0 <= 1e-10 && p.first[0] === Math.sign(L0);
    // (2) Same minimum from a well-conditioned start: rfdyn's minimum, each factor perturbed by 1 %.
    const warmDir = join(tmp, "cp-warm");
    mkdirSync(warmDir, { recursive: true });
    const rng = new Rng(7), Uw = Float64Array.from(o.U), noise = new Float64Array(r * D);
    rng.fillNormal(noise, 0.01 / Math.sqrt(D));
    for (let i = 0; i < Uw.length; i++) Uw[i] += noise[i];
    const Uw1 = unitRows(Uw, r, D);
    writeF64(join(warmDir, "X.f64"), X);
    writeF64(join(warmDir, "U0.f64"), Uw1);
    writeFileSync(join(warmDir, "meta.json"), JSON.stringify({ P, D, r }));
    const pw = peerCpReduced(warmDir), ow = oursCpReduced(X, P, D, r, Uw1);
    const dLw = Math.abs(ow.loss - pw.loss) / Math.abs(pw.loss), dUw = factorDiff(ow.U, pw.U, r, D);
    const sameMin = dLw <= 1e-9 && dUw <= 1e-4;
    // (3) Both stopped by their convergence tests.
    const stopsOk = ours.every((x) => converged(x.status)) && theirs.every((x) => /CONVERGENCE/.test(x.status)) && converged(ow.status) && /CONVERGENCE/.test(pw.status);
    agrees = sameStart && sameMin && stopsOk;
    const dl = (o.loss - p.loss) / Math.abs(p.loss);
    agreement = `same start: |L(V0)| and scaled ‖∇L(V0)‖∞ differ by ${dScale.toExponential(1)}, ${dG0.toExponential(1)} (tolerance 1e-10); `
      + `same minimum from a well-conditioned start (rfdyn's minimum, factors perturbed 1 %): loss ${dLw.toExponential(1)} (tolerance 1e-9), factors ${dUw.toExponential(1)} (tolerance 1e-4) `
      + `[rfdyn ${ow.iterations} it./${ow.evals} evals, scipy ${pw.iterations} it./${pw.evals} evals]; `
      + `both stop by convergence: ${stopsOk ? "yes" : "NO"} (rfdyn ${o.status}, scipy: ${p.message}); `
      + `from U0 the two line searches end in different local minima: rfdyn's final loss is ${(Math.abs(dl) * 100).toFixed(2)} % ${dl < 0 ? "lower" : "higher"}`;
    // Ratios: time to the same loss (headline), per evaluation, total.
    const tt: number[][] = ours.map((x, k) => {
      const y = theirs[k];
      const worse = Math.max(x.loss, y.loss), target = worse + 1e-6 * Math.abs(worse);
      return [timeTo(y.trace, target), timeTo(x.trace, target)];
    });
    ratios = tt.map(([tp, to]) => tp / to);
    const perEval = ours.map((x, k) => (theirs[k].seconds / theirs[k].evals) / (x.seconds / x.evals));
    const total = ours.map((x, k) => theirs[k].seconds / x.seconds);
    const worse = Math.max(o.loss, p.loss);
    let common = 0;
    while (common < Math.min(o.trace.length, p.trace.length) && Math.abs(o.trace[common][1] - p.trace[common][1]) <= 1e-8 * Math.abs(p.trace[common][1])) common++;
    details.push(`why the cold starts differ: same start and objective (checked), but the line searches differ (strong Wolfe c1 = 1e-4 with N&W zoom vs Moré–Thuente dcsrch c1 = 1e-3); the per-iteration losses agree to 1e-8 for ${common} iteration(s) (after iteration 1: rfdyn ${o.trace[0]?.[1].toExponential(6)}, scipy ${p.trace[0]?.[1].toExponential(6)}: both back off from the unit-length first trial to different acceptable steps), then the paths part`);
    details.push(`well-conditioned start (same minimum): rfdyn ${fmtNum(ow.seconds)} s, scipy ${fmtNum(pw.seconds)} s to the same stop (${ow.iterations} vs ${pw.iterations} iterations, ${ow.evals} vs ${pw.evals} evaluations); ratio ${(pw.seconds / ow.seconds).toFixed(2)} (one pair)`);
    details.push(`time to the same loss (within 1e-6 of the worse final loss, ${worse.toExponential(6)}): rfdyn ${fmtNum(median(tt.map((x) => x[1])))} s, scipy ${fmtNum(median(tt.map((x) => x[0])))} s; ratio ${ratioText(ratios)}`);
    details.push(`per evaluation: rfdyn ${(1e3 * median(ours.map((x) => x.seconds / x.evals))).toFixed(2)} ms, scipy ${(1e3 * median(theirs.map((x) => x.seconds / x.evals))).toFixed(2)} ms; ratio ${ratioText(perEval)}`);
    details.push(`to each side's own stop: rfdyn ${fmtNum(median(ours.map((x) => x.seconds)))} s (${o.iterations} it., ${o.evals} evals, loss ${o.loss.toExponential(8)}), scipy ${fmtNum(median(theirs.map((x) => x.seconds)))} s (${p.iterations} it., ${p.evals} evals, loss ${p.loss.toExponential(8)}); ratio ${ratioText(total)}`);
    peerSide = { label: "scipy L-BFGS-B", runs: tt.map((x) => x[0]), unit: "s to same loss", note: `${p.evals} evals, ${p.iterations} it. to its stop` };
  }
  rows.push({
    key: "cp-decomp", workload: "CP decomposition (variable projection, same start, same stopping rules): time to the same loss",
    rfdyn: { label: "decompose reduced", runs: noPython ? ours.map((x) => x.seconds) : ours.map((x, k) => timeTo(x.trace, Math.max(x.loss, theirs[k].loss) + 1e-6 * Math.abs(Math.max(x.loss, theirs[k].loss)))), unit: noPython ? "s" : "s to same loss", note: `${o.evals} evals, ${o.iterations} it., ${o.status}` },
    peer: peerSide, ratios, target: "≥ 1", agreement, agrees, details,
    skipped: noPython ?? undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// Saad–Solla (fixed C++ reference figure)
// ---------------------------------------------------------------------------------------------

const CPP_EULER_SECONDS = 1.3;

async function benchSaadSolla(): Promise<void> {
  const K = 4, M = 4, N = 1000;
  const { B, W } = teacherStudentInit({ N, K, M, initScale: 0.05, seed: 1 });
  const times = Array.from({ length: 101 }, (_, j) => 10 * j);
  const ours: number[] = [];
  let nRhs = 0, eps = NaN;
  for (let k = 0; k < args.runs; k++) {
    const { value: run, seconds } = await wallAsync(() => integrateTeacherStudent(
      { K, M, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: [1, 1, 1, 1], T: overlaps(B, M, B, M, N) },
      { Q: overlaps(W, K, W, K, N), R: overlaps(W, K, B, M, N), v: Float64Array.from([1, 1, 1, 1]) },
      { times, rtol: 1e-9, atol: 1e-12 },
    ));
    ours.push(seconds);
    nRhs = run.nRhs;
    eps = run.eps[run.eps.length - 1];
    log(`  saad-solla run ${k + 1}: rfdyn ${seconds.toFixed(3)} s, ${nRhs} RHS`);
  }
  rows.push({
    key: "saad-solla", workload: "Saad–Solla K = M = 4 to t = 1000",
    rfdyn: { label: "DOP853 rtol 1e-9", runs: ours, unit: "s", note: `${nRhs} RHS` },
    peer: null,
    reference: { label: "C++ Euler code, dt = 0.01 (fixed reference figure from issue 12, not run here)", value: CPP_EULER_SECONDS, unit: "s" },
    ratios: ours.map((s) => CPP_EULER_SECONDS / s), target: "keep ≥ 5",
    agreement: `no Python peer; ε(t = 1000) = ${eps.toExponential(4)}`, agrees: null,
  });
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "rfdyn-peers-"));
  const t0 = performance.now();
  try {
    const jobs: [string, () => void | Promise<void>][] = [
      ["sgd", benchSgd], ["flow", () => benchFlow(tmp)], ["rhs", () => benchRhs(tmp)],
      ["cp-fg", () => benchCpFg(tmp)], ["cp-decomp", () => benchCpDecomp(tmp)], ["saad-solla", benchSaadSolla],
    ];
    for (const [key, job] of jobs) {
      if (!want(key)) continue;
      log(`bench:peers: ${key} …`);
      await job();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  printTable();
  const payload = {
    date: new Date().toISOString(),
    runs: args.runs,
    node: process.version,
    python: noPython ? null : spawnSync("python3", ["-c", "import sys, numpy, scipy; print(sys.version.split()[0], numpy.__version__, scipy.__version__)"], { encoding: "utf8" }).stdout.trim(),
    clock: args.clock,
    loadAverage: loadavg(),
    skipped: noPython,
    seconds: (performance.now() - t0) / 1e3,
    rows: rows.map((r) => ({
      key: r.key, workload: r.workload,
      rfdyn: { ...r.rfdyn, median: median(r.rfdyn.runs) },
      peer: r.peer ? { ...r.peer, median: median(r.peer.runs) } : null,
      reference: r.reference ?? null,
      ratio: r.ratios.length ? { median: median(r.ratios), min: Math.min(...r.ratios), max: Math.max(...r.ratios), runs: r.ratios } : null,
      target: r.target, agreement: r.agreement, agrees: r.agrees, skipped: r.skipped ?? null, details: r.details ?? [],
    })),
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(payload, null, 1) + "\n");
  log(`bench:peers: table written to ${args.out}`);
  if (rows.some((r) => r.agrees === false)) {
    console.log("\nRESULTS DISAGREE for at least one workload (see agreement lines): ratios are not comparable there.");
    process.exitCode = 1;
  }
}

function printTable(): void {
  const head = ["workload", "rfdyn", "peer", "ratio (median, min–max)", "target"];
  const body = rows.map((r) => [
    r.workload,
    sideText(r.rfdyn),
    r.peer ? sideText(r.peer) : r.reference ? `${r.reference.label}: ${r.reference.value} ${r.reference.unit}` : `skipped: ${r.skipped}`,
    ratioText(r.ratios),
    r.target,
  ]);
  console.log(`\n| ${head.join(" | ")} |`);
  console.log(`|${head.map(() => "---").join("|")}|`);
  for (const b of body) console.log(`| ${b.join(" | ")} |`);
  console.log(`\nratio = peer time ÷ rfdyn time (rfdyn steps/s ÷ peer steps/s), per interleaved pair; ${args.runs} run(s) each, one thread each side, ${args.clock === "cpu" ? "CPU seconds (the peers' perf_counter replaced by process_time)" : "wall clock"}; load average ${loadavg().map((x) => x.toFixed(1)).join(", ")}.`);
  console.log("Agreement:");
  for (const r of rows) {
    console.log(`  ${r.key}: ${r.agrees === false ? "FAIL " : r.agrees ? "ok " : ""}${r.agreement}`);
    for (const d of r.details ?? []) console.log(`      ${d}`);
  }
}

await main();
