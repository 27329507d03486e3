/**
 * Gragg–Bulirsch–Stoer extrapolation (Hairer & Wanner's ODEX) on Float64Arrays: a port of the npm
 * package odex 2.0.4 (Colin Smith's JavaScript translation of ODEX.F, BSD 2-clause; © 1993 E. Hairer
 * and G. Wanner for the Fortran original), restricted to what rfdyn uses — no dense output, scalar
 * tolerances, step-size sequence 2, 4, 6, … (odex's default `stepSizeSequence` 1 without dense output),
 * its default constants.  Every floating-point operation is the one odex performs, in the same order
 * (including the quirks: the initial scaling |y| + rtol + atol, `errOld` and the step/order memory
 * hh, w carried across the steps of one `solve`, `last` never reset), so the trajectories are
 * bit-identical to odex's (test/gbs-port.test.ts drives both on the same problems).
 *
 * Why a port: odex works on 1-based holey JS arrays, copies the state for every RHS call
 * (`y.slice(1)`) and allocates a fresh derivative array per extrapolation line.  On the 40,000-component
 * guarded Saad–Solla state at K = 32 that overhead was ~30 % of the run (≈ 4 ms per RHS call).
 *
 * The per-component loops run in `GbsWork` (src/kernels/gbs-loops.ts): WebAssembly-SIMD kernels on
 * work arrays resident in the kernels' memory (the RHS reads y and writes dy there in place), or the
 * same loops in TS.  They are fused — the midpoint substep with the stability check's norms, the
 * smoothing step with the whole extrapolation and the error norm — without changing any component's
 * operations or the order of the norms' sums, and the first substep reads y where odex copies it into
 * yh1 first; both backends are tested against odex step for step.
 */

/** odex's defaults (Solver constructor). */
const U_ROUND = 2.3e-16;
const KM = 9; // maxExtrapolationColumns
const STEP_REDUCTION = 0.5; // stepSizeReductionFactor
const FAC1 = 0.02;
const FAC2 = 4.0;
const FAC3 = 0.8;
const FAC4 = 0.9;
const SAFE1 = 0.65;
const SAFE2 = 0.94;
const STABILITY_CHECK_COUNT = 1;
const STABILITY_CHECK_LINES = 2;

export const GbsOutcome = { Converged: 0, MaxStepsExceeded: 1, EarlyReturn: 2 } as const;

/** Observer of accepted steps (x_old → x, the new state); return false to stop there. */
export type GbsObserver = (xOld: number, x: number, y: Float64Array) => boolean | void;

/** The right-hand side as the solver calls it: write f(x, y) into dy. */
export type GbsRhs = (x: number, y: Float64Array, dy: Float64Array) => void;

import { GbsWork } from "../kernels/gbs-loops.js";

const enum State { Start, Basic, Convergence, Hope, Accept, Reject }

/** 1-based step numbers n_j = 2j (index 0 unused). */
const NJ = Float64Array.from({ length: KM + 1 }, (_, i) => 2 * i);
/** a_1 = 1 + n_1, a_j = a_{j−1} + n_j (work per extrapolation line). */
const AJ = new Float64Array(KM + 1);
AJ[1] = 1 + NJ[1];
for (let i = 2; i <= KM; i++) AJ[i] = AJ[i - 1] + NJ[i];

/**
 * One GBS integrator for states of length n (buffers reused across `solve` calls; each call starts
 * afresh as odex's `Solver.solve` does).
 */
export class GbsSolver {
  maxSteps = 10000;
  initialStepSize = 1e-4;
  /** 0 = the whole interval. */
  maxStepSize = 0;
  relativeTolerance = 1e-5;
  absoluteTolerance = 1e-5;

  /** The work arrays and their per-component loops (WebAssembly SIMD or TS: same bits). */
  private readonly work: GbsWork;

  constructor(readonly n: number) {
    this.work = new GbsWork(n, KM);
  }

  /**
   * Free the work arrays' WebAssembly memory now (they are otherwise freed when garbage-collected);
   * the solver and the `y` of its last result must not be used afterwards.
   */
  release(): void {
    this.work.release();
  }

  /** Which backend runs the per-component loops. */
  get backend(): "wasm-simd" | "ts" {
    return this.work.backend;
  }

  /**
   * Integrate from (x, y0) to xEnd.  `y` of the result is the solver's own buffer (valid until the
   * next call); `observer` sees every accepted step (its y likewise).
   */
  solve(f: GbsRhs, x: number, y0: ArrayLike<number>, xEnd: number, observer?: GbsObserver): { y: Float64Array; outcome: number; nStep: number; nAccept: number; nReject: number; nEval: number } {
    const n = this.n;
    const work = this.work;
    const { y, scal } = work;
    const facs = work.fac;
    if (this.maxSteps <= 0) throw new Error("maxSteps must be positive");
    for (let i = 0; i < n; i++) y[i] = y0[i];
    const hMax = Math.abs(this.maxStepSize || xEnd - x);
    const aTol = this.absoluteTolerance, rTol = this.relativeTolerance;
    const maxSteps = this.maxSteps;
    let nEval = 0, nStep = 0, nAccept = 0, nReject = 0;
    // Step and work per line, persisting over the steps of this call (odex: undefined until set,
    // which every comparison treats as NaN does).
    const hh = new Float64Array(KM + 1).fill(NaN);
    const w = new Float64Array(KM + 1).fill(NaN);
    for (let i = 0; i < n; i++) scal[i] = aTol + rTol + Math.abs(y[i]);
    const posneg = xEnd - x >= 0 ? 1 : -1;
    let k = Math.max(2, Math.min(KM - 1, Math.floor(-(Math.log(rTol + 1e-40) / Math.LN10) * 0.6 + 1.5)));
    let h = Math.max(Math.abs(this.initialStepSize), 1e-4);
    h = posneg * Math.min(h, hMax, Math.abs(xEnd - x) / 2);
    let xOld = x;
    let err = 0;
    let errOld = 1e10;
    const hoptde = posneg * hMax;
    w[1] = 0;
    let reject = false;
    let last = false;
    let atov = false;
    let kc = 0;

    const midex = (j: number): void => {
      const hj = h / NJ[j];
      // The two midpoint iterates, swapped by reference each substep: yh2 = y + hj·dz, and yh1 = y,
      // read in place by the first substep (odex copies y into it; same values).
      let yh1 = work.yh1, yh2 = work.yh2;
      work.axpy(hj, y, work.dz, yh2);
      const m = NJ[j] - 1;
      const h2 = 2 * hj;
      for (let mm = 1; mm <= m; ++mm) {
        f(x + hj * mm, yh2, work.dy);
        // (yh1, yh2) ← (yh2, yh1 + 2hj·dy): the new yh2 written over the old yh1, then swapped.
        const from = mm === 1 ? y : yh1;
        if (mm <= STABILITY_CHECK_COUNT && j <= STABILITY_CHECK_LINES) {
          // with the stability check's norms Σ(dz/scal)², Σ((dy − dz)/scal)² (odex: after the update)
          work.axpyStab(h2, from, work.dy, yh1);
        } else {
          work.axpy(h2, from, work.dy, yh1);
        }
        const tmp = yh1;
        yh1 = yh2;
        yh2 = tmp;
        if (mm <= STABILITY_CHECK_COUNT && j <= STABILITY_CHECK_LINES) {
          const del1 = work.del[0], del2 = work.del[1];
          const quot = del2 / Math.max(U_ROUND, del1);
          if (quot > 4) {
            ++nEval;
            atov = true;
            h *= STEP_REDUCTION;
            reject = true;
            return;
          }
        }
      }
      // final smoothing step, then (j ≥ 2) the polynomial extrapolation and the error norm, fused
      // into one pass over the components (each component's operations and the norm's order of
      // summation are odex's)
      f(x + h, yh2, work.dy);
      nEval += NJ[j];
      const dblenj = NJ[j];
      for (let l = j; l > 1; --l) {
        const r = dblenj / NJ[l - 1];
        facs[l] = r * r - 1;
      }
      const sum = work.extrapolate(j, hj, yh1, yh2, aTol, rTol);
      if (j === 1) return;
      err = Math.sqrt(sum / n);
      if (err * U_ROUND >= 1 || (j > 2 && err >= errOld)) {
        atov = true;
        h *= STEP_REDUCTION;
        reject = true;
        return;
      }
      errOld = Math.max(4 * err, 1);
      // compute optimal step sizes
      const exp0 = 1 / (2 * j - 1);
      const facMin = Math.pow(FAC1, exp0);
      let fac = Math.min(FAC2 / facMin, Math.max(facMin, Math.pow(err / SAFE1, exp0) / SAFE2));
      fac = 1 / fac;
      hh[j] = Math.min(Math.abs(h) * fac, hMax);
      w[j] = AJ[j] / hh[j];
    };

    /** odex's acceptStep: false when the observer stopped the integration. */
    const acceptStep = (): boolean => {
      xOld = x;
      x += h;
      y.set(work.tab[1]);
      ++nAccept;
      if (observer && observer(xOld, x, y) === false) return false;
      // compute optimal order
      let kopt: number;
      if (kc === 2) {
        kopt = Math.min(3, KM - 1);
        if (reject) kopt = 2;
      } else if (kc <= k) {
        kopt = kc;
        if (w[kc - 1] < w[kc] * FAC3) kopt = kc - 1;
        if (w[kc] < w[kc - 1] * FAC4) kopt = Math.min(kc + 1, KM - 1);
      } else {
        kopt = kc - 1;
        if (kc > 3 && w[kc - 2] < w[kc - 1] * FAC3) kopt = kc - 2;
        if (w[kc] < w[kopt] * FAC4) kopt = Math.min(kc, KM - 1);
      }
      // after a rejected step
      if (reject) {
        k = Math.min(kopt, kc);
        h = posneg * Math.min(Math.abs(h), Math.abs(hh[k]));
        reject = false;
        return true;
      }
      if (kopt <= kc) {
        h = hh[kopt];
      } else if (kc < k && w[kc] < w[kc - 1] * FAC4) {
        h = (hh[kc] * AJ[kopt + 1]) / AJ[kc];
      } else {
        h = (hh[kc] * AJ[kopt]) / AJ[kc];
      }
      k = kopt;
      h = posneg * Math.abs(h);
      return true;
    };

    let outcome: number = GbsOutcome.Converged;
    let state = State.Start;
    loop: for (;;) {
      switch (state) {
        case State.Start: {
          atov = false;
          // Is xEnd reached in the next step?
          if (0.1 * Math.abs(xEnd - x) <= Math.abs(x) * U_ROUND) break loop;
          h = posneg * Math.min(Math.abs(h), Math.abs(xEnd - x), hMax, Math.abs(hoptde));
          if ((x + 1.01 * h - xEnd) * posneg > 0) {
            h = xEnd - x;
            last = true;
          }
          f(x, y, work.dz);
          ++nEval;
          // The first and last step
          if (nStep === 0 || last) {
            ++nStep;
            let decided = false;
            for (let j = 1; j <= k; ++j) {
              kc = j;
              midex(j);
              if (atov) { decided = true; break; }
              if (j > 1 && err <= 1) {
                state = State.Accept;
                decided = true;
                break;
              }
            }
            if (decided) continue loop; // atov: state stays Start
            state = State.Hope;
            continue loop;
          }
          state = State.Basic;
          continue loop;
        }
        case State.Basic: {
          ++nStep;
          if (nStep >= maxSteps) {
            outcome = GbsOutcome.MaxStepsExceeded;
            break loop;
          }
          kc = k - 1;
          let bad = false;
          for (let j = 1; j <= kc; ++j) {
            midex(j);
            if (atov) { bad = true; break; }
          }
          if (bad) {
            state = State.Start;
            continue loop;
          }
          // convergence monitor
          if (k === 2 || reject) state = State.Convergence;
          else if (err <= 1) state = State.Accept;
          else {
            const q = (NJ[k + 1] * NJ[k]) / 4;
            state = err > q * q ? State.Reject : State.Convergence;
          }
          continue loop;
        }
        case State.Convergence:
          midex(k);
          if (atov) {
            state = State.Start;
            continue loop;
          }
          kc = k;
          state = err <= 1 ? State.Accept : State.Hope;
          continue loop;
        case State.Hope: {
          // hope for convergence in line k + 1
          const q = NJ[k + 1] / 2;
          if (err > q * q) {
            state = State.Reject;
            continue loop;
          }
          kc = k + 1;
          midex(kc);
          if (atov) state = State.Start;
          else if (err > 1) state = State.Reject;
          else state = State.Accept;
          continue loop;
        }
        case State.Accept:
          if (!acceptStep()) {
            outcome = GbsOutcome.EarlyReturn;
            break loop;
          }
          state = State.Start;
          continue loop;
        case State.Reject:
          k = Math.min(k, kc, KM - 1);
          if (k > 2 && w[k - 1] < w[k] * FAC3) k -= 1;
          ++nReject;
          h = posneg * hh[k];
          reject = true;
          state = State.Basic;
          continue loop;
      }
    }
    return { y, outcome, nStep, nAccept, nReject, nEval };
  }
}
