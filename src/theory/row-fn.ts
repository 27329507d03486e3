/**
 * The scalar factor f(λ) applied to each row's projection λ = x·w in the flow's fused row pass
 * (`fusedRowPass` in ./single-neuron.ts and its float32 twin in ./single-neuron-f32.ts; the SIMD kernel
 * in wasm/kernels.ts uses the same codes).
 */
import { erf } from "../stats/special.js";

/** Scalar factor applied to each row's projection λ in `fusedRowPass`. */
export const RowFn = {
  /** f = a·λ  (Ĉ w) */
  Linear: 0,
  /** f = a·λ + c·λ³  (c2 Ĉw + c4 T̂w⊗3) */
  Cubic: 1,
  /** f = a (y − v erf(h/√2)) √(2/π) e^{−h²/2}, h = λ + b  (exact erf neuron) */
  Erf: 2,
  /** f = a (y − v σ̃(h)) σ̃'(h), h = λ + b  (exact cubic neuron; c = α1, d = α3) */
  CubicNeuron: 3,
} as const;
export type RowFn = (typeof RowFn)[keyof typeof RowFn];

const SQRT_2_PI = Math.sqrt(2 / Math.PI);

export function rowFn(kind: RowFn, lam: number, a: number, c: number, d: number, y: number, v: number, b: number): number {
  switch (kind) {
    case RowFn.Linear:
      return a * lam;
    case RowFn.Cubic:
      return lam * (a + c * lam * lam);
    case RowFn.Erf: {
      const h = lam + b;
      return a * (y - v * erf(h / Math.SQRT2)) * SQRT_2_PI * Math.exp(-0.5 * h * h);
    }
    default: {
      const h = lam + b, h2 = h * h;
      return a * (y - v * (c * h - (d / 3) * h2 * h)) * (c - d * h2);
    }
  }
}
