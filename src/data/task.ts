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
}

/** Label values [label of class 0, label of class 1] of the two papers' conventions (IG22 ±1, LSG24 0/1). */
export function labelValues(labels: "pm1" | "01"): [number, number] {
  return labels === "pm1" ? [-1, 1] : [0, 1];
}

/** Task helpers for the two papers' label conventions. */
export function twoClassTask(geom: Geometry, minus: ClassSpec, plus: ClassSpec, labels: "pm1" | "01" = "pm1"): Task {
  return new Task([makeClassSampler(geom, minus), makeClassSampler(geom, plus)], labelValues(labels));
}
