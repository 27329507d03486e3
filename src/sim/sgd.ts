/**
 * Stochastic gradient descent for the two-layer network of `network.ts`.
 *
 * Learning-rate scaling (explicit): every parameter group θ ∈ {W, b, v} is updated as
 *
 *     θ ← θ − (η_θ / D^s) ∂L/∂θ,      L = minibatch mean of ½(y − φ)² + (ℓ2/2)‖W‖²_F,
 *
 * with the exponent s = `lrScaling` shared by all groups and η_W = lr, η_b = lrBias (default lr),
 * η_v = lrSecondLayer (default lr).  Time is measured as t = steps / D^s, so that in the small-step
 * limit dθ/dt = −η_θ ∂L/∂θ for every s:
 *   - s = 1 (default, online learning): t = steps/D, the natural time of Saad & Solla;
 *   - s = 0 with a full batch (batchSize = P): one step is exactly one explicit-Euler step of the
 *     gradient flow dθ/dτ = −∂L/∂θ with dτ = η (t counts steps, τ = η t).
 *
 * The per-sample path (`stepSample`) fuses forward and backward passes and allocates nothing; the
 * minibatch path accumulates the mean gradient first and then updates (all groups use the gradient
 * at the same parameters).
 *
 * Summation order of every pre-activation h_k = b_k + Σ_i W_ki x_i (fixed, so runs are
 * bit-reproducible and the fused online loop equals `stepSample` bit for bit): two partial sums per
 * row, over even and over odd i (an odd D's last entry goes to the even one), h = b + (even + odd).
 * Rows are swept four at a time (`dot4`/`fused4`, then one at a time for K mod 4), so each x_i is
 * loaded once per four rows and eight independent accumulators hide the add latency: ~1.6× the
 * throughput of one row at a time in V8.
 */
import type { Network } from "./network.js";
import { ACT_CODE } from "./network.js";
import { erf } from "../stats/special.js";

export interface SgdConfig {
  lr: number;
  /** Exponent s of the learning-rate scaling η/D^s. */
  lrScaling: number;
  lrSecondLayer?: number;
  lrBias?: number;
  /** ℓ2 weight decay on the first layer (gradient ℓ2·W added to ∂L/∂W). */
  weightDecay: number;
  trainSecondLayer: boolean;
  trainBias: boolean;
}

const SQRT_2_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT2 = 1 / Math.SQRT2;
const A1 = Math.sqrt(2 / Math.PI), A3 = 1 / Math.sqrt(2 * Math.PI);

export class SgdStepper {
  /** Effective step sizes η/D^s of W, b and v (b, v are 0 when not trained). */
  readonly cW: number;
  readonly cB: number;
  readonly cV: number;
  private readonly decay: number;
  private readonly code: number;
  private readonly sg: Float64Array;
  private readonly dsg: Float64Array;
  private readonly gW: Float64Array;
  private readonly gB: Float64Array;
  private readonly gV: Float64Array;
  /** Pre-activations without bias, and the per-row update coefficients of the fused loop. */
  private readonly hh: Float64Array;
  private readonly ak: Float64Array;

  constructor(readonly net: Network, readonly cfg: SgdConfig) {
    const scale = Math.pow(net.D, cfg.lrScaling);
    this.cW = cfg.lr / scale;
    this.cB = cfg.trainBias ? (cfg.lrBias ?? cfg.lr) / scale : 0;
    this.cV = cfg.trainSecondLayer ? (cfg.lrSecondLayer ?? cfg.lr) / scale : 0;
    this.decay = 1 - this.cW * cfg.weightDecay;
    this.code = ACT_CODE[net.activation];
    this.sg = new Float64Array(net.K);
    this.dsg = new Float64Array(net.K);
    this.gW = new Float64Array(net.K * net.D);
    this.gB = new Float64Array(net.K);
    this.gV = new Float64Array(net.K);
    this.hh = new Float64Array(net.K);
    this.ak = new Float64Array(net.K);
  }

  /**
   * Pre-activations → σ, σ' into this.sg / this.dsg; returns φ.  The dot product and the activation
   * switch are written out here and again in the fused `runOnline` loop on purpose: factoring them
   * into shared helpers (tried) costs about 25 % of the online SGD throughput in V8.
   */
  private forwardInto(X: Float64Array, off: number): number {
    const { K, D, W, b, v } = this.net;
    const hh = this.hh;
    let k = 0;
    for (; k + 3 < K; k += 4) dot4(W, k * D, D, X, off, hh, k);
    for (; k < K; k++) hh[k] = dot1(W, k * D, D, X, off);
    return this.activate(b, v);
  }

  /**
   * σ(h_k), σ'(h_k) into this.sg / this.dsg for h_k = b_k + this.hh[k]; returns φ = Σ_k v_k σ(h_k).
   * The activation switch is written out here once for all rows (hoisting it out of the dot products).
   */
  private activate(b: Float64Array, v: Float64Array): number {
    const K = this.net.K, code = this.code, sg = this.sg, dsg = this.dsg, hh = this.hh;
    let phi = 0;
    for (let k = 0; k < K; k++) {
      const h = b[k] + hh[k];
      let f: number, df: number;
      if (code === 0) {
        f = erf(h * INV_SQRT2);
        df = SQRT_2_PI * Math.exp(-0.5 * h * h);
      } else if (code === 1) {
        f = h > 0 ? h : 0;
        df = h > 0 ? 1 : 0;
      } else if (code === 2) {
        f = Math.tanh(h);
        df = 1 - f * f;
      } else {
        f = A1 * h - (A3 / 3) * h * h * h;
        df = A1 - A3 * h * h;
      }
      sg[k] = f;
      dsg[k] = df;
      phi += v[k] * f;
    }
    return phi;
  }

  /** One SGD step on the single example (X[off … off+D−1], y). Returns φ − y before the step. */
  stepSample(X: Float64Array, off: number, y: number): number {
    const { K, D, W, b, v } = this.net;
    const e = this.forwardInto(X, off) - y;
    const cW = this.cW, cB = this.cB, cV = this.cV, decay = this.decay, sg = this.sg, dsg = this.dsg;
    for (let k = 0; k < K; k++) {
      const g = e * v[k] * dsg[k];
      if (cV !== 0) v[k] -= cV * e * sg[k];
      if (cB !== 0) b[k] -= cB * g;
      const a = cW * g;
      const o = k * D;
      if (decay === 1) {
        let i = 0;
        for (; i + 3 < D; i += 4) {
          W[o + i] -= a * X[off + i];
          W[o + i + 1] -= a * X[off + i + 1];
          W[o + i + 2] -= a * X[off + i + 2];
          W[o + i + 3] -= a * X[off + i + 3];
        }
        for (; i < D; i++) W[o + i] -= a * X[off + i];
      } else {
        for (let i = 0; i < D; i++) W[o + i] = decay * W[o + i] - a * X[off + i];
      }
    }
    return e;
  }

  /**
   * `n` online steps on fresh examples: `draw(x)` fills x and returns its label.  Each update of W is
   * fused with the forward pass of the next example (one sweep over W per step); the result is
   * bit-identical to drawing each example and calling `stepSample` (same draws, same arithmetic).
   * `xa`, `xb` are two scratch vectors of length D.
   */
  runOnline(n: number, draw: (x: Float64Array) => number, xa: Float64Array, xb: Float64Array): void {
    if (n <= 0) return;
    const { K, D, W, b, v } = this.net;
    const cW = this.cW, cB = this.cB, cV = this.cV, decay = this.decay, sg = this.sg, dsg = this.dsg, ak = this.ak, hh = this.hh;
    let xc = xa, xn = xb;
    let yc = draw(xc);
    let phi = this.forwardInto(xc, 0);
    for (let step = 0; step < n - 1; step++) {
      const e = phi - yc;
      const yn = draw(xn);
      for (let k = 0; k < K; k++) {
        const g = e * v[k] * dsg[k];
        if (cV !== 0) v[k] -= cV * e * sg[k];
        if (cB !== 0) b[k] -= cB * g;
        ak[k] = cW * g;
      }
      // W ← decay·W − a xcᵀ fused with h = W xn (one sweep over W).
      let k = 0;
      for (; k + 3 < K; k += 4) fused4(W, k * D, D, ak, k, decay, xc, xn, hh);
      for (; k < K; k++) hh[k] = fused1(W, k * D, D, ak[k], decay, xc, xn);
      phi = this.activate(b, v);
      const t = xc; xc = xn; xn = t;
      yc = yn;
    }
    // Last step: plain update (no next example is drawn).
    const e = phi - yc;
    for (let k = 0; k < K; k++) {
      const g = e * v[k] * dsg[k];
      if (cV !== 0) v[k] -= cV * e * sg[k];
      if (cB !== 0) b[k] -= cB * g;
      const a = cW * g;
      const o = k * D;
      if (decay === 1) for (let i = 0; i < D; i++) W[o + i] -= a * xc[i];
      else for (let i = 0; i < D; i++) W[o + i] = decay * W[o + i] - a * xc[i];
    }
  }

  /**
   * One SGD step on the minibatch of rows idx[start … start+count−1] of X (rows of length D) with
   * labels y[row]: mean gradient over the batch, then one update of all trained groups.
   * Returns the mean of ½(φ − y)² over the batch before the step.
   */
  stepBatch(X: Float64Array, y: ArrayLike<number>, idx: ArrayLike<number>, start: number, count: number): number {
    const { K, D, W, b, v } = this.net;
    const gW = this.gW, gB = this.gB, gV = this.gV, sg = this.sg, dsg = this.dsg;
    gW.fill(0); gB.fill(0); gV.fill(0);
    let loss = 0;
    for (let m = 0; m < count; m++) {
      const r = idx[start + m];
      const off = r * D;
      const e = this.forwardInto(X, off) - y[r];
      loss += 0.5 * e * e;
      for (let k = 0; k < K; k++) {
        const g = e * v[k] * dsg[k];
        gB[k] += g;
        gV[k] += e * sg[k];
        const o = k * D;
        for (let i = 0; i < D; i++) gW[o + i] += g * X[off + i];
      }
    }
    const inv = 1 / count;
    const cW = this.cW * inv, cB = this.cB * inv, cV = this.cV * inv, decay = this.decay;
    if (cV !== 0) for (let k = 0; k < K; k++) v[k] -= cV * gV[k];
    if (cB !== 0) for (let k = 0; k < K; k++) b[k] -= cB * gB[k];
    if (decay === 1) for (let i = 0; i < K * D; i++) W[i] -= cW * gW[i];
    else for (let i = 0; i < K * D; i++) W[i] = decay * W[i] - cW * gW[i];
    return loss * inv;
  }
}

// ---------------------------------------------------------------------------------------------
// Row sweeps of the SGD step.  Every row's sum is (Σ_{i even} W_ki x_i) + (Σ_{i odd} W_ki x_i), the
// partial sums accumulated in increasing i (see the module comment); the results are bit-identical
// between the fused and the plain forms.

/** h[k + r] = Σ_i W[o + rD + i] x[off + i] for r = 0 … 3. */
function dot4(W: Float64Array, o: number, D: number, x: Float64Array, off: number, h: Float64Array, k: number): void {
  const o1 = o + D, o2 = o1 + D, o3 = o2 + D;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  let i = 0;
  for (; i + 1 < D; i += 2) {
    const c = x[off + i], d = x[off + i + 1];
    s0 += W[o + i] * c; s1 += W[o1 + i] * c; s2 += W[o2 + i] * c; s3 += W[o3 + i] * c;
    t0 += W[o + i + 1] * d; t1 += W[o1 + i + 1] * d; t2 += W[o2 + i + 1] * d; t3 += W[o3 + i + 1] * d;
  }
  if (i < D) {
    const c = x[off + i];
    s0 += W[o + i] * c; s1 += W[o1 + i] * c; s2 += W[o2 + i] * c; s3 += W[o3 + i] * c;
  }
  h[k] = s0 + t0; h[k + 1] = s1 + t1; h[k + 2] = s2 + t2; h[k + 3] = s3 + t3;
}

/** Σ_i W[o + i] x[off + i] in the same order as one row of `dot4`. */
function dot1(W: Float64Array, o: number, D: number, x: Float64Array, off: number): number {
  let s = 0, t = 0;
  let i = 0;
  for (; i + 1 < D; i += 2) { s += W[o + i] * x[off + i]; t += W[o + i + 1] * x[off + i + 1]; }
  if (i < D) s += W[o + i] * x[off + i];
  return s + t;
}

/**
 * Rows k … k+3 (starting at o = kD): W ← decay·W − a_r xcᵀ and h[k + r] = (updated row)·xn, in one
 * sweep (decay = 1 skips the multiplication; 1·w = w, so both branches give the same bits).
 */
function fused4(W: Float64Array, o: number, D: number, a: Float64Array, k: number, decay: number, xc: Float64Array, xn: Float64Array, h: Float64Array): void {
  const o1 = o + D, o2 = o1 + D, o3 = o2 + D;
  const a0 = a[k], a1 = a[k + 1], a2 = a[k + 2], a3 = a[k + 3];
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  let i = 0;
  if (decay === 1) {
    for (; i + 1 < D; i += 2) {
      const c = xc[i], n = xn[i], c1 = xc[i + 1], n1 = xn[i + 1];
      const w0 = W[o + i] - a0 * c, w1 = W[o1 + i] - a1 * c, w2 = W[o2 + i] - a2 * c, w3 = W[o3 + i] - a3 * c;
      W[o + i] = w0; W[o1 + i] = w1; W[o2 + i] = w2; W[o3 + i] = w3;
      s0 += w0 * n; s1 += w1 * n; s2 += w2 * n; s3 += w3 * n;
      const u0 = W[o + i + 1] - a0 * c1, u1 = W[o1 + i + 1] - a1 * c1, u2 = W[o2 + i + 1] - a2 * c1, u3 = W[o3 + i + 1] - a3 * c1;
      W[o + i + 1] = u0; W[o1 + i + 1] = u1; W[o2 + i + 1] = u2; W[o3 + i + 1] = u3;
      t0 += u0 * n1; t1 += u1 * n1; t2 += u2 * n1; t3 += u3 * n1;
    }
  } else {
    for (; i + 1 < D; i += 2) {
      const c = xc[i], n = xn[i], c1 = xc[i + 1], n1 = xn[i + 1];
      const w0 = decay * W[o + i] - a0 * c, w1 = decay * W[o1 + i] - a1 * c, w2 = decay * W[o2 + i] - a2 * c, w3 = decay * W[o3 + i] - a3 * c;
      W[o + i] = w0; W[o1 + i] = w1; W[o2 + i] = w2; W[o3 + i] = w3;
      s0 += w0 * n; s1 += w1 * n; s2 += w2 * n; s3 += w3 * n;
      const u0 = decay * W[o + i + 1] - a0 * c1, u1 = decay * W[o1 + i + 1] - a1 * c1, u2 = decay * W[o2 + i + 1] - a2 * c1, u3 = decay * W[o3 + i + 1] - a3 * c1;
      W[o + i + 1] = u0; W[o1 + i + 1] = u1; W[o2 + i + 1] = u2; W[o3 + i + 1] = u3;
      t0 += u0 * n1; t1 += u1 * n1; t2 += u2 * n1; t3 += u3 * n1;
    }
  }
  if (i < D) {
    const c = xc[i], n = xn[i];
    const w0 = decay * W[o + i] - a0 * c, w1 = decay * W[o1 + i] - a1 * c, w2 = decay * W[o2 + i] - a2 * c, w3 = decay * W[o3 + i] - a3 * c;
    W[o + i] = w0; W[o1 + i] = w1; W[o2 + i] = w2; W[o3 + i] = w3;
    s0 += w0 * n; s1 += w1 * n; s2 += w2 * n; s3 += w3 * n;
  }
  h[k] = s0 + t0; h[k + 1] = s1 + t1; h[k + 2] = s2 + t2; h[k + 3] = s3 + t3;
}

/** One row of `fused4`: W[o …] ← decay·W − a xcᵀ, returns the updated row · xn. */
function fused1(W: Float64Array, o: number, D: number, a: number, decay: number, xc: Float64Array, xn: Float64Array): number {
  let s = 0, t = 0;
  let i = 0;
  for (; i + 1 < D; i += 2) {
    const w0 = decay * W[o + i] - a * xc[i], w1 = decay * W[o + i + 1] - a * xc[i + 1];
    W[o + i] = w0; W[o + i + 1] = w1;
    s += w0 * xn[i]; t += w1 * xn[i + 1];
  }
  if (i < D) { const w = decay * W[o + i] - a * xc[i]; W[o + i] = w; s += w * xn[i]; }
  return s + t;
}

/**
 * Minibatches over a finite dataset of P examples: each epoch is a fresh random permutation cut into
 * consecutive batches of `batchSize`; the last batch of an epoch holds the remaining P mod B examples
 * (if any), so every epoch visits each example exactly once.
 */
export class EpochBatcher {
  readonly perm: Int32Array;
  private pos: number;
  constructor(readonly P: number, readonly batchSize: number, private readonly rng: { shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T }) {
    this.perm = Int32Array.from({ length: P }, (_, i) => i);
    this.pos = P; // shuffle on first use
  }
  /** Current permutation and position in it (copies), for checkpoints; the RNG is saved by its owner. */
  saveState(): { perm: Int32Array; pos: number } {
    return { perm: this.perm.slice(), pos: this.pos };
  }

  restoreState(s: { perm: ArrayLike<number>; pos: number }): void {
    if (s.perm.length !== this.P || !(s.pos >= 0 && s.pos <= this.P)) throw new RangeError("batcher state does not match the dataset size");
    this.perm.set(s.perm);
    this.pos = s.pos;
  }

  /** Start index (into `perm`) and size of the next minibatch. */
  next(): { start: number; count: number } {
    if (this.pos >= this.P) {
      this.rng.shuffle(this.perm);
      this.pos = 0;
    }
    const start = this.pos;
    const count = Math.min(this.batchSize, this.P - start);
    this.pos += count;
    return { start, count };
  }
}
