/**
 * Coefficients of the single-neuron gradient flow (IG22 eqs. 3, 5, 10, 16).
 *
 * Neuron φ(x) = v σ̃(λ + b), λ = w·x, with the cubic σ̃(h) = α1 h − (α3/3) h³ (the third-order Taylor
 * polynomial of erf(h/√2) for α1 = √(2/π), α3 = 1/√(2π)).  The per-sample gradient of ½(y − φ)² is
 * −v (y − v σ̃(λ+b)) σ̃'(λ+b) x, so gradient descent moves w along
 *
 *     v F_y(λ) x,   F_y(λ) = (y − v σ̃(λ+b)) σ̃'(λ+b) = Σ_{k=0..5} f_k λ^k   (exactly degree 5).
 *
 * Averaging over inputs that are symmetric under x → −x kills the even powers (E[λ^{2m} x] = 0);
 * E[λ x] = C w and E[λ³ x] = T w⊗3, so to third order
 *
 *     ẇ = (1/M) Σ_μ [ c2^μ C^μ w + c4 T^μ w⊗3 ],   c2^μ = v f_1(y^μ),   c4 = v f_3,
 *
 * and the dropped remainder is v f_5 E[λ⁵ x] with v f_5 = −v² α3²/3 (independent of b and y).
 *
 * Production path (`deriveFlowCoefficients`, `flowPolynomial`): plain arithmetic on closed forms.
 * In h = λ + b,
 *
 *     v F_y = G(h) = v y α1 − v² α1² h − v y α3 h² + (4/3) v² α1 α3 h³ − (v² α3²/3) h⁵,
 *
 * and the λ-coefficients are its Taylor coefficients at h = b, v f_k = G^{(k)}(b)/k!:
 *
 *     k = 0:  v y α1 − v² α1² b − v y α3 b² + (4/3) v² α1 α3 b³ − (1/3) v² α3² b⁵
 *     k = 1:  −v² α1² − 2 v y α3 b + 4 v² α1 α3 b² − (5/3) v² α3² b⁴          (= c2^μ)
 *     k = 2:  −v y α3 + 4 v² α1 α3 b − (10/3) v² α3² b³
 *     k = 3:  (4/3) v² α1 α3 − (10/3) v² α3² b²                                 (= c4)
 *     k = 4:  −(5/3) v² α3² b
 *     k = 5:  −(1/3) v² α3²
 *
 * No mathjs on this path (loading it and deriving symbolically cost ~1–6 s per process and per worker).
 * `deriveFlowCoefficientsSymbolic` is the independent symbolic cross-check: it builds F_y(λ) as a
 * mathjs expression tree, differentiates it in λ (k = 0..6), evaluates f_k = F^{(k)}(0)/k! and checks
 * that the sixth derivative vanishes; mathjs is imported dynamically only when it is called.  The test
 * suite compares the two paths for many random (v, b, y, α1, α3), including b = 0 and v = 0.
 */

export const ALPHA1_ERF = Math.sqrt(2 / Math.PI);
export const ALPHA3_ERF = 1 / Math.sqrt(2 * Math.PI);

export interface CubicActivation {
  /** Linear coefficient α1 (default √(2/π), the erf(h/√2) value). */
  alpha1?: number;
  /** Cubic coefficient α3 in σ̃ = α1 h − (α3/3) h³ (default 1/√(2π)). */
  alpha3?: number;
}

export interface FlowCoefficients {
  v: number;
  b: number;
  alpha1: number;
  alpha3: number;
  /** Labels y^μ, one per class, in the order given. */
  labels: number[];
  /** c2^μ = v f_1(y^μ) per class. */
  c2: number[];
  /** c4 = v f_3 (independent of y). */
  c4: number;
  /**
   * Full polynomial v F_{y^μ}(λ) = Σ_k poly[μ][k] λ^k, k = 0..5, per class (poly[μ][1] = c2^μ,
   * poly[μ][3] = c4, poly[μ][5] = −v² α3²/3; the even ones multiply odd sample moments).
   */
  poly: number[][];
  /** The symbolic forms of c2(v, b, y, a1, a3) and c4(v, b, a1, a3) as mathjs strings. */
  symbolic: { c2: string; c4: string };
}

/** The closed forms of c2 and c4 (REFERENCE.md) as mathjs-syntax strings, reported in `symbolic`. */
export const SYMBOLIC_C2 = "-v * (v * (a1^2 - 4 * a1 * a3 * b^2 + 5/3 * a3^2 * b^4) + 2 * a3 * b * y)";
export const SYMBOLIC_C4 = "v^2 * (4/3 * a1 * a3 - 10/3 * a3^2 * b^2)";

function finiteNum(name: string, x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x)) throw new RangeError(`${name} must be a finite number (got ${String(x)})`);
  return x;
}

type CoefOpts = { v: number; b: number; labels: readonly number[] } & CubicActivation;

function checkOpts(opts: CoefOpts): { v: number; b: number; alpha1: number; alpha3: number; labels: number[] } {
  const v = finiteNum("v", opts.v), b = finiteNum("b", opts.b);
  const alpha1 = finiteNum("alpha1", opts.alpha1 ?? ALPHA1_ERF), alpha3 = finiteNum("alpha3", opts.alpha3 ?? ALPHA3_ERF);
  if (!Array.isArray(opts.labels) || opts.labels.length === 0) throw new RangeError("labels must be a non-empty array");
  const labels = opts.labels.map((y) => finiteNum("label", y));
  return { v, b, alpha1, alpha3, labels };
}

/**
 * The six coefficients of v F_y(λ) = Σ_{k=0..5} p[k] λ^k from the closed forms (module comment).
 * Plain arithmetic, no powers with non-integer or negative exponents, so every finite input (b = 0,
 * v = 0, v < 0, any label) gives finite coefficients unless the b⁵ terms overflow.
 */
export function flowPolynomial(v: number, b: number, y: number, act: CubicActivation = {}): number[] {
  const a1 = act.alpha1 ?? ALPHA1_ERF, a3 = act.alpha3 ?? ALPHA3_ERF;
  const vv = v * v, b2 = b * b;
  const vya1 = v * y * a1, vya3 = v * y * a3, q11 = vv * a1 * a1, q13 = vv * a1 * a3, q33 = vv * a3 * a3;
  return [
    vya1 - q11 * b - vya3 * b2 + (4 / 3) * q13 * b2 * b - (1 / 3) * q33 * b2 * b2 * b,
    -q11 - 2 * vya3 * b + 4 * q13 * b2 - (5 / 3) * q33 * b2 * b2,
    -vya3 + 4 * q13 * b - (10 / 3) * q33 * b2 * b,
    (4 / 3) * q13 - (10 / 3) * q33 * b2,
    -(5 / 3) * q33 * b,
    -(1 / 3) * q33,
  ];
}

function assemble(o: ReturnType<typeof checkOpts>, poly: number[][], symbolic: { c2: string; c4: string }): FlowCoefficients {
  for (const p of poly) {
    if (!p.every(Number.isFinite)) throw new RangeError(`flow coefficients are not finite for v = ${o.v}, b = ${o.b} (overflow): ${p.join(", ")}`);
  }
  return { ...o, c2: poly.map((p) => p[1]), c4: poly[0][3], poly, symbolic };
}

/**
 * c2^μ (one per label), c4 and the full degree-5 polynomial for fixed v and b, from the closed forms
 * (plain TS, ~µs; cross-checked against `deriveFlowCoefficientsSymbolic` in the tests).  Async only
 * for API compatibility with the former symbolic implementation.
 */
export async function deriveFlowCoefficients(opts: CoefOpts): Promise<FlowCoefficients> {
  return flowCoefficientsSync(opts);
}

/** Synchronous form of `deriveFlowCoefficients`. */
export function flowCoefficientsSync(opts: CoefOpts): FlowCoefficients {
  const o = checkOpts(opts);
  const act = { alpha1: o.alpha1, alpha3: o.alpha3 };
  const poly = o.labels.map((y) => flowPolynomial(o.v, o.b, y, act));
  return assemble(o, poly, { c2: SYMBOLIC_C2, c4: SYMBOLIC_C4 });
}

/*
 * Symbolic cross-check.  The powers of (λ + b) are written as products: mathjs's unsimplified power
 * rule turns d^k/dλ^k (λ+b)^n into n(n−1)…(n−k+1)·(λ+b)^(n−k), and for k > n that is 0·(λ+b)^(negative),
 * i.e. 0·∞ = NaN at λ + b = 0 — which made every b = 0 model fail with "sixth λ-derivative is NaN".
 * The product rule never produces negative powers.
 */
const F_EXPR = "v * (y - v * (a1 * (l + b) - a3 / 3 * (l + b) * (l + b) * (l + b))) * (a1 - a3 * (l + b) * (l + b))";

interface Compiled {
  /** Compiled k-th derivatives of v·F in l, k = 0..6. */
  derivs: { evaluate(scope: Record<string, number>): unknown }[];
  c2: string;
  c4: string;
}

let compiled: Promise<Compiled> | undefined;

async function compile(): Promise<Compiled> {
  const math = await import("mathjs");
  let node = math.parse(F_EXPR);
  const derivs: Compiled["derivs"] = [node.compile()];
  const trees = [node];
  for (let k = 1; k <= 6; k++) {
    node = math.derivative(node, "l", { simplify: false });
    trees.push(node);
    derivs.push(node.compile());
  }
  // Human-readable symbolic coefficients: c2 = ∂_l(vF)|₀ and c4 = ∂³_l(vF)|₀ / 3!.
  const at0 = (t: (typeof trees)[number]) => math.simplify(t, { l: 0 }).toString();
  const c2 = at0(trees[1]);
  const c4 = `(${at0(trees[3])}) / 6`;
  return { derivs, c2, c4 };
}

/**
 * The same result as `deriveFlowCoefficients`, derived by symbolic differentiation of
 * v (y − v σ̃(λ+b)) σ̃'(λ+b) in λ with mathjs (loaded on first call, ~1–6 s; trees cached).  For
 * cross-checking the closed forms; `symbolic` holds mathjs's own simplified c2 and c4.
 */
export async function deriveFlowCoefficientsSymbolic(opts: CoefOpts): Promise<FlowCoefficients> {
  const o = checkOpts(opts);
  compiled ??= compile();
  const cc = await compiled;
  const facts = [1, 1, 2, 6, 24, 120, 720];
  const poly: number[][] = [];
  for (const y of o.labels) {
    const scope = { v: o.v, y, b: o.b, a1: o.alpha1, a3: o.alpha3, l: 0 };
    const p: number[] = [];
    for (let k = 0; k <= 5; k++) p.push(Number(cc.derivs[k].evaluate(scope)) / facts[k]);
    const d6 = Number(cc.derivs[6].evaluate(scope));
    const scale = Math.max(1, ...p.map(Math.abs));
    if (!(Math.abs(d6) <= 1e-9 * scale)) throw new Error(`flow coefficients: sixth λ-derivative is ${d6}, expected 0 (polynomial of degree 5)`);
    poly.push(p);
  }
  return assemble(o, poly, { c2: cc.c2, c4: cc.c4 });
}

/** Hand-derived closed forms (REFERENCE.md): c2^μ, c4 and the fifth-order coefficient c6 = v f_5. */
export function closedFormCoefficients(v: number, b: number, y: number, act: CubicActivation = {}): { c2: number; c4: number; c6: number } {
  const a1 = act.alpha1 ?? ALPHA1_ERF, a3 = act.alpha3 ?? ALPHA3_ERF;
  const b2 = b * b;
  return {
    c2: -v * (v * (a1 * a1 - 4 * a1 * a3 * b2 + (5 / 3) * a3 * a3 * b2 * b2) + 2 * a3 * b * y),
    c4: v * v * ((4 / 3) * a1 * a3 - (10 / 3) * a3 * a3 * b2),
    c6: (-v * v * a3 * a3) / 3,
  };
}

/** The cubic activation σ̃(h) = α1 h − (α3/3) h³ and its derivative. */
export function cubicSigma(h: number, a1 = ALPHA1_ERF, a3 = ALPHA3_ERF): number {
  return a1 * h - (a3 / 3) * h * h * h;
}
export function cubicSigmaPrime(h: number, a1 = ALPHA1_ERF, a3 = ALPHA3_ERF): number {
  return a1 - a3 * h * h;
}
