/**
 * Theory next to simulation through the library (npx tsx examples/theory-vs-simulation.ts):
 * the Saad–Solla ODE against SGD, and the IG22 Fig. 3 mixture ODE (scaled to D = 100) against SGD on
 * the Gaussian clone of the NLGP task — each ODE started from its SGD run's initial weights.
 */
import { parseOdeModelOf, teacherStudentSetup, teacherStudentSgdConfig, integrateTeacherStudent, simulateTeacherStudent,
  mixtureSetup, mixtureSgdConfig, gaussianClone, integrateMixture, simulate } from "rfdyn";

const ts = parseOdeModelOf("teacher-student", { kind: "ode", mode: "teacher-student", seed: 1, time: { end: 200 },
  teacherStudent: { K: 2, M: 2, N: 1000, lr: 0.5 } });
const times = [0, 25, 50, 100, 150, 200];
const { params, init } = teacherStudentSetup(ts, 1);
const [ode, sgd] = await Promise.all([integrateTeacherStudent(params, init, { times }), simulateTeacherStudent(teacherStudentSgdConfig(ts, 1, times))]);
console.log("Saad–Solla K = M = 2, N = 1000: generalisation error ε and Q₁₁, ODE | SGD");
times.forEach((t, j) => console.log(`  t = ${String(t).padStart(3)}  ε ${ode.eps[j].toFixed(4)} | ${sgd.eps[j].toFixed(4)}   Q₁₁ ${ode.states[j].Q[0].toFixed(3)} | ${sgd.states[j].Q[0].toFixed(3)}`));

const mx = parseOdeModelOf("mixture", { kind: "ode", mode: "mixture", seed: 1, time: { end: 100, points: 6 },
  task: { geometry: { dim: 1, L: 100 }, classes: [{ kind: "nlgp", xi: 2, gain: 3 }, { kind: "nlgp", xi: 4, gain: 3 }], labels: "pm1" },
  network: { K: 4, bias: { mode: "trained", value: 1 } }, training: { lr: 0.5 } });
const cfg = mixtureSgdConfig(mx, 1, { classes: gaussianClone(mx.task.classes) });
const sim = await simulate(cfg);
const { params: mp, init: mi } = mixtureSetup(mx, 1);
const theory = await integrateMixture(mp, mi, { times: sim.log.map((r) => r.t) });
console.log("IG22 Fig. 3 setting (D = 100, K = 4): test pmse, mixture ODE | SGD on the Gaussian clone");
sim.log.forEach((r, j) => console.log(`  t = ${r.t.toPrecision(3).padStart(6)}  pmse ${theory.pmse[j].toFixed(4)} | ${r.pmse.toFixed(4)}`));
