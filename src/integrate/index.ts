/** ODE integration: one `solve` over odex GBS, Runge–Kutta–Chebyshev (stiff gradient flows), RK4 and Euler.  See ./types.ts. */
export { IntegrationError } from "./types.js";
export type { Method, Rhs, Solution, SolveOptions, SolverCarry } from "./types.js";
export { solve, SOLVE_DEFAULTS } from "./solve.js";
