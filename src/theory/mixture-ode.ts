/**
 * Order-parameter ODEs for online SGD of a two-layer erf network on a mixture of Gaussian classes
 * with translation-invariant (circulant / block-circulant) covariances C^μ — the IG22 Fig. 3 setting
 * with GP inputs (Refinetti et al. 2021 style, per Fourier mode).
 *
 * Network and SGD exactly as src/sim (lrScaling s = 1): λ_k = w_k·x + b_k, φ = Σ_k v_k g(λ_k),
 * g(h) = erf(h/√2), loss ½(y − φ)², per step
 *   W ← (1 − ηℓ2/D) W + (η/D) f xᵀ,   f_k = v_k e g'(λ_k), e = y − φ;
 *   b ← b + (η_b/D) f;   v ← v + (η_v/D) e g(λ)          (when trained),   t = steps/D.
 *
 * Per class μ (probability p_μ, label y_μ) the pre-activations w·x are Gaussian with covariance
 * Ω^μ = W C^μ Wᵀ.  Stein's lemma, E[x F(Wx)] = C^μ Wᵀ E[∇_λ F], gives for the Fourier modes ŵ_τ
 * (K-vectors) of the rows of W
 *   dŵ_τ/dt = M_τ ŵ_τ,   M_τ = η Σ_μ p_μ ρ^μ_τ G^μ − ηℓ2 I,   G^μ_kl = E_μ[∂f_k/∂λ_l]
 *           = −v_k v_l E[g'_k g'_l] + δ_kl v_k (y_μ E[g''_k] − Σ_j v_j E[g''_k g_j]),
 * so the mode densities q_τ = Re(ŵ_τ ŵ_τ^H) obey
 *   dq_τ/dt = M_τ q_τ + q_τ M_τᵀ + η² Σ_μ p_μ ρ^μ_τ E_μ[f fᵀ]               (η² term: second order)
 * and Ω^μ = (1/D) Σ_τ ρ^μ_τ q_τ closes the system.  Modes with identical spectra (ρ^0_τ, ρ^1_τ, …)
 * obey the same linear equation, so they are summed into one group (exact): D/2 + 1 groups on a
 * ring, fewer in 2D.  All expectations are closed form (erf: Gaussian tilting) except E[g_j g_m]
 * with biases, a bivariate normal CDF (1-D integral, ≲ 1e-13); see src/stats/gaussian-integrals.ts.
 *   db_k/dt = η_b Σ_μ p_μ v_k (y_μ E[g'_k] − Σ_j v_j E[g'_k g_j]),
 *   dv_k/dt = η_v Σ_μ p_μ (y_μ E[g_k] − Σ_j v_j E[g_k g_j]).
 * The η² corrections of b and v are O(1/D) and dropped.
 */
import { runStatusOf, solveRun, type RunSolveSettings, type CheckpointOptions, type OdeProblem, type OdeSolution } from "../integrate/index.js";
import type { RunHooks, RunStatus } from "../run/hooks.js";
import { ErfExpectations } from "../stats/gaussian-integrals.js";
import { allocResident, gemm, isResident, residentSubarray, simdKernels } from "../kernels/index.js";
import { wasmGemmWorkspaceBytes, wasmMixtureDrift } from "../kernels/wasm.js";
import { geometrySize, type Geometry } from "../data/kernels.js";
import { fourierRows, getPmseFromOmegas } from "./get.js";

export interface MixtureOdeParams {
  K: number;
  geometry: Geometry;
  /** Per class: spectrum ρ^μ (eigenvalues of C^μ, length D, DFT order), label and probability. */
  spectra: readonly ArrayLike<number>[];
  labels: readonly number[];
  probs?: readonly number[];
  lr: number;
  lrBias?: number;
  lrSecondLayer?: number;
  weightDecay: number;
  trainBias: boolean;
  trainSecondLayer: boolean;
  /** Include the η² term (default true). */
  secondOrder?: boolean;
}

export interface MixtureState {
  /** Ω^μ = W C^μ Wᵀ per class (K×K). */
  omegas: Float64Array[];
  b: Float64Array;
  v: Float64Array;
  /** |w_k|² (from the mode densities). */
  norms2: Float64Array;
}

export interface MixtureInit {
  /** Initial first-layer weights K×D (row-major), as in the SGD run. */
  W: ArrayLike<number>;
  b: ArrayLike<number>;
  v: ArrayLike<number>;
}

/** Group modes with equal spectra (relative tolerance 1e-10 of the largest eigenvalue). */
export function groupModes(spectra: readonly ArrayLike<number>[], D: number): { groupOf: Int32Array; rho: Float64Array[]; size: Float64Array } {
  const nc = spectra.length;
  const scale = spectra.map((s) => { let m = 0; for (let t = 0; t < D; t++) m = Math.max(m, Math.abs(s[t])); return m || 1; });
  const idx = Array.from({ length: D }, (_, t) => t);
  const key = (t: number, c: number) => spectra[c][t] / scale[c];
  idx.sort((a, b) => {
    for (let c = 0; c < nc; c++) { const d = key(a, c) - key(b, c); if (d !== 0) return d; }
    return a - b;
  });
  const groupOf = new Int32Array(D);
  const reps: number[] = [];
  const sizes: number[] = [];
  for (const t of idx) {
    const g = reps.length - 1;
    let same = g >= 0;
    if (same) for (let c = 0; c < nc; c++) if (Math.abs(key(t, c) - key(reps[g], c)) > 1e-10) { same = false; break; }
    if (same) { groupOf[t] = g; sizes[g]++; }
    else { reps.push(t); sizes.push(1); groupOf[t] = reps.length - 1; }
  }
  // Each group's spectrum: the mean over its members (they agree to 1e-10).
  const G = reps.length;
  const rho = spectra.map(() => new Float64Array(G));
  for (let t = 0; t < D; t++) for (let c = 0; c < nc; c++) rho[c][groupOf[t]] += spectra[c][t];
  for (let c = 0; c < nc; c++) for (let g = 0; g < G; g++) rho[c][g] /= sizes[g];
  return { groupOf, rho, size: Float64Array.from(sizes) };
}

/**
 * The ODE system.  State: for each mode group the upper triangle of Σ_{τ∈group} q_τ
 * (K(K+1)/2 entries), then b (K) if trained, then v (K) if trained.
 */
export class MixtureOde {
  readonly K: number;
  readonly D: number;
  readonly G: number;
  readonly dim: number;
  readonly groupOf: Int32Array;
  readonly rho: Float64Array[];
  readonly groupSize: Float64Array;
  private readonly nt: number;
  private readonly probs: Float64Array;
  private readonly labels: Float64Array;
  private readonly exps: ErfExpectations[];
  private readonly Qg: Float64Array;
  /** Qg's K×K blocks as views (no allocation in the RHS). */
  private readonly QgView: Float64Array[];
  private readonly omegas: Float64Array[];
  private readonly Gm: Float64Array[];
  private readonly Mt: Float64Array;
  private readonly noise: Float64Array[];
  private readonly MQ: Float64Array;
  private readonly b: Float64Array;
  private readonly v: Float64Array;
  private readonly b0: Float64Array;
  private readonly v0: Float64Array;
  private readonly second: boolean;
  /** Per group and class: η p_μ ρ^μ_g (drift) and p_μ ρ^μ_g |g| (noise), G×nc row-major. */
  private readonly cDrift: Float64Array;
  private readonly cNoise: Float64Array;
  /** Packed upper triangles of Ω^μ while they are accumulated (nc × nt). */
  private readonly omPacked: Float64Array;
  /** G^μ and the noise matrices as nc consecutive K×K blocks (the views Gm[μ], noise[μ] point into them). */
  private readonly GmAll: Float64Array;
  private readonly noiseAll: Float64Array;
  /** SIMD drift kernel buffers (null on the TS backend): gemm workspace and packed output. */
  private readonly driftW: Float64Array | null;
  private readonly driftOut: Float64Array | null;

  constructor(readonly params: MixtureOdeParams, b0: ArrayLike<number>, v0: ArrayLike<number>) {
    const K = params.K;
    const D = geometrySize(params.geometry);
    const nc = params.spectra.length;
    if (nc < 1) throw new RangeError("at least one class is required");
    if (params.labels.length !== nc) throw new RangeError("one label per class is required");
    for (const s of params.spectra) if (s.length !== D) throw new RangeError(`each spectrum must have length D = ${D}`);
    if (b0.length !== K || v0.length !== K) throw new RangeError(`b and v must have length K = ${K}`);
    this.K = K;
    this.D = D;
    const grp = groupModes(params.spectra, D);
    this.groupOf = grp.groupOf;
    this.rho = grp.rho;
    this.groupSize = grp.size;
    this.G = grp.size.length;
    this.nt = (K * (K + 1)) / 2;
    this.dim = this.G * this.nt + (params.trainBias ? K : 0) + (params.trainSecondLayer ? K : 0);
    const p = params.probs ?? params.spectra.map(() => 1 / nc);
    const tot = p.reduce((a, c) => a + c, 0);
    this.probs = Float64Array.from(p, (x) => x / tot);
    this.labels = Float64Array.from(params.labels);
    this.exps = params.spectra.map(() => new ErfExpectations(K));
    // Qg and Mt live in the SIMD kernels' memory when available (gemm then reads them in place).
    this.Qg = allocResident(this.G * K * K);
    this.QgView = Array.from({ length: this.G }, (_, g) => this.Qg.subarray(g * K * K, (g + 1) * K * K));
    this.omegas = params.spectra.map(() => new Float64Array(K * K));
    this.GmAll = allocResident(nc * K * K);
    this.noiseAll = allocResident(nc * K * K);
    this.Gm = params.spectra.map((_, mu) => residentSubarray(this.GmAll, mu * K * K, (mu + 1) * K * K));
    this.noise = params.spectra.map((_, mu) => residentSubarray(this.noiseAll, mu * K * K, (mu + 1) * K * K));
    this.Mt = allocResident(K * K);
    this.MQ = allocResident(K * K);
    this.b = new Float64Array(K);
    this.v = new Float64Array(K);
    this.b0 = Float64Array.from(b0);
    this.v0 = Float64Array.from(v0);
    this.second = params.secondOrder ?? true;
    const eta = params.lr;
    this.cDrift = allocResident(this.G * nc);
    this.cNoise = allocResident(this.G * nc);
    for (let g = 0; g < this.G; g++) {
      for (let mu = 0; mu < nc; mu++) {
        this.cDrift[g * nc + mu] = eta * this.probs[mu] * this.rho[mu][g];
        this.cNoise[g * nc + mu] = this.probs[mu] * this.rho[mu][g] * this.groupSize[g];
      }
    }
    this.omPacked = new Float64Array(nc * this.nt);
    const kern = simdKernels();
    const resident = kern !== null && [this.GmAll, this.noiseAll, this.Qg, this.Mt, this.MQ, this.cDrift, this.cNoise].every(isResident);
    this.driftW = resident ? allocResident(Math.ceil(wasmGemmWorkspaceBytes(kern) / 8)) : null;
    this.driftOut = resident ? allocResident(this.G * this.nt) : null;
    if (this.driftW !== null && !(isResident(this.driftW) && this.driftOut !== null && isResident(this.driftOut))) {
      this.driftW = null;
      this.driftOut = null;
    }
  }

  /** Initial state vector from the SGD run's initial weights (mode densities by FFT). */
  initialState(init: MixtureInit): Float64Array {
    const { K, D, G, nt } = this;
    const { re, im } = fourierRows(init.W, K, this.params.geometry);
    const y = new Float64Array(this.dim);
    for (let t = 0; t < D; t++) {
      const o = this.groupOf[t] * nt;
      let j = 0;
      for (let k = 0; k < K; k++) {
        for (let l = k; l < K; l++) y[o + j++] += re[k * D + t] * re[l * D + t] + im[k * D + t] * im[l * D + t];
      }
    }
    let o = G * nt;
    if (this.params.trainBias) for (let k = 0; k < K; k++) y[o++] = init.b[k];
    if (this.params.trainSecondLayer) for (let k = 0; k < K; k++) y[o++] = init.v[k];
    return y;
  }

  /**
   * Unpack Q groups, Ω^μ, b and v from a state vector into the internal buffers.  Ω^μ = (1/D) Σ_g ρ^μ_g Q_g
   * is accumulated on the packed upper triangles (groups in order, the same sums as on the full
   * matrices) and then mirrored.
   */
  private load(y: ArrayLike<number>): void {
    const { K, G, nt, Qg, D } = this;
    for (let g = 0; g < G; g++) {
      let j = g * nt;
      const o = g * K * K;
      for (let k = 0; k < K; k++) for (let l = k; l < K; l++) { Qg[o + k * K + l] = Qg[o + l * K + k] = y[j++]; }
    }
    const P = this.omPacked;
    for (let mu = 0; mu < this.omegas.length; mu++) {
      const Om = this.omegas[mu];
      const po = mu * nt;
      P.fill(0, po, po + nt);
      const rho = this.rho[mu];
      for (let g = 0; g < G; g++) {
        const r = rho[g];
        if (r === 0) continue;
        const yo = g * nt;
        for (let i = 0; i < nt; i++) P[po + i] += r * y[yo + i];
      }
      let j = po;
      for (let k = 0; k < K; k++) for (let l = k; l < K; l++) { Om[k * K + l] = Om[l * K + k] = P[j++] / D; }
    }
    let o = G * nt;
    if (this.params.trainBias) for (let k = 0; k < K; k++) this.b[k] = y[o++];
    else this.b.set(this.b0);
    if (this.params.trainSecondLayer) for (let k = 0; k < K; k++) this.v[k] = y[o++];
    else this.v.set(this.v0);
  }

  /** dy/dt. */
  readonly rhs = (_t: number, y: Float64Array, dy: Float64Array): void => {
    const { K, G, nt, Qg, Mt, MQ, b, v } = this;
    const eta = this.params.lr, l2 = this.params.weightDecay;
    this.load(y);
    const nc = this.omegas.length;
    const trainV = this.params.trainSecondLayer;
    for (let mu = 0; mu < nc; mu++) {
      const E = this.exps[mu];
      const yl = this.labels[mu];
      E.computeWith(this.omegas[mu], b, trainV, this.second, yl, v);
      const Gm = this.Gm[mu];
      for (let k = 0; k < K; k++) {
        for (let l = 0; l < K; l++) Gm[k * K + l] = -v[k] * v[l] * E.gpgp[k * K + l];
        let s = yl * E.gpp[k];
        for (let j = 0; j < K; j++) s -= v[j] * E.gppg[k * K + j];
        Gm[k * K + k] += v[k] * s;
      }
      if (this.second) {
        const N = this.noise[mu];
        for (let k = 0; k < K; k++) for (let l = 0; l < K; l++) N[k * K + l] = eta * eta * v[k] * v[l] * E.ee[k * K + l];
      }
    }
    const cDrift = this.cDrift, cNoise = this.cNoise, second = this.second, noise = this.noise;
    const KK = K * K, etaL2 = eta * l2;
    const kern = this.driftOut !== null ? simdKernels() : null;
    if (kern !== null) {
      // The loop below as one SIMD kernel call (bit-identical; wasm/kernels.ts mixtureDrift).
      wasmMixtureDrift(kern, G, K, nc, this.GmAll, cDrift, etaL2, Qg, Mt, MQ, this.driftW!, this.noiseAll, cNoise, second, this.driftOut!);
      dy.set(this.driftOut!.subarray(0, G * nt));
    }
    else for (let g = 0; g < G; g++) {
      Mt.fill(0);
      for (let mu = 0; mu < nc; mu++) {
        const c = cDrift[g * nc + mu];
        if (c === 0) continue;
        const Gm = this.Gm[mu];
        for (let i = 0; i < KK; i++) Mt[i] += c * Gm[i];
      }
      for (let k = 0; k < K; k++) Mt[k * K + k] -= etaL2;
      // MQ = M_τ Q_g
      gemm(false, false, K, K, K, 1, Mt, this.QgView[g], 0, MQ);
      const o = g * nt;
      let jj = o;
      for (let k = 0; k < K; k++) {
        for (let l = k; l < K; l++) dy[jj++] = MQ[k * K + l] + MQ[l * K + k];
      }
      if (second) {
        // dy += Σ_μ c_μ noise_μ, classes in order per entry (the same sums as entry by entry).
        for (let mu = 0; mu < nc; mu++) {
          const c = cNoise[g * nc + mu];
          if (c === 0) continue;
          const N = noise[mu];
          jj = o;
          for (let k = 0; k < K; k++) {
            for (let l = k; l < K; l++) dy[jj++] += c * N[k * K + l];
          }
        }
      }
    }
    let o = G * nt;
    if (this.params.trainBias) {
      const etaB = this.params.lrBias ?? eta;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let mu = 0; mu < nc; mu++) {
          const E = this.exps[mu];
          let e = this.labels[mu] * E.gp[k];
          for (let j = 0; j < K; j++) e -= v[j] * E.gpg[k * K + j];
          s += this.probs[mu] * v[k] * e;
        }
        dy[o++] = etaB * s;
      }
    }
    if (trainV) {
      const etaV = this.params.lrSecondLayer ?? eta;
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let mu = 0; mu < nc; mu++) {
          const E = this.exps[mu];
          let e = this.labels[mu] * E.g[k];
          for (let j = 0; j < K; j++) e -= v[j] * E.gg[k * K + j];
          s += this.probs[mu] * e;
        }
        dy[o++] = etaV * s;
      }
    }
  };

  /** Order parameters of a state vector (copies). */
  state(y: ArrayLike<number>): MixtureState {
    this.load(y);
    const { K, G, Qg, D } = this;
    const norms2 = new Float64Array(K);
    for (let g = 0; g < G; g++) for (let k = 0; k < K; k++) norms2[k] += Qg[g * K * K + k * K + k];
    for (let k = 0; k < K; k++) norms2[k] /= D;
    return { omegas: this.omegas.map((o) => o.slice()), b: this.b.slice(), v: this.v.slice(), norms2 };
  }

  /** Test error pmse = Σ_μ p_μ E_μ[(y_μ − φ)²] (exact for Gaussian classes) of a state vector. */
  pmse(y: ArrayLike<number>): { pmse: number; perClass: number[] } {
    const s = this.state(y);
    return getPmseFromOmegas(s.omegas, s.b, s.v, this.params.labels, Array.from(this.probs), this.K);
  }
}

/** Output times and integrator settings (adaptive GBS by default, rtol 1e-8, atol 1e-10). */
export interface MixtureRunOptions extends RunSolveSettings {
  times: readonly number[];
}

export interface MixtureRun {
  status: RunStatus;
  message: string;
  t: number[];
  pmse: number[];
  pmsePerClass: number[][];
  states: MixtureState[];
  nRhs: number;
  nSteps: number;
  groups: number;
}

/** The mixture ODEs from the initial weights of an SGD run as an OdeProblem, and how to read its solution. */
export function mixtureProblem(params: MixtureOdeParams, init: MixtureInit, opts: MixtureRunOptions): { ode: MixtureOde; problem: OdeProblem; finish: (sol: OdeSolution) => MixtureRun } {
  const ode = new MixtureOde(params, init.b, init.v);
  const times = opts.times;
  const problem: OdeProblem = { rhs: ode.rhs, y0: ode.initialState(init), tspan: [times[0], times[times.length - 1]], saveat: times };
  const finish = (sol: OdeSolution): MixtureRun => {
    const errs = sol.y.map((y) => ode.pmse(y));
    return {
      status: runStatusOf(sol.retcode),
      message: sol.message,
      t: sol.t,
      pmse: errs.map((e) => e.pmse),
      pmsePerClass: errs.map((e) => e.perClass),
      states: sol.y.map((y) => ode.state(y)),
      nRhs: sol.stats.nRhs,
      nSteps: sol.stats.nSteps,
      groups: ode.G,
    };
  };
  return { ode, problem, finish };
}

/**
 * Integrate the mixture ODEs from the initial weights of an SGD run (adaptive GBS by default).
 * `durable` checkpoints the integration at output times / resumes it from a saved SolverState
 * (see CheckpointOptions in src/integrate/types.ts); a resumed run returns the same numbers.
 */
export async function integrateMixture(params: MixtureOdeParams, init: MixtureInit, opts: MixtureRunOptions, hooks: RunHooks = {}, durable: CheckpointOptions = {}): Promise<MixtureRun> {
  const { problem, finish } = mixtureProblem(params, init, opts);
  return finish(await solveRun(problem, opts, { rtol: 1e-8, atol: 1e-10 }, hooks, durable));
}
