/**
 * rfdyn library entry point.  Everything the CLI does is available here; see README.md and examples/.
 * Modules are grouped by concept (stats → data → integrate → theory / cp / sim → analysis → io / plot).
 */
export * from "./stats/rng.js";
export * from "./stats/fft.js";
export * from "./stats/special.js";
export * from "./stats/quadrature.js";
export * from "./stats/gamma.js";
export * from "./stats/gaussian-integrals.js";
export * from "./data/kernels.js";
export * from "./data/gp.js";
export * from "./data/nlgp.js";
export * from "./data/task.js";
export * from "./data/marginals.js";
export * from "./data/ising.js";
export * from "./data/elliptical.js";
export * from "./integrate/index.js";
export * from "./integrate/grid.js";
export * from "./optim/lbfgs.js";
export * from "./optim/gradcheck.js";
export * from "./theory/coefficients.js";
export * from "./theory/single-neuron.js";
export * from "./theory/flow-trajectory.js";
export * from "./theory/saad-solla.js";
export * from "./theory/mixture-ode.js";
export * from "./theory/get.js";
export * from "./theory/lsg24.js";
export * from "./cp/loss.js";
export * from "./cp/decompose.js";
export * from "./cp/analyse.js";
export * from "./cp/attractors.js";
export * from "./sim/network.js";
export * from "./sim/sgd.js";
export * from "./sim/simulate.js";
export * from "./sim/teacher-student.js";
export * from "./sim/single-relu.js";
export * from "./analysis/ipr.js";
export * from "./analysis/receptive.js";
export * from "./analysis/overlaps.js";
export * from "./analysis/stability.js";
export * from "./run/errors.js";
export * from "./io/atomic.js";
export * from "./io/npy.js";
export * from "./io/csv.js";
export * from "./io/version.js";
export * from "./experiments/sweep-grid.js";
export * from "./plot/render.js";
