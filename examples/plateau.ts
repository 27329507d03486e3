/**
 * Saad–Solla symmetric plateau: integrate the order-parameter ODEs of a K = M = 3 erf
 * teacher–student problem and print the generalisation error on a log-spaced time grid.
 *
 *   npx tsx examples/plateau.ts
 */
import { integrateTeacherStudent } from "rfdyn";

const K = 3, M = 3;
const eye = (n: number) => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
// Small, slightly unequal student–teacher overlaps: the student sits on the symmetric plateau first.
const R = Float64Array.from({ length: K * M }, (_, i) => 1e-3 * (1 + ((i * 7) % 5) / 10));
const Q = Float64Array.from(eye(K), (v) => 0.25 * v);
const times = [0, ...Array.from({ length: 24 }, (_, i) => Math.pow(10, -1 + (i * 4) / 23))];
const run = await integrateTeacherStudent(
  { K, M, lr: 0.5, trainSecondLayer: false, noise: 0, weightDecay: 0, A: [1, 1, 1], T: eye(M) },
  { Q, R, v: new Float64Array([1, 1, 1]) },
  { times },
);
for (let i = 0; i < run.t.length; i++) console.log(`t = ${run.t[i].toPrecision(4).padStart(8)}   eps_g = ${run.eps[i].toExponential(4)}`);
