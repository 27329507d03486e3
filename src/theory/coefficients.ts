/**
 * Coefficients of the single-neuron gradient flow (IG22 eqs. 3, 5, 10, 16), derived symbolically.
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
 * `deriveFlowCoefficients` builds F_y(λ) as a mathjs expression tree with symbols v, y, b, a1, a3, l,
 * differentiates it symbolically in l (k = 0..6) and evaluates f_k = F^{(k)}(0)/k! at the requested
 * numbers; the sixth derivative is checked to vanish (degree 5).  `closedFormCoefficients` gives the
 * hand-derived closed forms (REFERENCE.md, IG22 Methods with v = 1) used as an independent check.
 * mathjs is imported lazily (it takes ~1–2 s to load) and the derivative trees are cached.
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

/*
 * The powers of (λ + b) are written as products: mathjs's unsimplified power rule turns
 * d^k/dλ^k (λ+b)^n into n(n−1)…(n−k+1)·(λ+b)^(n−k), and for k > n that is 0·(λ+b)^(negative),
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

function finiteNum(name: string, x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x)) throw new RangeError(`${name} must be a finite number (got ${String(x)})`);
  return x;
}

/**
 * Derive c2^μ (one per label) and c4 for fixed v and b by symbolic differentiation of
 * v (y − v σ̃(λ+b)) σ̃'(λ+b) in λ.  Returns plain numbers.
 */
export async function deriveFlowCoefficients(opts: { v: number; b: number; labels: readonly number[] } & CubicActivation): Promise<FlowCoefficients> {
  const v = finiteNum("v", opts.v), b = finiteNum("b", opts.b);
  const alpha1 = finiteNum("alpha1", opts.alpha1 ?? ALPHA1_ERF), alpha3 = finiteNum("alpha3", opts.alpha3 ?? ALPHA3_ERF);
  if (!Array.isArray(opts.labels) || opts.labels.length === 0) throw new RangeError("labels must be a non-empty array");
  compiled ??= compile();
  const cc = await compiled;
  const poly: number[][] = [];
  let fact = 1;
  const facts = [1];
  for (let k = 1; k <= 6; k++) facts.push((fact *= k));
  for (const yRaw of opts.labels) {
    const y = finiteNum("label", yRaw);
    const scope = { v, y, b, a1: alpha1, a3: alpha3, l: 0 };
    const p: number[] = [];
    for (let k = 0; k <= 5; k++) p.push(Number(cc.derivs[k].evaluate(scope)) / facts[k]);
    const d6 = Number(cc.derivs[6].evaluate(scope));
    const scale = Math.max(1, ...p.map(Math.abs));
    if (!(Math.abs(d6) <= 1e-9 * scale)) throw new Error(`flow coefficients: sixth λ-derivative is ${d6}, expected 0 (polynomial of degree 5)`);
    poly.push(p);
  }
  return {
    v, b, alpha1, alpha3,
    labels: [...opts.labels],
    c2: poly.map((p) => p[1]),
    c4: poly[0][3],
    poly,
    symbolic: { c2: cc.c2, c4: cc.c4 },
  };
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
