import { describe, expect, it } from "vitest";
import { Matrix, QrDecomposition, solve } from "ml-matrix";
import {
  lbfgs,
  lineSearchStrongWolfe,
  type LineEval,
  type LineFunction,
  type ObjectiveWithGradient,
} from "../src/optim/lbfgs.js";
import { checkGradient, numericalGradient } from "../src/optim/gradcheck.js";

// ---------------------------------------------------------------------------------------------
// Test problems
// ---------------------------------------------------------------------------------------------

/** Deterministic uniform(−1, 1) generator (LCG), independent of other modules. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296) * 2 - 1;
  };
}

/** Extended Rosenbrock (n even): Σ 100(x_{2i} − x_{2i−1}²)² + (1 − x_{2i−1})². */
const rosenbrock: ObjectiveWithGradient = (x, g) => {
  let f = 0;
  g.fill(0);
  for (let i = 0; i + 1 < x.length; i += 2) {
    const a = x[i];
    const b = x[i + 1];
    const t1 = b - a * a;
    const t2 = 1 - a;
    f += 100 * t1 * t1 + t2 * t2;
    g[i] += -400 * a * t1 - 2 * t2;
    g[i + 1] += 200 * t1;
  }
  return f;
};

/** Beale: minimum 0 at (3, 0.5). */
const beale: ObjectiveWithGradient = (x, g) => {
  const [a, b] = [x[0], x[1]];
  const c = [1.5, 2.25, 2.625];
  let f = 0;
  g[0] = 0;
  g[1] = 0;
  for (let k = 1; k <= 3; k++) {
    const r = c[k - 1] - a + a * b ** k;
    f += r * r;
    g[0] += 2 * r * (b ** k - 1);
    g[1] += 2 * r * a * k * b ** (k - 1);
  }
  return f;
};

/** Powell singular: minimum 0 at the origin (Hessian singular there). */
const powell: ObjectiveWithGradient = (x, g) => {
  const [x1, x2, x3, x4] = [x[0], x[1], x[2], x[3]];
  const a = x1 + 10 * x2;
  const b = x3 - x4;
  const c = x2 - 2 * x3;
  const d = x1 - x4;
  g[0] = 2 * a + 40 * d ** 3;
  g[1] = 20 * a + 4 * c ** 3;
  g[2] = 10 * b - 8 * c ** 3;
  g[3] = -10 * b - 40 * d ** 3;
  return a * a + 5 * b * b + c ** 4 + 10 * d ** 4;
};

/** Random SPD matrix with eigenvalues log-spaced in [1, cond]. */
function spdMatrix(n: number, cond: number, seed: number): Matrix {
  const rnd = lcg(seed);
  const R = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) R.set(i, j, rnd());
  const Q = new QrDecomposition(R).orthogonalMatrix;
  const D = Matrix.zeros(n, n);
  for (let i = 0; i < n; i++) D.set(i, i, cond ** (i / (n - 1)));
  const A = Q.mmul(D).mmul(Q.transpose());
  // Symmetrise exactly.
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (A.get(i, j) + A.get(j, i));
      A.set(i, j, v);
      A.set(j, i, v);
    }
  return A;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ---------------------------------------------------------------------------------------------
// L-BFGS on standard problems
// ---------------------------------------------------------------------------------------------

describe("lbfgs: standard test functions", () => {
  it("Rosenbrock 2-D from (−1.2, 1) reaches (1, 1) to 1e-6 in < 60 iterations", () => {
    const r = lbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { gtol: 1e-10, ftol: 0 });
    expect(r.status).toBe("gtol");
    expect(maxAbsDiff(r.x, [1, 1])).toBeLessThan(1e-6);
    expect(r.f).toBeLessThan(1e-12);
    expect(r.iterations).toBeLessThan(60);
    expect(r.evaluations).toBeLessThan(100);
    // Returned gradient matches the returned point.
    const g = new Float64Array(2);
    expect(rosenbrock(Float64Array.from(r.x), g)).toBe(r.f);
    expect(maxAbsDiff(g, r.g)).toBe(0);
  });

  it("extended Rosenbrock n = 100 reaches all-ones", () => {
    const n = 100;
    const x0 = new Float64Array(n);
    for (let i = 0; i < n; i += 2) {
      x0[i] = -1.2;
      x0[i + 1] = 1;
    }
    const r = lbfgs(rosenbrock, x0, { gtol: 1e-10, ftol: 0 });
    expect(r.status).toBe("gtol");
    expect(maxAbsDiff(r.x, new Float64Array(n).fill(1))).toBeLessThan(1e-6);
    expect(r.iterations).toBeLessThan(150);
    // x0 untouched.
    expect(x0[0]).toBe(-1.2);
  });

  it("ill-conditioned quadratic (n = 50, κ = 1e4) matches the exact solve", () => {
    const n = 50;
    const A = spdMatrix(n, 1e4, 7);
    const rnd = lcg(11);
    const bArr = Array.from({ length: n }, () => rnd());
    const xStar = solve(A, Matrix.columnVector(bArr)).to1DArray();
    const Ad = A.to2DArray().map((row) => Float64Array.from(row));
    const fg: ObjectiveWithGradient = (x, g) => {
      let f = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        const row = Ad[i];
        for (let j = 0; j < n; j++) s += row[j] * x[j];
        g[i] = s - bArr[i];
        f += 0.5 * x[i] * s - bArr[i] * x[i];
      }
      return f;
    };
    // gtol 1e-8 is below the noise floor of f here (scipy's L-BFGS-B stops "ABNORMAL" at
    // ‖g‖ ≈ 2e-6): reaching it relies on the approximate-Wolfe acceptance.
    const r = lbfgs(fg, new Float64Array(n), { gtol: 1e-8, ftol: 0 });
    expect(r.status).toBe("gtol");
    let num = 0;
    let den = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      num += (r.x[i] - xStar[i]) ** 2;
      den += xStar[i] ** 2;
      g2 += r.g[i] ** 2;
    }
    const relErr = Math.sqrt(num / den);
    // ‖x − x*‖ ≤ ‖A⁻¹‖‖g‖ = ‖g‖ (λ_min = 1): the error must be consistent with the gradient.
    expect(Math.sqrt(num)).toBeLessThanOrEqual(Math.sqrt(g2) * 1.000001);
    expect(relErr).toBeLessThan(1e-7);
    expect(r.iterations).toBeLessThan(1200);
    // Without approximate Wolfe the line search stalls at the noise floor of f, as in scipy.
    const strict = lbfgs(fg, new Float64Array(n), { gtol: 1e-8, ftol: 0, lineSearch: { approxTol: 0 } });
    expect(strict.status).toBe("lineSearchFailed");
    expect(Math.max(...strict.g.map(Math.abs))).toBeGreaterThan(1e-8);
    expect(strict.f).toBeGreaterThan(r.f);
  });

  it("Beale from (1, 1) reaches (3, 0.5)", () => {
    const r = lbfgs(beale, Float64Array.from([1, 1]), { gtol: 1e-10, ftol: 0 });
    expect(r.status).toBe("gtol");
    expect(maxAbsDiff(r.x, [3, 0.5])).toBeLessThan(1e-6);
    expect(r.iterations).toBeLessThan(50);
  });

  it("Powell singular from (3, −1, 0, 1) reaches the origin", () => {
    const r = lbfgs(powell, Float64Array.from([3, -1, 0, 1]), { gtol: 1e-9, ftol: 0 });
    expect(r.status).toBe("gtol");
    expect(r.f).toBeLessThan(1e-10);
    // Singular Hessian: x converges only like f^(1/4).
    expect(maxAbsDiff(r.x, [0, 0, 0, 0])).toBeLessThan(5e-3);
    expect(r.iterations).toBeLessThan(150);
  });

  it("every iteration strictly decreases f and only accepted points are reported", () => {
    const fs: number[] = [];
    const r = lbfgs(rosenbrock, Float64Array.from([-1.2, 1]), {
      gtol: 1e-10,
      onIter: (_it, f) => {
        fs.push(f);
      },
    });
    expect(fs.length).toBe(r.iterations);
    let prev = 24.2; // f(−1.2, 1)
    for (const f of fs) {
      expect(f).toBeLessThan(prev);
      prev = f;
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness, stopping rules, buffers
// ---------------------------------------------------------------------------------------------

describe("lbfgs: robustness and stopping", () => {
  it("NaN beyond a radius: backtracks and still converges", () => {
    // f = 50‖x − c‖², NaN outside ‖x‖ < 0.5; the first unit-length step leaves the ball.
    const n = 5;
    const c = Float64Array.from([0.3, -0.1, 0.05, 0.2, -0.15]);
    let nanCalls = 0;
    const fg: ObjectiveWithGradient = (x, g) => {
      let r2 = 0;
      for (let i = 0; i < n; i++) r2 += x[i] * x[i];
      if (r2 > 0.25) {
        nanCalls++;
        g.fill(NaN);
        return NaN;
      }
      let f = 0;
      for (let i = 0; i < n; i++) {
        g[i] = 100 * (x[i] - c[i]);
        f += 50 * (x[i] - c[i]) ** 2;
      }
      return f;
    };
    const x0 = Float64Array.from([-0.2, 0.2, -0.2, -0.1, 0.1]);
    const r = lbfgs(fg, x0, { gtol: 1e-10 });
    expect(nanCalls).toBeGreaterThan(0);
    expect(r.status).toBe("gtol");
    expect(Number.isFinite(r.f)).toBe(true);
    expect(maxAbsDiff(r.x, c)).toBeLessThan(1e-9);
  });

  it("log barrier (NaN outside the unit ball, minimum near the boundary)", () => {
    // f = ‖x − a‖² − μ log(1 − ‖x‖²) with ‖a‖ = 2: minimiser on the ray of a, inside the ball.
    const n = 10;
    const mu = 1e-3;
    const a = new Float64Array(n).fill(2 / Math.sqrt(n));
    let nonFinite = 0;
    const fg: ObjectiveWithGradient = (x, g) => {
      let r2 = 0;
      for (let i = 0; i < n; i++) r2 += x[i] * x[i];
      const t = 1 - r2;
      const f = -mu * Math.log(t) + x.reduce((s, xi, i) => s + (xi - a[i]) ** 2, 0);
      for (let i = 0; i < n; i++) g[i] = 2 * (x[i] - a[i]) + (2 * mu * x[i]) / t;
      if (!Number.isFinite(f)) nonFinite++;
      return f;
    };
    const r = lbfgs(fg, new Float64Array(n), { gtol: 1e-9, ftol: 0 });
    expect(nonFinite).toBeGreaterThan(0);
    expect(r.status).toBe("gtol");
    // Stationarity along the ray x = ρ a/‖a‖:  2(ρ − 2) + 2μρ/(1 − ρ²) = 0.
    const rho = Math.hypot(...r.x);
    expect(Math.abs(2 * (rho - 2) + (2 * mu * rho) / (1 - rho * rho))).toBeLessThan(1e-6);
    expect(rho).toBeLessThan(1);
    expect(rho).toBeGreaterThan(0.95);
  });

  it("Inf objective is treated like NaN", () => {
    const fg: ObjectiveWithGradient = (x, g) => {
      if (Math.abs(x[0]) > 2) {
        g[0] = 0;
        return Infinity;
      }
      g[0] = 2 * (x[0] - 1.5);
      return (x[0] - 1.5) ** 2;
    };
    const r = lbfgs(fg, Float64Array.from([-1.9]), { gtol: 1e-12 });
    expect(r.status).toBe("gtol");
    expect(Math.abs(r.x[0] - 1.5)).toBeLessThan(1e-10);
  });

  it("throws on a non-finite starting point", () => {
    const fg: ObjectiveWithGradient = (_x, g) => {
      g[0] = 0;
      return NaN;
    };
    expect(() => lbfgs(fg, Float64Array.from([0]))).toThrow(/not finite/);
  });

  it("already optimal: zero iterations", () => {
    const r = lbfgs(rosenbrock, Float64Array.from([1, 1]));
    expect(r.status).toBe("gtol");
    expect(r.iterations).toBe(0);
    expect(r.evaluations).toBe(1);
  });

  it("maxIter, maxEvals, onIter=false and ftol stop as documented", () => {
    const x0 = Float64Array.from([-1.2, 1]);
    const a = lbfgs(rosenbrock, x0, { maxIter: 5 });
    expect(a.status).toBe("maxIter");
    expect(a.iterations).toBe(5);
    const b = lbfgs(rosenbrock, x0, { maxEvals: 7 });
    expect(b.status).toBe("maxEvals");
    expect(b.evaluations).toBeLessThanOrEqual(7);
    const c = lbfgs(rosenbrock, x0, { onIter: (it) => it < 3 });
    expect(c.status).toBe("stopped");
    expect(c.iterations).toBe(3);
    const d = lbfgs(rosenbrock, x0, { gtol: 0, ftol: 1e-3 });
    expect(d.status).toBe("ftol");
    expect(d.f).toBeLessThan(24.2);
  });

  it("line search failure is reported (gradient inconsistent with f)", () => {
    // Gradient has the wrong sign: no descent is possible along −g.
    const fg: ObjectiveWithGradient = (x, g) => {
      g[0] = -2 * x[0];
      return x[0] * x[0];
    };
    const r = lbfgs(fg, Float64Array.from([1]));
    expect(r.status).toBe("lineSearchFailed");
    expect(r.x[0]).toBe(1);
    expect(r.f).toBe(1);
  });

  it("does not allocate new point/gradient buffers per evaluation", () => {
    const xs = new Set<Float64Array>();
    const gs = new Set<Float64Array>();
    const fg: ObjectiveWithGradient = (x, g) => {
      xs.add(x);
      gs.add(g);
      return rosenbrock(x, g);
    };
    const x0 = new Float64Array(20);
    const r = lbfgs(fg, x0, { gtol: 1e-8 });
    expect(r.evaluations).toBeGreaterThan(20);
    expect(xs.size).toBeLessThanOrEqual(2);
    expect(gs.size).toBeLessThanOrEqual(2);
  });

  it("m = 1 and m = 30 both converge on Rosenbrock", () => {
    for (const m of [1, 30]) {
      const r = lbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { m, gtol: 1e-9, ftol: 0 });
      expect(r.status).toBe("gtol");
      expect(maxAbsDiff(r.x, [1, 1])).toBeLessThan(1e-6);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Line search
// ---------------------------------------------------------------------------------------------

describe("lineSearchStrongWolfe (Moré–Thuente 1994 test functions)", () => {
  type Case = { name: string; phi: (a: number) => [number, number]; c1: number; c2: number };
  const gammaMT = (b: number) => Math.sqrt(1 + b * b) - b;
  const yanai = (b1: number, b2: number) => (a: number): [number, number] => {
    const g1 = gammaMT(b1);
    const g2 = gammaMT(b2);
    const s1 = Math.sqrt((1 - a) ** 2 + b2 * b2);
    const s2 = Math.sqrt(a * a + b1 * b1);
    return [g1 * s1 + g2 * s2, (-g1 * (1 - a)) / s1 + (g2 * a) / s2];
  };
  const cases: Case[] = [
    {
      name: "φ = −α/(α²+β), β = 2",
      phi: (a) => [-a / (a * a + 2), (a * a - 2) / (a * a + 2) ** 2],
      c1: 1e-3,
      c2: 0.1,
    },
    {
      name: "φ = (α+β)⁵ − 2(α+β)⁴, β = 0.004",
      phi: (a) => {
        const t = a + 0.004;
        return [t ** 5 - 2 * t ** 4, 5 * t ** 4 - 8 * t ** 3];
      },
      c1: 0.1,
      c2: 0.1,
    },
    {
      name: "wiggly φ₀ + sin, β = 0.01, l = 39",
      phi: (a) => {
        const b = 0.01;
        const l = 39;
        let p0: number;
        let d0: number;
        if (a <= 1 - b) {
          p0 = 1 - a;
          d0 = -1;
        } else if (a >= 1 + b) {
          p0 = a - 1;
          d0 = 1;
        } else {
          p0 = (a - 1) ** 2 / (2 * b) + b / 2;
          d0 = (a - 1) / b;
        }
        const k = (l * Math.PI) / 2;
        return [p0 + ((2 * (1 - b)) / (l * Math.PI)) * Math.sin(k * a), d0 + (1 - b) * Math.cos(k * a)];
      },
      c1: 0.1,
      c2: 0.1,
    },
    { name: "Yanai (1e-3, 1e-3)", phi: yanai(1e-3, 1e-3), c1: 1e-3, c2: 1e-3 },
    { name: "Yanai (1e-2, 1e-3)", phi: yanai(1e-2, 1e-3), c1: 1e-3, c2: 1e-3 },
    { name: "Yanai (1e-3, 1e-2)", phi: yanai(1e-3, 1e-2), c1: 1e-3, c2: 1e-3 },
  ];
  for (const cs of cases) {
    for (const a0 of [1e-3, 1e-1, 10, 1e3]) {
      it(`${cs.name}, α₀ = ${a0}`, () => {
        const [p0, d0] = cs.phi(0);
        expect(d0).toBeLessThan(0);
        const fn: LineFunction = (a, out: LineEval) => {
          const [p, d] = cs.phi(a);
          out.phi = p;
          out.dphi = d;
        };
        const r = lineSearchStrongWolfe(fn, p0, d0, a0, {
          c1: cs.c1,
          c2: cs.c2,
          maxEvals: 40,
          approxTol: 0, // demand the exact strong Wolfe conditions
        });
        expect(r.status).toBe("converged");
        expect(r.lastAlpha).toBe(r.alpha);
        const [p, d] = cs.phi(r.alpha);
        expect(r.phi).toBe(p);
        expect(r.dphi).toBe(d);
        expect(r.alpha).toBeGreaterThan(0);
        // Sufficient decrease and strong curvature.
        expect(p).toBeLessThanOrEqual(p0 + cs.c1 * r.alpha * d0);
        expect(Math.abs(d)).toBeLessThanOrEqual(cs.c2 * Math.abs(d0));
        expect(r.evaluations).toBeLessThanOrEqual(20);
      });
    }
  }

  it("NaN beyond α = 0.3 is backtracked", () => {
    // φ = (α − 0.25)², NaN for α > 0.3; start at α₀ = 10.
    const fn: LineFunction = (a, out) => {
      out.phi = a > 0.3 ? NaN : (a - 0.25) ** 2;
      out.dphi = a > 0.3 ? NaN : 2 * (a - 0.25);
    };
    const r = lineSearchStrongWolfe(fn, 0.0625, -0.5, 10, { c2: 0.1 });
    expect(r.status).toBe("converged");
    expect(r.alpha).toBeLessThanOrEqual(0.3);
    expect(Math.abs(2 * (r.alpha - 0.25))).toBeLessThanOrEqual(0.1 * 0.5);
  });

  it("reports notDescent for an ascent direction", () => {
    const fn: LineFunction = (a, out) => {
      out.phi = a;
      out.dphi = 1;
    };
    expect(lineSearchStrongWolfe(fn, 0, 1, 1).status).toBe("notDescent");
  });

  it("rejects c1 > c2", () => {
    const fn: LineFunction = (a, out) => {
      out.phi = a * a - a;
      out.dphi = 2 * a - 1;
    };
    expect(() => lineSearchStrongWolfe(fn, 0, -1, 1, { c1: 0.5, c2: 0.1 })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Gradient check helper
// ---------------------------------------------------------------------------------------------

describe("checkGradient / numericalGradient", () => {
  it("numerical gradient matches analytic gradients", () => {
    const x = Float64Array.from([-1.2, 1, 0.3, -0.7]);
    const g = new Float64Array(4);
    rosenbrock(x, g);
    const num = numericalGradient(rosenbrock, x);
    for (let i = 0; i < 4; i++) expect(num[i]).toBeCloseTo(g[i], 5);
    // x restored.
    expect(Array.from(x)).toEqual([-1.2, 1, 0.3, -0.7]);
  });

  it("small error for correct gradients, large for wrong ones", () => {
    const x = Float64Array.from([0.7, -0.4, 1.3, 0.2]);
    expect(checkGradient(rosenbrock, x)).toBeLessThan(1e-7);
    expect(checkGradient(powell, x)).toBeLessThan(1e-7);
    expect(checkGradient(beale, Float64Array.from([1.1, 0.6]))).toBeLessThan(1e-7);
    // 1 % error in one component.
    const wrong: ObjectiveWithGradient = (y, g) => {
      const f = rosenbrock(y, g);
      g[2] *= 1.01;
      return f;
    };
    const e = checkGradient(wrong, x);
    expect(e).toBeGreaterThan(0.005);
    expect(e).toBeLessThan(0.02);
    // Sign error in one component: relative error 2.
    const flipped: ObjectiveWithGradient = (y, g) => {
      const f = rosenbrock(y, g);
      g[3] = -g[3];
      return f;
    };
    expect(checkGradient(flipped, x)).toBeCloseTo(2, 5);
  });

  it("works at large |x| (relative step) and on a quadratic is near exact", () => {
    const fg: ObjectiveWithGradient = (y, g) => {
      g[0] = 2 * y[0] + y[1];
      g[1] = y[0] + 6 * y[1];
      return y[0] ** 2 + y[0] * y[1] + 3 * y[1] ** 2;
    };
    expect(checkGradient(fg, Float64Array.from([1e4, -3e3]))).toBeLessThan(1e-8);
    expect(checkGradient(fg, Float64Array.from([0.1, 0.2]))).toBeLessThan(1e-8);
  });
});
