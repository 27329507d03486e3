/**
 * Driver for "flow" model files: builds the data set, covariances and CP factors of each (gain,
 * replicate), integrates the single-neuron flow (src/theory/single-neuron.ts) with `solve`, and
 * records IPR(t), q^μ(t), |w|(t) and the final weights.  No file output here (src/cli/commands/flow.ts
 * writes the results).
 *
 * Seeding: replicate r draws its data set from Rng.stream(seed, 2r) and its initial weights from
 * Rng.stream(seed, 2r+1), the same for every gain of a sweep (common random numbers: the NLGP's
 * underlying Gaussian fields are identical across gains, only the non-linearity changes).
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { IntegrationError, solve, type Method, type Solution, type SolverCarry } from "../integrate/index.js";
import { logTimes } from "../integrate/grid.js";
import { Rng } from "../stats/rng.js";
import { makeClassSampler, Task, type ClassSpec } from "../data/task.js";
import { geometrySize } from "../data/kernels.js";
import { nlgpKurtosis, toIg22Gain } from "../data/nlgp.js";
import { ipr } from "../analysis/ipr.js";
import { decodeNpy } from "../io/npy.js";
import { UserError } from "../io/errors.js";
import { effectiveCovariance, type CpSource, type FlowModel } from "../io/schema/flow.js";
import { deriveFlowCoefficients, type FlowCoefficients } from "./coefficients.js";
import {
  buildSingleNeuronFlow,
  cpFactors,
  diagonalCumulantFactors,
  translationInvariantCovariance,
  type CpFactors,
  type FlowClass,
  type SingleNeuronFlow,
} from "./single-neuron.js";

// ---------------------------------------------------------------------------------------------
// Integration of one flow
// ---------------------------------------------------------------------------------------------

export interface IntegrateFlowOptions {
  T: number;
  /** Output times (ascending in [0, T]); default: 0 and `count` log-spaced times in [tMin, T]. */
  times?: number[];
  count?: number;
  tMin?: number;
  method?: Method;
  rtol?: number;
  atol?: number;
  dt?: number;
  maxSteps?: number;
  steadyTol?: number;
  iprThreshold?: number;
  signal?: AbortSignal;
  /** Fraction of this integration done (log-time scale) and a short status. */
  onProgress?: (fraction: number, info: string) => void;
  /**
   * On an IntegrationError (e.g. finite-time blow-up), return the trajectory [w0, last accepted
   * state] with status "failed" instead of throwing.
   */
  catchFailure?: boolean;
}

export interface FlowTrajectory {
  t: number[];
  ipr: number[];
  norm: number[];
  /** q^μ at each output time (one array per class). */
  q: number[][];
  /** Weights at each output time (copies). */
  w: Float64Array[];
  wFinal: Float64Array;
  status: "done" | "steady" | "event" | "interrupted" | "failed";
  reason?: string;
  tEnd: number;
  nRhs: number;
  nSteps: number;
  wallSeconds: number;
}

export { logTimes } from "../integrate/grid.js";

/** Integrate `flow` from w0 to T, recording IPR, |w| and q^μ on the output grid. */
export function integrateFlow(flow: SingleNeuronFlow, w0: Float64Array, o: IntegrateFlowOptions): FlowTrajectory {
  const times = o.times ?? logTimes(o.T, o.count ?? 60, o.tMin);
  const logT = Math.log1p(o.T);
  const thr = o.iprThreshold;
  const t0 = performance.now();
  let interrupted = false;
  const D = w0.length;
  const last = new Float64Array(D);
  let tLast = 0, nAccepted = 0;
  last.set(w0);
  let sol: Solution;
  try {
    sol = solve(flow.rhs, w0, {
      t0: 0,
      t1: o.T,
      times,
      method: o.method ?? "gbs",
      rtol: o.rtol,
      atol: o.atol,
      dt: o.dt,
      maxSteps: o.maxSteps,
      steadyTol: o.steadyTol,
      stopWhen: (_t, y) => {
        if (o.signal?.aborted) {
          interrupted = true;
          return "interrupted";
        }
        if (thr !== undefined && ipr(y) >= thr) return `IPR ≥ ${thr}`;
        return false;
      },
      onStep: (t, y) => {
        if (o.catchFailure) { last.set(y); tLast = t; nAccepted++; }
        o.onProgress?.(Math.log1p(t) / logT, `t=${t.toPrecision(3)} IPR=${ipr(y).toFixed(4)}`);
      },
    });
  } catch (e) {
    if (!(o.catchFailure && e instanceof IntegrationError)) throw e;
    sol = { t: tLast > 0 ? [0, tLast] : [0], y: tLast > 0 ? [Float64Array.from(w0), Float64Array.from(last)] : [Float64Array.from(w0)], status: "done", tEnd: e.tReached, nRhs: NaN, nSteps: nAccepted };
    return finishTrajectory(flow, sol, "failed", e.message, t0);
  }
  return finishTrajectory(flow, sol, interrupted ? "interrupted" : sol.status, interrupted ? undefined : sol.reason, t0);
}

/**
 * `integrateFlow` for long runs inside the CLI: the interval is cut into segments (the output times
 * plus breakpoints every ~T/200, multiples of dt for fixed-step methods) and the event loop is yielded
 * between segments, so Ctrl-C (an AbortSignal fired from a signal handler) is seen within one
 * segment.  Fixed-step methods give exactly the same states as one `integrateFlow` call when the
 * output times are multiples of dt (every step is a full dt step); GBS restarts each segment with the
 * last accepted step size (results agree with one call to within the tolerances).
 */
export async function integrateFlowAsync(flow: SingleNeuronFlow, w0: Float64Array, o: IntegrateFlowOptions & { segments?: number }): Promise<FlowTrajectory> {
  const times = o.times ?? logTimes(o.T, o.count ?? 60, o.tMin);
  const method = o.method ?? "gbs";
  const fixed = method === "rk4" || method === "euler";
  const dt = o.dt ?? 0.01;
  let chunk = o.T / (o.segments ?? 200);
  if (fixed) chunk = dt * Math.max(1, Math.round(chunk / dt));
  const bounds = new Set<number>(times);
  for (let k = 1; k * chunk < o.T; k++) bounds.add(fixed ? k * Math.round(chunk / dt) * dt : k * chunk);
  bounds.add(o.T);
  const B = [...bounds].filter((t) => t >= 0 && t <= o.T).sort((a, b) => a - b);
  const grid: number[] = [];
  for (const t of B) {
    if (grid.length === 0 || t - grid[grid.length - 1] > 1e-12 * Math.max(1, t)) grid.push(t);
    else if (times.includes(t)) grid[grid.length - 1] = t; // keep the output time's exact value
  }
  const isOut = new Set(times);
  const logT = Math.log1p(o.T);
  const thr = o.iprThreshold;
  const wall0 = performance.now();
  const y = Float64Array.from(w0);
  const ts: number[] = [0];
  const ys: Float64Array[] = [Float64Array.from(w0)];
  let nRhs = 0, nSteps = 0, hLast = 0, tPrev = 0;
  // rkc keeps its step size and spectral-radius estimate across segments through `carry`.
  const carry: SolverCarry = {};
  let status: FlowTrajectory["status"] = "done";
  let reason: string | undefined;
  let tEnd = 0;
  for (let j = 0; j + 1 < grid.length; j++) {
    await new Promise<void>((r) => setImmediate(r));
    if (o.signal?.aborted) { status = "interrupted"; break; }
    const a = grid[j], b = grid[j + 1];
    let sol: Solution;
    try {
      sol = solve(flow.rhs, y, {
        t0: a, t1: b, times: [b], method, rtol: o.rtol, atol: o.atol, dt: o.dt, steadyTol: o.steadyTol,
        maxSteps: o.maxSteps === undefined ? undefined : Math.max(1, o.maxSteps - nSteps),
        h0: method === "gbs" && hLast > 0 ? Math.min(hLast, b - a) : undefined,
        carry: method === "rkc" ? carry : undefined,
        stopWhen: (_t, yy) => {
          if (o.signal?.aborted) return "interrupted";
          if (thr !== undefined && ipr(yy) >= thr) return `IPR ≥ ${thr}`;
          return false;
        },
        onStep: (t, yy) => {
          if (t > tPrev) hLast = t - tPrev;
          tPrev = t;
          tEnd = t;
          y.set(yy);
          o.onProgress?.(Math.log1p(t) / logT, `t=${t.toPrecision(3)} IPR=${ipr(yy).toFixed(4)}`);
        },
      });
    } catch (e) {
      if (!(o.catchFailure && e instanceof IntegrationError)) throw e;
      if (tEnd > ts[ts.length - 1]) { ts.push(tEnd); ys.push(Float64Array.from(y)); }
      return finishTrajectory(flow, { t: ts, y: ys, status: "done", tEnd: e.tReached, nRhs, nSteps }, "failed", e.message, wall0);
    }
    nRhs += sol.nRhs;
    nSteps += sol.nSteps;
    const last = sol.y[sol.y.length - 1];
    y.set(last);
    tEnd = sol.tEnd;
    if (sol.status !== "done") {
      ts.push(sol.tEnd);
      ys.push(Float64Array.from(last));
      if (sol.reason === "interrupted") status = "interrupted";
      else { status = sol.status; reason = sol.reason; }
      break;
    }
    if (isOut.has(b)) { ts.push(b); ys.push(Float64Array.from(last)); }
  }
  return finishTrajectory(flow, { t: ts, y: ys, status: "done", tEnd, nRhs, nSteps }, status, reason, wall0);
}

function finishTrajectory(flow: SingleNeuronFlow, sol: Solution, status: FlowTrajectory["status"], reason: string | undefined, t0: number): FlowTrajectory {
  const M = flow.overlaps(sol.y[0]).length;
  const q: number[][] = Array.from({ length: M }, () => []);
  const iprs: number[] = [], norms: number[] = [];
  const buf = new Float64Array(M);
  for (const y of sol.y) {
    iprs.push(ipr(y));
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * y[i];
    norms.push(Math.sqrt(s));
    flow.overlaps(y, buf);
    for (let mu = 0; mu < M; mu++) q[mu].push(buf[mu]);
  }
  return {
    t: sol.t,
    ipr: iprs,
    norm: norms,
    q,
    w: sol.y,
    wFinal: Float64Array.from(sol.y[sol.y.length - 1]),
    status,
    reason,
    tEnd: sol.tEnd,
    nRhs: sol.nRhs,
    nSteps: sol.nSteps,
    wallSeconds: (performance.now() - t0) / 1e3,
  };
}

// ---------------------------------------------------------------------------------------------
// Model-file experiment
// ---------------------------------------------------------------------------------------------

export interface FlowRunRecord {
  /** Gain of the sweep (null without a sweep). */
  gain: number | null;
  replicate: number;
  /** Samples per class actually used (after symmetrisation). */
  n: number[];
  weights: number[];
  /** CP factors used per class (cp variant), e.g. for plots. */
  cp?: (CpFactors | null)[];
  cpLoss?: (number | null)[];
  trajectory: FlowTrajectory;
}

export interface FlowExperimentResult {
  D: number;
  coefficients: FlowCoefficients;
  runs: FlowRunRecord[];
  status: "done" | "interrupted";
}

export interface FlowExperimentHooks {
  signal?: AbortSignal;
  onProgress?: (fraction: number, info: string) => void;
  /** Directory against which relative paths in the model are resolved (default cwd). */
  baseDir?: string;
  log?: (msg: string) => void;
  /**
   * Run only these run indices (gain index × replicates + replicate); the others are skipped.
   * Every run's data, CP factors and initial weights depend only on its own (gain, replicate), so
   * a subset gives exactly the runs of the full experiment (used to spread runs over threads).
   */
  only?: readonly number[];
}

/** Class specs with every gain replaced by g (classes without a gain — gp, field — unchanged). */
export function classesWithGain(classes: FlowModel["task"]["classes"], g: number | null): ClassSpec[] {
  return classes.map((c) => (g === null || !("gain" in c) ? { ...c } : { ...c, gain: g }));
}

/** Draw a data set and split it per class (optionally symmetrised: −x added for every x). */
export function classDatasets(task: Task, P: number, rng: Rng, symmetrise: boolean): { X: Float64Array; n: number }[] {
  const D = task.D, M = task.classes.length;
  const { X, cls } = task.dataset(P, rng);
  const counts = new Array<number>(M).fill(0);
  for (let k = 0; k < P; k++) counts[cls[k]]++;
  const f = symmetrise ? 2 : 1;
  const out = counts.map((c) => ({ X: new Float64Array(f * c * D), n: f * c }));
  const fill = new Array<number>(M).fill(0);
  for (let k = 0; k < P; k++) {
    const mu = cls[k], row = X.subarray(k * D, (k + 1) * D), dst = out[mu].X;
    dst.set(row, fill[mu] * D);
    fill[mu]++;
    if (symmetrise) {
      const o = fill[mu] * D;
      for (let i = 0; i < D; i++) dst[o + i] = -row[i];
      fill[mu]++;
    }
  }
  return out;
}

function resolvePath(p: string, baseDir: string | undefined): string {
  return isAbsolute(p) ? p : resolve(baseDir ?? ".", p);
}

function readArrayFile(path: string, field: string): { data: Float64Array; shape: number[] } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    throw new UserError(`${field}: cannot read "${path}"`);
  }
  if (path.endsWith(".npy")) {
    try {
      const { data, shape } = decodeNpy(new Uint8Array(buf));
      return { data: Float64Array.from(data), shape };
    } catch (e) {
      throw new UserError(`${field}: "${path}" is not a readable .npy file (${(e as Error).message})`);
    }
  }
  let j: unknown;
  try {
    j = JSON.parse(buf.toString("utf8"));
  } catch {
    throw new UserError(`${field}: "${path}" must be a .npy file or a JSON array`);
  }
  if (Array.isArray(j) && j.every((x) => typeof x === "number")) return { data: Float64Array.from(j as number[]), shape: [j.length] };
  throw new UserError(`${field}: "${path}" must contain a JSON array of numbers`);
}

/** Load the initial weights from a file (.npy of shape (D,) or (1, D), or a JSON array). */
export function loadInitialWeights(path: string, D: number, baseDir?: string): Float64Array {
  const { data } = readArrayFile(resolvePath(path, baseDir), "model.init.path");
  if (data.length !== D) throw new UserError(`model.init.path: need ${D} weights (got ${data.length})`);
  for (let i = 0; i < D; i++) if (!Number.isFinite(data[i])) throw new UserError(`model.init.path: weight ${i} is not finite`);
  return data;
}

function factorsFromRows(gamma: unknown, U: unknown, D: number, field: string): CpFactors {
  if (!Array.isArray(gamma) || !gamma.every((x) => typeof x === "number")) throw new UserError(`${field}.gamma: must be an array of numbers`);
  if (!Array.isArray(U)) throw new UserError(`${field}.U: must be an array of r rows`);
  const r = gamma.length;
  let flat: number[];
  if (U.every((row) => Array.isArray(row))) {
    if (U.length !== r) throw new UserError(`${field}.U: need r = ${r} rows (one per gamma), got ${U.length}`);
    for (const row of U as unknown[][]) if (row.length !== D) throw new UserError(`${field}.U: every row must have D = ${D} entries (got ${row.length})`);
    flat = (U as number[][]).flat();
  } else flat = U as number[];
  if (flat.length !== r * D) throw new UserError(`${field}.U: need r·D = ${r * D} entries (got ${flat.length})`);
  try {
    return cpFactors(flat, gamma as number[], D);
  } catch (e) {
    throw new UserError(`${field}: ${(e as Error).message}`);
  }
}

/** Resolve one class's CP source (no `compute`; that is done per data set). */
function loadCpSource(src: Exclude<CpSource, null>, D: number, mu: number, spec: ClassSpec, baseDir?: string): CpFactors {
  const field = `model.cp.factors[${mu}]`;
  if ("inline" in src) return factorsFromRows(src.inline.gamma, src.inline.U, D, `${field}.inline`);
  if ("file" in src) {
    const p = resolvePath(src.file, baseDir);
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;
    } catch {
      throw new UserError(`${field}.file: cannot read JSON factors from "${p}"`);
    }
    return factorsFromRows(j.gamma, j.U, D, `${field}.file`);
  }
  if ("npy" in src) {
    const U = readArrayFile(resolvePath(src.npy.U, baseDir), `${field}.npy.U`);
    const g = readArrayFile(resolvePath(src.npy.gamma, baseDir), `${field}.npy.gamma`);
    if (U.data.length !== g.data.length * D) throw new UserError(`${field}.npy.U: need r×D = ${g.data.length}×${D} entries (got shape [${U.shape.join(", ")}])`);
    return cpFactors(U.data, g.data, D);
  }
  if ("diagonal" in src) {
    if (spec.kind !== "nlgp" || spec.xi !== 0) throw new UserError(`${field}.diagonal: only exact for an nlgp class with xi = 0 (class ${mu} is ${spec.kind} with xi = ${spec.xi})`);
    return diagonalCumulantFactors(D, nlgpKurtosis(toIg22Gain(spec.gain, spec.convention ?? "ig22")) - 3);
  }
  throw new UserError(`${field}: unsupported source`);
}

/** Run every (gain, replicate) of a validated flow model. */
export async function runFlowExperiment(model: FlowModel, hooks: FlowExperimentHooks = {}): Promise<FlowExperimentResult> {
  const D = geometrySize(model.task.geometry);
  const labels = model.task.labels === "pm1" ? [-1, 1] : [0, 1];
  const coefficients = await deriveFlowCoefficients({ v: model.neuron.v, b: model.neuron.b, labels, alpha1: model.neuron.alpha1, alpha3: model.neuron.alpha3 });
  const cov = effectiveCovariance(model);
  const P = model.P ?? (model.alpha !== undefined ? Math.max(1, Math.round(model.alpha * D)) : 0);
  if (P * D > 2e8) throw new UserError(`model.P: data set of P·D = ${P * D} doubles exceeds the 2e8 limit (P = ${P}, D = ${D})`);
  const it = model.integration;
  let times = logTimes(it.T, it.times, it.tMin ?? Math.min(it.T / 1e4, 0.01));
  if (it.method === "rk4" || it.method === "euler") {
    // Fixed-step methods: output times on multiples of dt, so that Euler with dt = η is exactly
    // full-batch gradient descent at every recorded time (no shortened steps).
    const snapped = times.map((t) => (t === 0 ? 0 : Math.min(it.T, Math.max(1, Math.round(t / it.dt)) * it.dt)));
    times = snapped.filter((t, k) => k === 0 || t > snapped[k - 1]);
  }
  const gains: (number | null)[] = model.gains ?? [null];
  const R = model.replicates;
  const only = hooks.only ? new Set(hooks.only) : null;
  const total = only ? only.size : gains.length * R;
  const w0File = model.init.kind === "file" ? loadInitialWeights(model.init.path, D, hooks.baseDir) : null;
  const runs: FlowRunRecord[] = [];
  let status: "done" | "interrupted" = "done";

  // Fixed (file/inline) CP factors are loaded once.
  const fixedCp = new Map<number, CpFactors>();

  outer: for (let gi = 0; gi < gains.length; gi++) {
    const g = gains[gi];
    const specs = classesWithGain(model.task.classes, g);
    const samplers = specs.map((s) => makeClassSampler(model.task.geometry, s));
    const task = new Task(samplers, labels);
    for (let r = 0; r < R; r++) {
      if (hooks.signal?.aborted) {
        status = "interrupted";
        break outer;
      }
      if (only && !only.has(gi * R + r)) continue;
      const runIdx = only ? runs.length : gi * R + r;
      const data = P > 0 ? classDatasets(task, P, Rng.stream(model.seed, 2 * r), model.symmetrise) : null;
      const nTot = data ? data.reduce((a, d) => a + d.n, 0) : 0;
      const weights = data && model.classWeights === "empirical" ? data.map((d) => d.n / nTot) : Array.from(task.probs);
      if (data) data.forEach((d, mu) => { if (d.n === 0) throw new UserError(`model.P: class ${mu} received no samples (P = ${P}); increase P`); });
      const cpUsed: (CpFactors | null)[] = [];
      const cpLoss: (number | null)[] = [];
      if (model.variant === "cp") {
        const srcs = model.cp!.factors;
        for (let mu = 0; mu < srcs.length; mu++) {
          const src = srcs[mu];
          if (src === null) { cpUsed.push(null); cpLoss.push(null); continue; }
          if ("compute" in src) {
            const { ImplicitCumulantLoss } = await import("../cp/loss.js");
            const { decompose } = await import("../cp/decompose.js");
            const d = data![mu];
            const obj = new ImplicitCumulantLoss(d.X, d.n, D, src.compute.rank);
            const dec = decompose(obj, {
              restarts: src.compute.restarts,
              maxIter: src.compute.maxIter,
              gtol: src.compute.gtol,
              method: src.compute.method,
              seed: (model.seed % 2 ** 32) * 7919 + 31 * r + mu + 1,
              signal: hooks.signal,
              onProgress: hooks.onProgress ? (f, info) => hooks.onProgress!((runIdx + 0.5 * f) / total, `g=${g ?? "-"} r=${r} CP class ${mu}: ${info}`) : undefined,
            });
            if (dec.status === "interrupted") {
              status = "interrupted";
              break outer;
            }
            cpUsed.push({ r: dec.r, D, U: dec.U, gamma: dec.gamma });
            cpLoss.push(dec.loss);
          } else {
            const key = mu;
            const cached = "diagonal" in src ? undefined : fixedCp.get(key);
            const f = cached ?? loadCpSource(src, D, mu, specs[mu], hooks.baseDir);
            if (!("diagonal" in src)) fixedCp.set(key, f);
            cpUsed.push(f);
            cpLoss.push(null);
          }
        }
      }
      const classes: FlowClass[] = specs.map((_s, mu) => ({
        label: labels[mu],
        weight: weights[mu],
        X: data?.[mu].X,
        n: data?.[mu].n,
        cov: model.variant === "exact" ? undefined : cov === "sample" ? "sample" : translationInvariantCovariance(model.task.geometry, samplers[mu].covarianceRow()),
        cp: model.variant === "cp" ? cpUsed[mu] : undefined,
      }));
      const flow = buildSingleNeuronFlow({ variant: model.variant, D, v: model.neuron.v, b: model.neuron.b, classes, activation: model.neuron.activation ?? "erf" }, coefficients);
      let w0: Float64Array;
      if (w0File) w0 = Float64Array.from(w0File);
      else {
        const rng = Rng.stream(model.seed, 2 * r + 1);
        w0 = new Float64Array(D);
        const sd = (model.init.kind === "random" ? model.init.scale : 1) / Math.sqrt(D);
        for (let i = 0; i < D; i++) w0[i] = sd * rng.normal();
      }
      const base = model.variant === "cp" ? 0.5 : 0;
      const traj = await integrateFlowAsync(flow, w0, {
        T: it.T,
        times,
        method: it.method,
        rtol: it.rtol,
        atol: it.atol,
        dt: it.dt,
        maxSteps: it.maxSteps,
        steadyTol: it.stop.steadyTol,
        iprThreshold: it.stop.iprThreshold,
        signal: hooks.signal,
        catchFailure: true,
        onProgress: hooks.onProgress
          ? (f, info) => hooks.onProgress!((runIdx + base + (1 - base) * f) / total, `${g === null ? "" : `g=${g} `}${R > 1 ? `rep ${r} ` : ""}${info}`)
          : undefined,
      });
      runs.push({ gain: g, replicate: r, n: data ? data.map((d) => d.n) : [], weights, cp: model.variant === "cp" ? cpUsed : undefined, cpLoss: model.variant === "cp" ? cpLoss : undefined, trajectory: traj });
      hooks.log?.(`${g === null ? "" : `g = ${g}: `}${R > 1 ? `replicate ${r}: ` : ""}IPR = ${traj.ipr[traj.ipr.length - 1].toFixed(4)} at t = ${traj.tEnd.toPrecision(4)} (${traj.status}${traj.reason ? `: ${traj.reason}` : ""}, ${traj.nRhs} RHS)`);
      if (traj.status === "interrupted") {
        status = "interrupted";
        break outer;
      }
    }
  }
  hooks.onProgress?.(status === "done" ? 1 : runs.length / total, status);
  return { D, coefficients, runs, status };
}

/** Median and quartiles (linear interpolation) of a list. */
export function quartiles(xs: readonly number[]): { median: number; q25: number; q75: number } {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return { median: NaN, q25: NaN, q75: NaN };
  const at = (p: number) => {
    const k = p * (s.length - 1), lo = Math.floor(k), hi = Math.ceil(k);
    return s[lo] + (s[hi] - s[lo]) * (k - lo);
  };
  return { median: at(0.5), q25: at(0.25), q75: at(0.75) };
}
