/** ODE integration: one `solve` over odex GBS, RK4 and Euler.  See ./types.ts for the interface. */
export { IntegrationError } from "./types.js";
export type { Method, Rhs, Solution, SolveOptions } from "./types.js";
export { solve, SOLVE_DEFAULTS } from "./solve.js";
