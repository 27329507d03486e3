/**
 * Two-layer network φ(x) = Σ_k v_k σ(λ_k),  λ_k = w_k·x + b_k  (IG22 eq. 7), its loss and gradients.
 *
 * Activations σ: "erf" σ(h) = erf(h/√2); "relu" max(0, h); "tanh"; "cubic" σ̃(h) = α1 h − (α3/3) h³
 * with α1 = √(2/π), α3 = 1/√(2π) (the third-order expansion of erf(h/√2), IG22 eq. 3).
 *
 * Per-sample loss ℓ = ½(y − φ)²; a minibatch objective is the mean of ℓ over the batch plus the
 * weight decay (ℓ2/2)‖W‖²_F on the first layer only (second layer and biases are not decayed).
 * Gradients:  ∂ℓ/∂w_k = (φ − y) v_k σ'(λ_k) x,  ∂ℓ/∂b_k = (φ − y) v_k σ'(λ_k),  ∂ℓ/∂v_k = (φ − y) σ(λ_k).
 */
import { gemm } from "../kernels/index.js";
import { YieldClock, yieldToEventLoop } from "../run/hooks.js";
import { Rng } from "../stats/rng.js";
import { erf } from "../stats/special.js";

export type Activation = "erf" | "relu" | "tanh" | "cubic";
export const ACTIVATIONS: readonly Activation[] = ["erf", "relu", "tanh", "cubic"];

/** Coefficients of the cubic activation σ̃(h) = α1 h − (α3/3) h³ (IG22 eq. 3). */
export const ALPHA1 = Math.sqrt(2 / Math.PI);
export const ALPHA3 = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT2 = 1 / Math.SQRT2;

/** Integer codes used inside hot loops. */
export const ACT_CODE: Record<Activation, number> = { erf: 0, relu: 1, tanh: 2, cubic: 3 };

/** σ(h) for an activation code. */
export function sigma(code: number, h: number): number {
  switch (code) {
    case 0: return erf(h * INV_SQRT2);
    case 1: return h > 0 ? h : 0;
    case 2: return Math.tanh(h);
    default: return ALPHA1 * h - (ALPHA3 / 3) * h * h * h;
  }
}

/** σ'(h) for an activation code (ReLU: 1 for h > 0, else 0). */
export function sigmaPrime(code: number, h: number): number {
  switch (code) {
    case 0: return SQRT_2_PI * Math.exp(-0.5 * h * h);
    case 1: return h > 0 ? 1 : 0;
    case 2: { const t = Math.tanh(h); return 1 - t * t; }
    default: return ALPHA1 - ALPHA3 * h * h;
  }
}

export type SecondLayerMode = "fixed" | "trained";
export type BiasMode = "none" | "fixed" | "trained";
export type BiasPattern = "split" | "same";

export interface NetworkConfig {
  K: number;
  activation: Activation;
  /** v_k = value for every k (default 1/K); trained or kept fixed. */
  secondLayer: { mode: SecondLayerMode; value?: number };
  /**
   * Biases: "none" (b = 0, never trained), "fixed" or "trained" (initial value from `value` and
   * `pattern`: "split" gives the first ⌈K/2⌉ neurons +value and the others −value, "same" gives all
   * neurons +value).
   */
  bias: { mode: BiasMode; value: number; pattern: BiasPattern };
  /** W_ki ~ N(0, initScale²/D) i.i.d. (IG22: initScale = 1). */
  initScale: number;
}

export interface Network {
  readonly K: number;
  readonly D: number;
  readonly activation: Activation;
  /** First-layer weights, K×D row-major. */
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly v: Float64Array;
}

/** Initial bias vector for a configuration. */
export function initialBiases(cfg: Pick<NetworkConfig, "K" | "bias">): Float64Array {
  const b = new Float64Array(cfg.K);
  if (cfg.bias.mode === "none") return b;
  const half = Math.ceil(cfg.K / 2);
  for (let k = 0; k < cfg.K; k++) b[k] = cfg.bias.pattern === "same" || k < half ? cfg.bias.value : -cfg.bias.value;
  return b;
}

/** Fresh network: W i.i.d. N(0, initScale²/D) from `rng` (row by row), b and v from the config. */
export function initNetwork(cfg: NetworkConfig, D: number, rng: Rng): Network {
  const K = cfg.K;
  const W = new Float64Array(K * D);
  rng.fillNormal(W, cfg.initScale / Math.sqrt(D));
  const v = new Float64Array(K).fill(cfg.secondLayer.value ?? 1 / K);
  return { K, D, activation: cfg.activation, W, b: initialBiases(cfg), v };
}

export function cloneNetwork(n: Network): Network {
  return { K: n.K, D: n.D, activation: n.activation, W: n.W.slice(), b: n.b.slice(), v: n.v.slice() };
}

/** φ(x) for the row `x[off … off+D−1]`. */
export function forward(net: Network, x: ArrayLike<number>, off = 0): number {
  const { K, D, W, b, v } = net;
  const code = ACT_CODE[net.activation];
  let phi = 0;
  for (let k = 0; k < K; k++) {
    let s = b[k];
    const o = k * D;
    for (let i = 0; i < D; i++) s += W[o + i] * x[off + i];
    phi += v[k] * sigma(code, s);
  }
  return phi;
}

export interface Gradients {
  W: Float64Array;
  b: Float64Array;
  v: Float64Array;
}

export function zeroGradients(K: number, D: number): Gradients {
  return { W: new Float64Array(K * D), b: new Float64Array(K), v: new Float64Array(K) };
}

/**
 * Objective L = (1/n) Σ_ν ½(y_ν − φ(x_ν))² + (ℓ2/2)‖W‖²_F over rows `idx` (or 0 … n−1) of X (n×D),
 * and its full gradient with respect to W, b and v (whether or not they are trained).  Reference
 * implementation (not the hot loop): used by the tests and by `evaluate`.
 */
export function lossAndGradient(net: Network, X: ArrayLike<number>, y: ArrayLike<number>, n: number, weightDecay = 0, grad?: Gradients, idx?: ArrayLike<number>): number {
  const { K, D, W, b, v } = net;
  const code = ACT_CODE[net.activation];
  const lam = new Float64Array(K);
  if (grad) { grad.W.fill(0); grad.b.fill(0); grad.v.fill(0); }
  let loss = 0;
  for (let m = 0; m < n; m++) {
    const r = idx ? idx[m] : m;
    const off = r * D;
    let phi = 0;
    for (let k = 0; k < K; k++) {
      let s = b[k];
      for (let i = 0; i < D; i++) s += W[k * D + i] * X[off + i];
      lam[k] = s;
      phi += v[k] * sigma(code, s);
    }
    const e = phi - y[r];
    loss += 0.5 * e * e;
    if (grad) {
      for (let k = 0; k < K; k++) {
        const g = (e * v[k] * sigmaPrime(code, lam[k])) / n;
        grad.b[k] += g;
        grad.v[k] += (e * sigma(code, lam[k])) / n;
        for (let i = 0; i < D; i++) grad.W[k * D + i] += g * X[off + i];
      }
    }
  }
  loss /= n;
  if (weightDecay !== 0) {
    let w2 = 0;
    for (let i = 0; i < W.length; i++) w2 += W[i] * W[i];
    loss += 0.5 * weightDecay * w2;
    if (grad) for (let i = 0; i < W.length; i++) grad.W[i] += weightDecay * W[i];
  }
  return loss;
}

/**
 * Test metrics on rows 0 … n−1 of X: pmse = ⟨(φ − y)²⟩ (IG22 eq. 9, no factor ½) and the accuracy of
 * the predicted label (φ > threshold ⇒ `hi`, else `lo`; threshold = (lo + hi)/2, i.e. sign(φ) for ±1
 * labels and 0.5 for {0, 1}).
 */
/**
 * |h| beyond which σ'(h) < 1e-3·max σ' (erf: σ' ∝ exp(−h²/2) ⇒ h² > 2 ln 1000; tanh: sech²h < 1e-3
 * ⇒ cosh h > √1000).  ReLU has no such bound (a unit is dead instead, see `saturationFraction`);
 * the cubic's σ' is a polynomial (Infinity: never counted).
 */
export const SATURATION_THRESHOLD: Record<Activation, number> = {
  erf: Math.sqrt(2 * Math.log(1000)),
  tanh: Math.acosh(Math.sqrt(1000)),
  relu: Infinity,
  cubic: Infinity,
};

/** A ReLU unit is dead when λ + b ≤ 0 on at least this fraction of the test inputs. */
export const DEAD_RELU_FRACTION = 0.99;

/**
 * Fraction of saturated units from per-neuron counts (`counts[k]` = inputs, of n, on which unit k
 * is saturated — |λ + b| above SATURATION_THRESHOLD — or, for ReLU, inactive: λ + b ≤ 0):
 * erf/tanh: Σ_k counts[k] / (nK), the fraction of (input, neuron) pairs with σ' < 1e-3·max σ';
 * relu: the fraction of dead units (inactive on ≥ 99 % of the inputs); cubic: NaN (σ' does not decay).
 */
export function saturationFraction(activation: Activation, counts: ArrayLike<number>, n: number): number {
  const K = counts.length;
  if (activation === "cubic" || K === 0 || n === 0) return NaN;
  let s = 0;
  if (activation === "relu") {
    for (let k = 0; k < K; k++) if (counts[k] >= DEAD_RELU_FRACTION * n) s++;
    return s / K;
  }
  for (let k = 0; k < K; k++) s += counts[k];
  return s / (n * K);
}

/**
 * Test pmse and accuracy of `net` on n examples.  With `satCounts` (length K, zeroed by the
 * caller), also counts per neuron the inputs on which it is saturated or, for ReLU, inactive
 * (see `saturationFraction`); the pmse and accuracy do not depend on it.
 */
export function evaluate(net: Network, X: ArrayLike<number>, y: ArrayLike<number>, n: number, labels: readonly [number, number], satCounts?: Float64Array): { pmse: number; accuracy: number } {
  const ev = evaluator(net, X, y, n, labels, satCounts);
  for (let m0 = 0; m0 < n; m0 += EVAL_BLOCK) ev.block(m0);
  return ev.result();
}

/**
 * `evaluate`, returning to the event loop every ~`everyMs` ms (the same blocks, the same sums, the
 * same result): a large test set (1.2·10⁵ inputs at K = 100, D = 400 take seconds) then does not hold
 * off signal handlers, e.g. a second Ctrl-C while an interrupted run logs its last state.
 */
export async function evaluateAsync(net: Network, X: ArrayLike<number>, y: ArrayLike<number>, n: number, labels: readonly [number, number], satCounts?: Float64Array, everyMs = 40): Promise<{ pmse: number; accuracy: number }> {
  const ev = evaluator(net, X, y, n, labels, satCounts);
  const clock = new YieldClock(everyMs);
  for (let m0 = 0; m0 < n; m0 += EVAL_BLOCK) {
    ev.block(m0);
    if (m0 + EVAL_BLOCK < n && clock.due()) await yieldToEventLoop();
  }
  return ev.result();
}

/** Rows per block of `evaluate` (one GEMM each). */
const EVAL_BLOCK = 256;

/** The test-set sums of `evaluate`, one block of EVAL_BLOCK rows (from m0, in order) at a time. */
function evaluator(net: Network, X: ArrayLike<number>, y: ArrayLike<number>, n: number, labels: readonly [number, number], satCounts?: Float64Array): { block(m0: number): void; result(): { pmse: number; accuracy: number } } {
  const { K, D, W, b, v } = net;
  const code = ACT_CODE[net.activation];
  const relu = net.activation === "relu";
  const hSat = SATURATION_THRESHOLD[net.activation];
  const [lo, hi] = labels;
  const thr = 0.5 * (lo + hi);
  let se = 0, correct = 0;
  // Pre-activations (without the bias) of a block of rows at once, H = X_block Wᵀ: on the GEMM kernel
  // (SIMD when available) for Float64Array inputs of real size — the test set of a K = 100, D = 400
  // network is 1.6·10⁹ multiply–adds — else by four-way dot products.
  const useGemm = X instanceof Float64Array && K * D >= 256;
  const B = EVAL_BLOCK, H = new Float64Array(B * K);
  const block = (m0: number): void => {
    const rows = Math.min(B, n - m0);
    if (useGemm) gemm(false, true, rows, K, D, 1, (X as Float64Array).subarray(m0 * D, (m0 + rows) * D), W, 0, H);
    else {
      for (let q = 0; q < rows; q++) {
        const off = (m0 + q) * D;
        for (let k = 0; k < K; k++) {
          const o = k * D;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          let i = 0;
          for (; i + 3 < D; i += 4) {
            s0 += W[o + i] * X[off + i];
            s1 += W[o + i + 1] * X[off + i + 1];
            s2 += W[o + i + 2] * X[off + i + 2];
            s3 += W[o + i + 3] * X[off + i + 3];
          }
          for (; i < D; i++) s0 += W[o + i] * X[off + i];
          H[q * K + k] = (s0 + s1) + (s2 + s3);
        }
      }
    }
    for (let q = 0; q < rows; q++) {
      const m = m0 + q;
      let phi = 0;
      for (let k = 0; k < K; k++) {
        const h = b[k] + H[q * K + k];
        phi += v[k] * sigma(code, h);
        if (satCounts && (relu ? !(h > 0) : Math.abs(h) > hSat)) satCounts[k]++;
      }
      const e = phi - y[m];
      se += e * e;
      const pred = phi > thr ? hi : lo;
      if (pred === y[m]) correct++;
    }
  };
  return { block, result: () => ({ pmse: se / n, accuracy: correct / n }) };
}
