/**
 * The conventions a reader needs to read a run's numbers, by model kind (see docs/conventions.md,
 * the reference notes and each result.json's own "conventions" block, which the report also shows).
 */

export interface Convention {
  term: string;
  text: string;
}

const COMMON: Convention[] = [
  { term: "IPR", text: "inverse participation ratio IPR(w) = Σ w_i⁴ / (Σ w_i²)² ∈ [1/D, 1]: 1/D for a flat w, 1 for a single site; a random Gaussian w has IPR ≈ 3/D. Participation ratio = 1/IPR (number of sites the weight occupies)." },
  { term: "loss", text: "training loss ½(y − φ)² (the ½ convention of IG22 and Saad–Solla). LSG24's published code minimises (y − ŷ)² without ½, which doubles the gradient: see \"time\" below. pmse = ⟨(y − φ)²⟩ is reported without ½ (IG22 eq. 9); the Saad–Solla generalisation error ε = ½E[(y* − φ)²] keeps it." },
  { term: "gain", text: "NLGP inputs x = erf(g z/√2)/√γ(g) (IG22 convention, unit variance); LSG24 writes erf(g′ z) with g′ = g/√2 — a model file says which (\"convention\": \"ig22\" | \"lsg24\")." },
  { term: "kurtosis", text: "κ = E[x⁴]/E[x²]² (3 for a Gaussian; excess kurtosis κ − 3 is named as such). Negative excess kurtosis (κ < 3) drives localisation (LSG24)." },
  { term: "labels", text: "IG22 tasks use y = ±1; LSG24's single neuron uses y ∈ {0, 1}." },
  { term: "randomness", text: "every run is seeded from its model file (seed shown under provenance); the same model and rfdyn version give bit-identical numbers." },
];

const BY_KIND: Record<string, Convention[]> = {
  simulate: [{ term: "time", text: "t = steps / D^s with s the model's training.lrScaling (IG22: s = 1, t = steps/D); update θ ← θ − (η/D^s) ∂L/∂θ." }],
  compare: [{ term: "time", text: "t = steps/D (mixture ODE vs SGD) or t = steps/N (teacher–student); z = deviation of the ODE from the SGD mean in standard errors; zPaired pairs each seed's SGD run with the ODE from the same initial weights." }],
  ode: [{ term: "time", text: "teacher–student: t = steps/N (α = P/N for online learning); Gaussian-mixture ODE: t = steps/D." }],
  flow: [{ term: "time", text: "learning time of the single-neuron gradient flow, t = η·steps (IG22 eq. 3); the flow is run to T or until |ẇ| < steadyTol." }, { term: "variants", text: "gaussian: ΔT = 0 (Gaussian-equivalent data, no localisation expected); full: ΔT from P samples; cp: ΔT from a low-rank CP decomposition." }],
  cp: [{ term: "CP", text: "symmetric CP decomposition of a class's 4th-order cumulant, ΔT ≈ Σ_a γ_a u_a⊗4 (factors sorted by |γ_a|); IPR of a factor u_a as above." }],
  attractors: [{ term: "time", text: "gradient-flow time of the cp flow; overlaps m_r = w·u_r/(|w||u_r|) (cosines)." }],
  lsg: [{ term: "time", text: "time of LSG24's effective ODE dw/dt = ½[φ(a) − (Σ0 + Σ1)w] (½-loss convention). An SGD run with learning rate η and loss ½(y − ŷ)² maps to t = η·steps/2; with LSG24's loss (y − ŷ)² (sgd.loss \"lsg24\") the gradient doubles and t = η·steps. Minibatch SGD averages the gradient over the batch: time per step is the same as for one sample." }],
  sweep: [{ term: "sweep", text: "one row per (grid point, replicate); the plot shows mean ± sd over replicates; each replicate's seed is derived from the sweep's seed (Rng.stream)." }],
};

/** Conventions for a set of run kinds: the common ones, then each kind's. */
export function conventionsFor(kinds: readonly string[]): { common: Convention[]; byKind: { kind: string; items: Convention[] }[] } {
  const uniq = [...new Set(kinds)];
  return { common: COMMON, byKind: uniq.filter((k) => BY_KIND[k]).map((k) => ({ kind: k, items: BY_KIND[k] })) };
}
