/**
 * Benchmark runner: `npm run bench` (compiled to dist/bench/run.js).
 *
 * Every benchmark module exports `benchmarks: Benchmark[]`; to add a module, add one line to
 * `MODULES` below.  Each benchmark returns its figure; the table lists name, figure, unit, target and
 * whether the target is met.  Run a subset with `node dist/bench/run.js <substring> …`; `optIn`
 * benchmarks (the ~5-minute scaling ladder, `npm run bench -- scale`) run only when selected.
 */

export interface Benchmark {
  name: string;
  /** Unit of the figure, e.g. "steps/s". */
  unit: string;
  /** Target figure (optional) and whether larger is better (default true). */
  target?: number;
  higherIsBetter?: boolean;
  /** Only run when a command-line filter selects it (long benchmarks such as `scale`). */
  optIn?: boolean;
  /** Run and return the measured figure. */
  run: () => number | Promise<number>;
}

/** One line per benchmark module. */
const MODULES: (() => Promise<{ benchmarks: Benchmark[] }>)[] = [
  () => import("./sgd.js"),
  () => import("./flow.js"),
  () => import("./cp.js"),
  () => import("./ode.js"),
  () => import("./scale.js"),
  () => import("./kernels.js"),
  () => import("./pool.js"),
  () => import("./parallel.js"),
  () => import("./cumulant.js"),
];

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1e4 ? Math.round(x).toLocaleString("en-US") : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const rows: string[][] = [];
  let failed = 0;
  for (const load of MODULES) {
    const { benchmarks } = await load();
    for (const b of benchmarks) {
      if (filters.length > 0 ? !filters.some((f) => b.name.includes(f)) : b.optIn) continue;
      process.stderr.write(`bench: ${b.name} …\n`);
      const v = await b.run();
      const hib = b.higherIsBetter ?? true;
      const ok = b.target === undefined ? "" : (hib ? v >= b.target : v <= b.target) ? "yes" : "NO";
      if (ok === "NO") failed++;
      rows.push([b.name, fmt(v), b.unit, b.target === undefined ? "" : `${hib ? "≥" : "≤"} ${fmt(b.target)}`, ok]);
    }
  }
  const head = ["benchmark", "figure", "unit", "target", "met"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ");
  console.log(line(head));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows) console.log(line(r));
  if (failed > 0) console.log(`\n${failed} benchmark(s) below target (figures depend on machine load).`);
}

await main();
