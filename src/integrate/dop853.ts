/**
 * DOP853: the explicit Runge–Kutta method of order 8 (embedded error estimators of orders 5 and 3,
 * twelve stages, first same as last) of Dormand & Prince (1980) in the form of Hairer, Nørsett &
 * Wanner, "Solving Ordinary Differential Equations I", 2nd ed., Springer 1993, Sect. II.10 (the code
 * DOP853), with its continuous extension of order 7 (three more stages).  For smooth non-stiff
 * problems at tight tolerances; e.g. the Saad–Solla order-parameter ODEs (src/theory/saad-solla.ts),
 * where it needs ~30 % fewer RHS evaluations than GBS at rtol 1e-9 with ~100× smaller global error.
 *
 * Step: k_1 = f(t, y) (the last stage of the previous step), k_s = f(t + c_s h, y + h Σ_{j<s} a_sj k_j)
 * for s = 2 … 12, y_new = y + h Σ b_j k_j, then k_13 = f(t + h, y_new) (only for an accepted step: it is
 * the next step's k_1).  Error (Hairer's combined estimator): with e5_i = Σ E5_j k_j,i, e3_i = Σ E3_j k_j,i
 * and sk_i = atol + rtol·max(|y_i|, |y_new,i|),
 *   err = |h| · ‖e5/sk‖² / √(n (‖e5/sk‖² + 0.01 ‖e3/sk‖²)).
 * Step control (dop853.f defaults, β = 0): fac = clamp(err^{1/8} / 0.9, 1/6, 1/0.333), h_new = h/fac;
 * after a rejection the next accepted step does not grow.  Stiffness detection (dop853.f): every
 * 1000th accepted step, and at every step while suspicious, h·λ is estimated from the last two
 * evaluations at t + h, |h|·‖f(y_new) − f(y_12)‖ / ‖y_new − y_12‖ (y_12 the argument of stage 12); 15
 * estimates in a row above 6.1 mark the problem as stiff from there on (six below reset the count).
 * The integration goes on — an explicit method still converges, only slowly — and the solution's
 * message says so (stiff problems belong to rodas, bdf or rkc).
 *
 * Dense output (output times inside a step): y(t_old + θh) = y_old + θ(F0 + (1−θ)(F1 + θ(F2 + (1−θ)(F3
 * + θ(F4 + (1−θ)(F5 + θ F6)))))), with F0 = y_new − y_old, F1 = h k_1 − F0, F2 = 2F0 − h(k_1 + k_13) and
 * F3…F6 = h Σ d_j k_j over the stages and three extra ones (k_14 … k_16, three RHS evaluations), which
 * are computed only for steps that contain an output time.
 *
 * The coefficients are those of Hairer's dop853.f (Dormand–Prince 8(5,3)), here as sparse rows
 * [stage index (0-based: k_1 is 0), coefficient].
 */
import { allFinite, DenseOutputStepper, type AdaptiveSettings } from "./dense.js";
import { RkWork } from "../kernels/rk-combine.js";
import type { Rhs, SolverCarry } from "./types.js";

type Coefs = readonly (readonly [number, number])[];
interface Stage { c: number; a: Coefs }

// Stages k_2 … k_12 (STAGES[0 … 10]), then the dense-output stages k_14 … k_16 (STAGES[11 … 13]).
const STAGES: readonly Stage[] = [
  { c: 0.05260015195876773, a: [[0, 0.05260015195876773]] },
  { c: 0.0789002279381516, a: [[0, 0.0197250569845379], [1, 0.0591751709536137]] },
  { c: 0.1183503419072274, a: [[0, 0.02958758547680685], [2, 0.08876275643042054]] },
  { c: 0.2816496580927726, a: [[0, 0.2413651341592667], [2, -0.8845494793282861], [3, 0.924834003261792]] },
  { c: 0.3333333333333333, a: [[0, 0.037037037037037035], [3, 0.17082860872947386], [4, 0.12546768756682242]] },
  { c: 0.25, a: [[0, 0.037109375], [3, 0.17025221101954405], [4, 0.06021653898045596], [5, -0.017578125]] },
  { c: 0.3076923076923077, a: [[0, 0.03709200011850479], [3, 0.17038392571223998], [4, 0.10726203044637328], [5, -0.015319437748624402], [6, 0.008273789163814023]] },
  { c: 0.6512820512820513, a: [[0, 0.6241109587160757], [3, -3.3608926294469414], [4, -0.868219346841726], [5, 27.59209969944671], [6, 20.154067550477894], [7, -43.48988418106996]] },
  { c: 0.6, a: [[0, 0.47766253643826434], [3, -2.4881146199716677], [4, -0.590290826836843], [5, 21.230051448181193], [6, 15.279233632882423], [7, -33.28821096898486], [8, -0.020331201708508627]] },
  { c: 0.8571428571428571, a: [[0, -0.9371424300859873], [3, 5.186372428844064], [4, 1.0914373489967295], [5, -8.149787010746927], [6, -18.52006565999696], [7, 22.739487099350505], [8, 2.4936055526796523], [9, -3.0467644718982196]] },
  { c: 1.0, a: [[0, 2.273310147516538], [3, -10.53449546673725], [4, -2.0008720582248625], [5, -17.9589318631188], [6, 27.94888452941996], [7, -2.8589982771350235], [8, -8.87285693353063], [9, 12.360567175794303], [10, 0.6433927460157636]] },
  { c: 0.1, a: [[0, 0.056167502283047954], [6, 0.25350021021662483], [7, -0.2462390374708025], [8, -0.12419142326381637], [9, 0.15329179827876568], [10, 0.00820105229563469], [11, 0.007567897660545699], [12, -0.008298]] },
  { c: 0.2, a: [[0, 0.03183464816350214], [5, 0.028300909672366776], [6, 0.053541988307438566], [7, -0.05492374857139099], [10, -0.00010834732869724932], [11, 0.0003825710908356584], [12, -0.00034046500868740456], [13, 0.1413124436746325]] },
  { c: 0.7777777777777778, a: [[0, -0.42889630158379194], [5, -4.697621415361164], [6, 7.683421196062599], [7, 4.06898981839711], [8, 0.3567271874552811], [12, -0.0013990241651590145], [13, 2.9475147891527724], [14, -9.15095847217987]] },
];
const B: Coefs = [[0, 0.054293734116568765], [5, 4.450312892752409], [6, 1.8915178993145003], [7, -5.801203960010585], [8, 0.3111643669578199], [9, -0.1521609496625161], [10, 0.20136540080403034], [11, 0.04471061572777259]];
const E3: Coefs = [[0, -0.18980075407240762], [5, 4.450312892752409], [6, 1.8915178993145003], [7, -5.801203960010585], [8, -0.4226823213237919], [9, -0.1521609496625161], [10, 0.20136540080403034], [11, 0.02265179219836082]];
const E5: Coefs = [[0, 0.01312004499419488], [5, -1.2251564463762044], [6, -0.4957589496572502], [7, 1.6643771824549864], [8, -0.35032884874997366], [9, 0.3341791187130175], [10, 0.08192320648511571], [11, -0.022355307863886294]];
const DENSE: readonly Coefs[] = [
  [[0, -8.428938276109013], [5, 0.5667149535193777], [6, -3.0689499459498917], [7, 2.38466765651207], [8, 2.117034582445028], [9, -0.871391583777973], [10, 2.2404374302607883], [11, 0.6315787787694688], [12, -0.08899033645133331], [13, 18.148505520854727], [14, -9.194632392478356], [15, -4.436036387594894]],
  [[0, 10.427508642579134], [5, 242.28349177525817], [6, 165.20045171727028], [7, -374.5467547226902], [8, -22.113666853125306], [9, 7.733432668472264], [10, -30.674084731089398], [11, -9.332130526430229], [12, 15.697238121770845], [13, -31.139403219565178], [14, -9.35292435884448], [15, 35.81684148639408]],
  [[0, 19.985053242002433], [5, -387.0373087493518], [6, -189.17813819516758], [7, 527.8081592054236], [8, -11.57390253995963], [9, 6.8812326946963], [10, -1.0006050966910838], [11, 0.7777137798053443], [12, -2.778205752353508], [13, -60.19669523126412], [14, 84.32040550667716], [15, 11.99229113618279]],
  [[0, -25.69393346270375], [5, -154.18974869023643], [6, -231.5293791760455], [7, 357.6391179106141], [8, 93.40532418362432], [9, -37.45832313645163], [10, 104.0996495089623], [11, 29.8402934266605], [12, -43.53345659001114], [13, 96.32455395918828], [14, -39.17726167561544], [15, -149.72683625798564]],
];

const N_MAIN = 11;
/** Step-size control (dop853.f): safety 0.9, 1/6 ≤ h_new/h·… as fac bounds, exponent 1/8. */
const SAFE = 0.9, FAC_MIN = 1 / 6, FAC_MAX = 1 / 0.333, EXPO = 1 / 8;
/** Stiffness detection (dop853.f defaults): test every NSTIFF accepted steps; h·λ above HLAMB_STIFF. */
const NSTIFF = 1000, HLAMB_STIFF = 6.1;

/** Rows of the work block: k_1 … k_16, y_new, the stage argument, the two error estimates, y_old, F0 … F6, y_n. */
const ROW_K = 0, ROW_YNEW = 16, ROW_TMP = 17, ROW_E5 = 18, ROW_E3 = 19, ROW_YOLD = 20, ROW_F = 21, ROW_YN = 28, ROWS = 29;

/** A combination's terms as arrays and coefficients (resolved once per stepper). */
interface Terms { ks: Float64Array[]; cs: Float64Array }

export class Dop853Stepper extends DenseOutputStepper {
  private readonly rtol: number;
  private readonly atol: number;
  private readonly hMax: number;
  /** Step size to try next. */
  private h = NaN;
  private readonly work: RkWork;
  /** k_1 … k_16 (index 12 = k_13 = f at the end of the step). */
  private readonly k: Float64Array[];
  private readonly ynew: Float64Array;
  private readonly tmp: Float64Array;
  private readonly e5: Float64Array;
  private readonly e3: Float64Array;
  /** Dense output of the last accepted step: start, size, y_old, and F0 … F6 once computed. */
  private tOld = NaN;
  private hLast = NaN;
  private readonly yOld: Float64Array;
  private readonly F: Float64Array[];
  private denseReady = false;
  /** Stiffness detection: consecutive stiff / non-stiff estimates, and where it was first declared. */
  private iasti = 0;
  private nonsti = 0;
  private stiffAt = NaN;
  private readonly stages: Terms[];
  private readonly bTerms: Terms;
  private readonly e5Terms: Terms;
  private readonly e3Terms: Terms;
  private readonly denseTerms: Terms[];

  constructor(rhs: Rhs, y0: Float64Array, t0: number, s: AdaptiveSettings) {
    const work = new RkWork(y0.length, ROWS);
    super(rhs, y0, t0, s.tEnd, s.maxSteps, work.row(ROW_YN));
    this.work = work;
    this.rtol = s.rtol;
    this.atol = s.atol;
    this.hMax = s.hMax;
    if (s.h0 !== undefined) this.h = s.h0;
    if (s.carry?.h !== undefined && s.carry.h > 0 && Number.isFinite(s.carry.h)) this.h = s.carry.h;
    const row = (r: number) => work.row(r);
    const k = Array.from({ length: 16 }, (_, j) => row(ROW_K + j));
    this.k = k;
    this.ynew = row(ROW_YNEW);
    this.tmp = row(ROW_TMP);
    this.e5 = row(ROW_E5);
    this.e3 = row(ROW_E3);
    this.yOld = row(ROW_YOLD);
    this.F = Array.from({ length: 7 }, (_, j) => row(ROW_F + j));
    const terms = (a: Coefs): Terms => ({ ks: a.map(([j]) => k[j]), cs: Float64Array.from(a, ([, c]) => c) });
    this.stages = STAGES.map((st) => terms(st.a));
    this.bTerms = terms(B);
    this.e5Terms = terms(E5);
    this.e3Terms = terms(E3);
    this.denseTerms = DENSE.map(terms);
  }

  /** Free the work block held in the kernels' memory (the stepper must not be used afterwards). */
  release(): void {
    this.work.release();
  }

  saveCarry(c: SolverCarry): void {
    if (Number.isFinite(this.h) && this.h > 0) c.h = this.h;
  }

  saveState(): Record<string, unknown> {
    const s: Record<string, unknown> = {
      ...this.baseState(), h: this.h, tOld: this.tOld, hLast: this.hLast,
      yOld: this.yOld.slice(), denseReady: this.denseReady, iasti: this.iasti, nonsti: this.nonsti, stiffAt: this.stiffAt,
    };
    // A checkpoint is taken at an output time: inside a step the dense output was needed (and is
    // ready); at the end of a step nothing of the old step is needed.  Keep the stages otherwise.
    if (this.denseReady) s.F = this.F.map((f) => f.slice());
    else if (this.t < this.tn) s.k = this.k.slice(0, 13).map((f) => f.slice());
    return s;
  }

  restoreState(s: Record<string, unknown>): void {
    this.restoreBase(s);
    this.h = s.h as number;
    this.tOld = s.tOld as number;
    this.hLast = s.hLast as number;
    this.yOld.set(s.yOld as Float64Array);
    this.denseReady = s.denseReady as boolean;
    this.iasti = s.iasti as number;
    this.nonsti = s.nonsti as number;
    this.stiffAt = s.stiffAt as number;
    if (s.F) (s.F as Float64Array[]).forEach((f, i) => this.F[i].set(f));
    if (s.k) (s.k as Float64Array[]).forEach((f, i) => this.k[i].set(f));
  }

  /** The stiffness diagnostic for the solution's message. */
  note(): string | undefined {
    return Number.isNaN(this.stiffAt) ? undefined : `dop853: the problem appears stiff from t = ${this.stiffAt} (rodas, bdf or rkc may need far fewer RHS)`;
  }

  /** dop853.f's stiffness test after the accepted step from t of size h (k_13 and y_new in place). */
  private stiffnessTest(t: number, h: number): void {
    const { n, k, ynew, tmp } = this;
    const k12 = k[11], k13 = k[12];
    let stnum = 0, stden = 0;
    for (let i = 0; i < n; i++) {
      const a = k13[i] - k12[i], b = ynew[i] - tmp[i];
      stnum += a * a;
      stden += b * b;
    }
    if (!(stden > 0)) return;
    if (Math.abs(h) * Math.sqrt(stnum / stden) > HLAMB_STIFF) {
      this.nonsti = 0;
      if (++this.iasti === 15 && Number.isNaN(this.stiffAt)) this.stiffAt = t;
    } else if (++this.nonsti === 6) {
      this.iasti = 0;
    }
  }

  /** out = base + h·Σ_j c_j k_j (base null: h·Σ …) on the work block. */
  private combine(base: Float64Array | null, h: number, t: Terms, out: Float64Array): void {
    this.work.combine(base, h, t.ks, t.cs, out);
  }

  protected interpolate(T: number, out: Float64Array): void {
    if (!this.denseReady) this.dense();
    const { yOld, F, n } = this;
    const [F0, F1, F2, F3, F4, F5, F6] = F;
    const s = (T - this.tOld) / this.hLast;
    const s1 = 1 - s;
    for (let i = 0; i < n; i++) {
      out[i] = yOld[i] + s * (F0[i] + s1 * (F1[i] + s * (F2[i] + s1 * (F3[i] + s * (F4[i] + s1 * (F5[i] + s * F6[i]))))));
    }
  }

  /** The continuous extension of the last step: stages k_14 … k_16 and F0 … F6. */
  private dense(): void {
    const { n, k, yOld, F, tmp } = this;
    const h = this.hLast;
    for (let s = N_MAIN; s < STAGES.length; s++) {
      const st = STAGES[s];
      this.combine(yOld, h, this.stages[s], tmp);
      this.rhs(this.tOld + st.c * h, tmp, k[s + 2]);
      this.nRhs++;
    }
    const k1 = k[0], k13 = k[12];
    const [F0, F1, F2] = F;
    for (let i = 0; i < n; i++) {
      const d = this.yn[i] - yOld[i];
      F0[i] = d;
      F1[i] = h * k1[i] - d;
      F2[i] = 2 * d - h * (k13[i] + k1[i]);
    }
    for (let r = 0; r < 4; r++) this.combine(null, h, this.denseTerms[r], F[3 + r]);
    this.denseReady = true;
  }

  protected stepOnce(): void {
    const { n, yn, rhs, k, ynew, tmp, rtol, atol } = this;
    const t = this.tn;
    const f0 = this.fAtTn();
    if (!allFinite(yn) || !allFinite(f0)) this.fail("state became NaN/Inf");
    if (!Number.isFinite(this.h)) this.h = this.initialStep(8, rtol, atol, this.hMax, f0);
    k[0].set(f0);
    let rejected = false;
    let nanRetries = 0;
    for (;;) {
      const { h, last } = this.attemptStep(this.h, this.hMax);
      for (let s = 0; s < N_MAIN; s++) {
        const st = STAGES[s];
        this.combine(yn, h, this.stages[s], tmp);
        rhs(t + st.c * h, tmp, k[s + 1]);
      }
      this.nRhs += N_MAIN;
      this.combine(yn, h, this.bTerms, ynew);
      // The error estimators (they do not use k_13, so a rejected step costs 11 RHS).
      const { e5, e3 } = this;
      this.combine(null, 1, this.e5Terms, e5);
      this.combine(null, 1, this.e3Terms, e3);
      let s5 = 0, s3 = 0;
      for (let i = 0; i < n; i++) {
        const sk = atol + rtol * Math.max(Math.abs(yn[i]), Math.abs(ynew[i]));
        const q5 = e5[i] / sk, q3 = e3[i] / sk;
        s5 += q5 * q5;
        s3 += q3 * q3;
      }
      let deno = s5 + 0.01 * s3;
      if (deno <= 0) deno = 1;
      const err = Math.abs(h) * s5 * Math.sqrt(1 / (n * deno));

      const fac11 = Math.pow(err, EXPO);
      if (!(err <= 1)) {
        rejected = true;
        [this.h, nanRetries] = this.retryStep(h, err, h / Math.min(FAC_MAX, fac11 / SAFE), nanRetries);
        continue;
      }

      // Accepted: k_13 = f(t + h, y_new), the next step's k_1.
      const tNew = last ? this.tEnd : t + h;
      rhs(tNew, ynew, k[12]);
      this.nRhs++;
      // tmp still holds stage 12's argument y_12 (c_12 = 1: evaluated at t + h like k_13).
      if ((this.nSteps + 1) % NSTIFF === 0 || this.iasti > 0) this.stiffnessTest(t, h);
      const fac = Math.max(FAC_MIN, Math.min(FAC_MAX, fac11 / SAFE));
      let hNew = h / fac;
      if (rejected) hNew = Math.min(hNew, h);
      // A last step cut short to land on tEnd says little about the local step size.
      if (last && hNew < this.h) hNew = this.h;
      this.yOld.set(yn);
      this.tOld = t;
      yn.set(ynew);
      this.tn = tNew;
      this.hLast = h;
      this.fn.set(k[12]);
      this.fnValid = true;
      this.denseReady = false;
      this.h = hNew;
      this.nSteps++;
      return;
    }
  }
}
