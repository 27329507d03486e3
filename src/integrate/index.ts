/**
 * ODE integration: an OdeProblem → solve(problem, algorithm, options) → OdeSolution, over GBS (ODEX, ./gbs.ts),
 * DOP853 (explicit Runge–Kutta of order 8 with dense output),
 * Runge–Kutta–Chebyshev (stiff gradient flows), the implicit RODAS (Rosenbrock) and BDF/NDF (with
 * analytic or finite-difference Jacobians), RK4 and Euler.  See ./types.ts.
 */
export { IntegrationError, runStatusOf, successful } from "./types.js";
export type { Algorithm, FailureCode, Jac, Method, OdeProblem, OdeSolution, Retcode, Rhs, CheckpointOptions, SolveOptions, SolveStats, SolverCarry, SolverState } from "./types.js";
export { solve, solveAsync, solveRun, SOLVE_DEFAULTS, type RunSolveSettings } from "./solve.js";
