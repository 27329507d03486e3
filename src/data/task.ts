/**
 * Input distributions per class and the two-class classification task of IG22 / LSG24.
 *
 * A `ClassSampler` draws one input vector of one class.  Provided here:
 *   - "gp":    x ~ N(0, Σ_ξ)                          (Σ_ξ squared-exponential, ξ = 0 white)
 *   - "nlgp":  x = erf(g z/√2)/√γ(g), z ~ N(0, Σ_ξ)    (unit variance; gain convention recorded)
 *   - "gp-clone": x ~ N(0, C) with C the exact covariance of the NLGP of the same ξ and g
 *   - "field": any marginal of src/data/marginals.ts (Kur(k) and NLGP by NORTA, exact Ising chains,
 *              elliptical controls) on a kernel of length ξ; "field-clone": its Gaussian control
 */
import { Rng } from "../stats/rng.js";
import { allocResident, residentSubarray } from "../kernels/index.js";
import type { ClassSampler } from "./sampler.js";
import { erfFast } from "../stats/special.js";
import { CirculantGaussian, type GaussianSamplerState } from "./gp.js";
import { geometrySize, kernelRow, type Geometry } from "./kernels.js";
import { nlgpCovariance, nlgpGamma, toIg22Gain, type GainConvention } from "./nlgp.js";
import { makeField, type MarginalSpec } from "./marginals.js";

export type { ClassSampler } from "./sampler.js";

export type ClassSpec =
  | { kind: "gp"; xi: number }
  | { kind: "nlgp"; xi: number; gain: number; convention?: GainConvention }
  | { kind: "gp-clone"; xi: number; gain: number; convention?: GainConvention }
  /** Any LSG24-style field: kernel length ξ and a marginal (NORTA, Ising chain, elliptical). */
  | { kind: "field"; xi: number; marginal: MarginalSpec }
  /** Gaussian process with exactly the covariance of the field of the same ξ and marginal. */
  | { kind: "field-clone"; xi: number; marginal: MarginalSpec };

export class GpClass implements ClassSampler {
  readonly D: number;
  private gp: CirculantGaussian;
  constructor(readonly geom: Geometry, private readonly row: Float64Array, private readonly label: string) {
    this.D = geometrySize(geom);
    this.gp = new CirculantGaussian(geom, row);
  }
  /** Sampler state seen by the stream of `rng` (the GP's cached second sample), for checkpoints. */
  saveState(rng: Rng): GaussianSamplerState {
    return this.gp.saveState(rng);
  }
  restoreState(state: unknown, rng: Rng): void {
    this.gp.restoreState(state as GaussianSamplerState, rng);
  }
  sample(out: Float64Array, rng: Rng): Float64Array {
    return this.gp.sample(out, rng);
  }
  covarianceRow(): Float64Array {
    return this.row.slice();
  }
  describe(): string {
    return this.label;
  }
  /** Eigenvalues of the covariance (for ODEs working per Fourier mode). */
  spectrum(): Float64Array {
    return this.gp.spectrum.slice();
  }
}

export class NlgpClass implements ClassSampler {
  readonly D: number;
  readonly g: number;
  private gp: CirculantGaussian;
  private a: number;
  private s: number;
  constructor(readonly geom: Geometry, readonly xi: number, gain: number, readonly convention: GainConvention = "ig22") {
    this.D = geometrySize(geom);
    this.g = toIg22Gain(gain, convention);
    if (!(this.g > 0)) throw new RangeError(`NLGP gain must be > 0 (got ${gain})`);
    this.gp = new CirculantGaussian(geom, kernelRow(geom, xi));
    this.a = this.g / Math.SQRT2;
    this.s = 1 / Math.sqrt(nlgpGamma(this.g));
  }
  /** Sampler state seen by the stream of `rng` (the GP's cached second sample), for checkpoints. */
  saveState(rng: Rng): GaussianSamplerState {
    return this.gp.saveState(rng);
  }
  restoreState(state: unknown, rng: Rng): void {
    this.gp.restoreState(state as GaussianSamplerState, rng);
  }
  sample(out: Float64Array, rng: Rng): Float64Array {
    this.gp.sample(out, rng);
    // erfFast: absolute error ≤ 1e-15 (proof in special.ts), i.e. below 1e-15·√γ(g) ≈ 1e-15 in x.
    const a = this.a, s = this.s, D = this.D;
    for (let i = 0; i < D; i++) out[i] = s * erfFast(a * out[i]);
    return out;
  }
  covarianceRow(): Float64Array {
    const g = this.g;
    return kernelRow(this.geom, this.xi, (v) => nlgpCovariance(v, g));
  }
  describe(): string {
    return `nlgp(xi=${this.xi}, g=${this.g} [IG22 convention])`;
  }
}

/** Build the sampler for one class. */
export function makeClassSampler(geom: Geometry, spec: ClassSpec): ClassSampler {
  switch (spec.kind) {
    case "gp":
      return new GpClass(geom, kernelRow(geom, spec.xi), `gp(xi=${spec.xi})`);
    case "nlgp":
      return new NlgpClass(geom, spec.xi, spec.gain, spec.convention ?? "ig22");
    case "gp-clone": {
      const g = toIg22Gain(spec.gain, spec.convention ?? "ig22");
      return new GpClass(geom, kernelRow(geom, spec.xi, (v) => nlgpCovariance(v, g)), `gp-clone(xi=${spec.xi}, g=${g} [IG22])`);
    }
    case "field":
      return makeField(geom, { xi: spec.xi, marginal: spec.marginal }).sampler;
    case "field-clone": {
      const f = makeField(geom, { xi: spec.xi, marginal: spec.marginal }).sampler;
      return new GpClass(geom, f.covarianceRow(), `gp-clone(${f.describe()})`);
    }
  }
}

/**
 * A balanced M-class task: class μ (probability p_μ, default uniform) with label y_μ.
 * IG22 uses labels ±1 (class 0 → −1, class 1 → +1); LSG24 uses {0, 1}.
 */
export class Task {
  readonly D: number;
  readonly probs: Float64Array;
  private cum: Float64Array;
  constructor(readonly classes: ClassSampler[], readonly labels: readonly number[], probs?: readonly number[]) {
    if (classes.length === 0) throw new RangeError("task needs at least one class");
    if (labels.length !== classes.length) throw new RangeError("one label per class is required");
    this.D = classes[0].D;
    for (const c of classes) if (c.D !== this.D) throw new RangeError("all classes must have the same input dimension");
    const p = probs ?? classes.map(() => 1 / classes.length);
    const tot = p.reduce((a, b) => a + b, 0);
    this.probs = Float64Array.from(p, (v) => v / tot);
    this.cum = new Float64Array(p.length);
    let c = 0;
    this.probs.forEach((v, i) => { c += v; this.cum[i] = c; });
  }

  /** Draw a class index. */
  drawClass(rng: Rng): number {
    const u = rng.uniform();
    for (let i = 0; i < this.cum.length - 1; i++) if (u < this.cum[i]) return i;
    return this.cum.length - 1;
  }

  /** Draw one labelled example: fills x, returns the class index (label = labels[class]). */
  sample(x: Float64Array, rng: Rng): number {
    const mu = this.drawClass(rng);
    this.classes[mu].sample(x, rng);
    return mu;
  }

  /**
   * State of the class samplers as seen by the stream of `rng` (one entry per class, null for a
   * stateless sampler), for checkpoints of runs that draw examples from this task.
   */
  saveState(rng: Rng): unknown[] {
    return this.classes.map((c) => (c.saveState ? c.saveState(rng) : null));
  }

  /** Restore a state from `saveState` (the samplers' caches again belong to `rng`). */
  restoreState(states: readonly unknown[], rng: Rng): void {
    if (!Array.isArray(states) || states.length !== this.classes.length) throw new RangeError("task state: one entry per class is required");
    this.classes.forEach((c, i) => {
      if (c.restoreState) c.restoreState(states[i], rng);
    });
  }

  /** A finite dataset of P examples: X (P×D row-major), class indices and labels. */
  dataset(P: number, rng: Rng): { X: Float64Array; cls: Int32Array; y: Float64Array } {
    const D = this.D;
    const X = new Float64Array(P * D), cls = new Int32Array(P), y = new Float64Array(P);
    for (let n = 0; n < P; n++) {
      const mu = this.sample(X.subarray(n * D, (n + 1) * D), rng);
      cls[n] = mu;
      y[n] = this.labels[mu];
    }
    return { X, cls, y };
  }

  /**
   * A finite dataset of P examples held ONCE, split per class: class μ's n_μ rows are a contiguous
   * block (rows in drawing order) of one P·D array — the same numbers `dataset(P, rng)` gives, split
   * by class, without a second copy.  Each example is drawn straight into the shared array, which is
   * then reordered by class in place (`permuteRowsInPlace`).  With `symmetrise`, every row is followed
   * by its negation (2P rows, expanded in place from the end).  `precision: "float32"` stores the
   * rows rounded to float32 (half the memory; the sampler itself works in float64).
   */
  datasetByClass(P: number, rng: Rng, opts: { symmetrise?: boolean; precision?: SamplePrecision } = {}): { X: SampleArray; n: number }[] {
    if (!(Number.isInteger(P) && P >= 0)) throw new RangeError(`datasetByClass: P must be an integer ≥ 0 (got ${P})`);
    const D = this.D, M = this.classes.length, f = opts.symmetrise ? 2 : 1;
    const X = allocSamples(f * P * D, opts.precision ?? "float64");
    const cls = new Int32Array(P);
    const counts = new Array<number>(M).fill(0);
    const row = new Float64Array(D);
    for (let k = 0; k < P; k++) {
      const mu = this.drawClass(rng);
      sampleRowsInto(this.classes[mu], 1, rng, X, k, row);
      cls[k] = mu;
      counts[mu]++;
    }
    // Row k goes to (start of its class) + (its rank within the class): a stable sort by class.
    const start = new Array<number>(M).fill(0);
    for (let mu = 1; mu < M; mu++) start[mu] = start[mu - 1] + counts[mu - 1];
    const next = start.slice();
    const dest = new Int32Array(P);
    for (let k = 0; k < P; k++) dest[k] = next[cls[k]]++;
    permuteRowsInPlace(X, D, dest);
    if (f === 2) {
      // Row j → rows 2j (x) and 2j + 1 (−x), from the last row down (targets ≥ j are already read).
      for (let j = P - 1; j >= 0; j--) {
        const src = X.subarray(j * D, (j + 1) * D);
        const o = (2 * j + 1) * D;
        for (let i = 0; i < D; i++) X[o + i] = -src[i];
        if (j > 0) X.copyWithin(2 * j * D, j * D, (j + 1) * D);
      }
    }
    const lo = (mu: number) => f * start[mu] * D, hi = (mu: number) => f * (start[mu] + counts[mu]) * D;
    // A resident X is freed when collected: its class blocks must keep it alive (residentSubarray).
    return counts.map((c, mu) => ({ X: X instanceof Float64Array ? residentSubarray(X, lo(mu), hi(mu)) : X.subarray(lo(mu), hi(mu)), n: f * c }));
  }
}

/** Storage of drawn samples: float64, or float32 (rounded to nearest; halves the memory). */
export type SampleArray = Float64Array | Float32Array;
export type SamplePrecision = "float64" | "float32";

/**
 * A zero-filled sample array of `length` entries in `precision`.  Float64 samples are allocated with
 * `allocResident`: on the SIMD kernel backend they live in wasm memory and the row passes read them in
 * place (no pinned copy, so the data are held once); float32 samples are a plain Float32Array (the
 * SIMD row pass is float64 only; the TS loop reads them).
 */
export function allocSamples(length: number, precision: SamplePrecision = "float64"): SampleArray {
  if (precision !== "float64" && precision !== "float32") throw new RangeError(`precision must be "float64" or "float32" (got ${String(precision)})`);
  return precision === "float32" ? new Float32Array(length) : allocResident(length);
}

/**
 * Draw `n` inputs of one class into rows row0 … row0 + n − 1 of `out` (row-major, D entries per
 * row), in the order `sampler.sample` would produce them one by one from `rng` (the same numbers).
 * A Float64Array is filled in place; a Float32Array receives each row rounded to float32, through
 * one D-length scratch row (`scratch`, allocated if absent).
 */
export function sampleRowsInto(sampler: ClassSampler, n: number, rng: Rng, out: SampleArray, row0 = 0, scratch?: Float64Array): SampleArray {
  const D = sampler.D;
  if (!(Number.isInteger(n) && n >= 0) || !(Number.isInteger(row0) && row0 >= 0)) throw new RangeError(`sampleRowsInto: n and row0 must be integers ≥ 0 (got ${n}, ${row0})`);
  if ((row0 + n) * D > out.length) throw new RangeError(`sampleRowsInto: rows ${row0}…${row0 + n - 1} of D = ${D} do not fit in ${out.length} entries`);
  if (out instanceof Float64Array) {
    for (let k = row0; k < row0 + n; k++) sampler.sample(out.subarray(k * D, (k + 1) * D), rng);
    return out;
  }
  const row = scratch && scratch.length >= D ? scratch.subarray(0, D) : new Float64Array(D);
  for (let k = row0; k < row0 + n; k++) {
    sampler.sample(row, rng);
    out.set(row, k * D);
  }
  return out;
}

/**
 * Reorder the rows of X (row-major, D entries per row, `dest.length` rows) in place so that row k
 * moves to row dest[k] (a permutation), following its cycles with two scratch rows: O(rows·D) time,
 * O(D) extra memory.
 */
export function permuteRowsInPlace(X: SampleArray, D: number, dest: Int32Array): void {
  const P = dest.length;
  const done = new Uint8Array(P);
  const carry = X instanceof Float32Array ? new Float32Array(D) : new Float64Array(D);
  const swap = X instanceof Float32Array ? new Float32Array(D) : new Float64Array(D);
  for (let s = 0; s < P; s++) {
    if (done[s] || dest[s] === s) { done[s] = 1; continue; }
    carry.set(X.subarray(s * D, (s + 1) * D));
    let j = s;
    for (let guard = 0; guard <= P; guard++) {
      const d = dest[j];
      if (d < 0 || d >= P || (done[d] && d !== s)) throw new RangeError("permuteRowsInPlace: dest is not a permutation");
      const row = X.subarray(d * D, (d + 1) * D);
      swap.set(row);
      row.set(carry);
      carry.set(swap);
      done[j] = 1;
      j = d;
      if (j === s) break;
    }
  }
}

/** Label values [label of class 0, label of class 1] of the two papers' conventions (IG22 ±1, LSG24 0/1). */
export function labelValues(labels: "pm1" | "01"): [number, number] {
  return labels === "pm1" ? [-1, 1] : [0, 1];
}

/** Task helpers for the two papers' label conventions. */
export function twoClassTask(geom: Geometry, minus: ClassSpec, plus: ClassSpec, labels: "pm1" | "01" = "pm1"): Task {
  return new Task([makeClassSampler(geom, minus), makeClassSampler(geom, plus)], labelValues(labels));
}
