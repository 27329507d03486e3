/**
 * Bad input never crashes a run: ≥ 200 generated mutations of every shipped model (every kind and
 * mode, every field; see ./bad-input-cases.ts) are refused with a one-line UserError naming the field
 * and the allowed range/type/values — in process through `parseModel` (and `run` where the check is
 * at run start), and for a sample through the CLI (exit 2, one stderr line, no output directory).
 */
import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { experiment, parseModel } from "../src/experiments/index.js";
import { UserError } from "../src/run/errors.js";
import { GROUPS, cliSample, generateCases, semanticCases, toJsonText, type BadCase } from "./bad-input-cases.js";

const generated = generateCases();
const semantic = semanticCases();
const cases = [...generated, ...semantic];
// Three generated cases per kind and mode, plus the size limits that used to be checked only at run start.
const cliCases = [...cliSample(generated, 3), ...semantic.filter((c) => /testSize·D|diagonal D²|points × seeds|SGD test set/.test(c.mutation))];
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A field path in a message: model.a.b[0]["odd key"]. */
const FIELD = /(model(?:\.[\w$]+|\[\d+\]|\["[^"]*"\])*)/;

/** Everything a bad-input message must satisfy; returns the problems (empty = fine). */
function messageProblems(c: Pick<BadCase, "expectPaths" | "expectUnder" | "expectText">, e: unknown): string[] {
  const out: string[] = [];
  if (!(e instanceof UserError)) return [`not a UserError: ${(e as Error)?.name}: ${String((e as Error)?.message ?? e).split("\n")[0]}`];
  const msg = e.message;
  if (msg.includes("\n")) out.push("more than one line");
  if (msg.length > 400) out.push(`too long (${msg.length} chars)`);
  if (/Invalid input|ZodError|"code":|\[object Object\]|\bundefined\b/.test(msg)) out.push("raw zod / JS text");
  const m = new RegExp(`^${FIELD.source}: \\S`).exec(msg) ?? new RegExp(`^sweep point \\d+ \\([^)]*\\): ${FIELD.source}: \\S`).exec(msg);
  if (!m) out.push("does not start with a field path (model.…: )");
  else if (!c.expectPaths.includes(m[1]) && !c.expectUnder.some((u) => m[1].startsWith(`${u}.`) || m[1].startsWith(`${u}[`))) {
    out.push(`names ${m[1]}, expected ${[...c.expectPaths, ...c.expectUnder.map((u) => `${u}.*`)].join(" or ")}`);
  }
  if (c.expectText && !c.expectText.test(msg)) out.push(`does not match ${c.expectText}`);
  return out;
}

async function refusal(c: BadCase): Promise<unknown> {
  try {
    const { kind, model } = await parseModel(c.model);
    if (c.stage === "parse") return new Error("ACCEPTED by parseModel");
    // Run-start checks: an aborted signal makes sure nothing heavy runs if the check were missing.
    await (await experiment(kind)).run(model, { signal: AbortSignal.abort() });
    return new Error("ACCEPTED by parseModel and run");
  } catch (e) {
    return e;
  }
}

describe("bad input, library path (parseModel / run start)", () => {
  it("generates at least 200 cases covering every kind and mode", () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    for (const g of GROUPS) expect(cases.filter((c) => c.group === g).length, g).toBeGreaterThanOrEqual(10);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });
  for (const g of GROUPS) {
    it(`${g}: every mutation is refused with a one-line message naming the field`, async () => {
      const bad: string[] = [];
      for (const c of cases.filter((c) => c.group === g)) {
        const e = await refusal(c);
        const p = messageProblems(c, e);
        if (p.length) bad.push(`${c.id} → ${e instanceof Error ? e.message.slice(0, 200) : String(e)}\n      ${p.join("; ")}`);
      }
      expect(bad, `\n${bad.join("\n")}`).toEqual([]);
    });
  }
});

describe("run-start checks (a library caller that skips parse)", () => {
  const golden = (n: string) => JSON.parse(readFileSync(join(ROOT, "test/fixtures/golden", `${n}.model.json`), "utf8")) as Record<string, unknown>;
  const tries: { name: string; file: string; edit: (m: Record<string, any>) => void; path: RegExp }[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    { name: "simulate testSize·D", file: "default", edit: (m) => (m.testSize = 10_000_000), path: /^model\.testSize: testSize·D must be ≤/ },
    { name: "simulate batch P·D", file: "default", edit: (m) => Object.assign(m.training, { mode: "batch", P: 1e9, time: undefined, steps: 10 }), path: /^model\.training\.P: dataset P·D must be ≤/ },
    { name: "simulate snapshots·K·D", file: "default", edit: (m) => ((m.logging.snapshots = 10_000), (m.network.K = 1000)), path: /^model\.logging\.snapshots: snapshots·K·D must be ≤/ },
    { name: "flow P·D", file: "ig22-fig4b-full", edit: (m) => (m.alpha = 1e9), path: /^model\.(P|alpha): data set of P·D = .* exceeds the 2e8 limit/ },
    { name: "flow inline w of the wrong length", file: "ig22-fig4b-full", edit: (m) => (m.init = { kind: "inline", w: [1, 2, 3] }), path: /^model\.init\.w: need 20 weights \(got 3\)/ },
  ];
  for (const t of tries) {
    it(t.name, async () => {
      const { kind, model } = await parseModel(golden(t.file));
      t.edit(model as Record<string, unknown>);
      let err: unknown;
      try {
        await (await experiment(kind)).run(model, { signal: AbortSignal.abort() });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      const msg = (err as Error).message;
      expect(msg).not.toContain("\n");
      expect(msg).toMatch(t.path);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// CLI path: a sample of the cases through `rfdyn run`, two processes at a time.
// ---------------------------------------------------------------------------------------------

let slots = 2;
const waiting: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((r) => waiting.push(r));
  else slots--;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else slots++;
  }
}

function rfdyn(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return limited(
    () =>
      new Promise((resolve, reject) => {
        const p = spawn(process.execPath, ["--import", "tsx", "src/cli/index.ts", ...args], { cwd: ROOT, env: { ...process.env, RFDYN_DEBUG: "" }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "", stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
        p.on("error", reject);
        p.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      }),
  );
}

/** Exit 2, one stderr line starting with `prefix`, no stack frames, nothing on stdout. */
function expectOneLine(r: { code: number | null; stdout: string; stderr: string }, prefix: RegExp): string {
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  expect(r.code, r.stderr).toBe(2);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(prefix);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout).toBe("");
  return lines[0];
}

describe("bad input, CLI path (rfdyn run)", () => {
  const tmp = mkdtempSync(join(tmpdir(), "rfdyn-bad-input-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const noTmpFiles = () => expect(readdirSync(tmp, { recursive: true }).map(String).filter((f) => f.endsWith(".tmp") || f.includes(".tmp-"))).toEqual([]);

  it("samples at least 3 cases of every kind and mode", () => {
    for (const g of GROUPS) expect(cliCases.filter((c) => c.group === g).length, g).toBeGreaterThanOrEqual(3);
    expect(cliCases.length).toBeGreaterThanOrEqual(30);
  });

  cliCases.forEach((c, i) => {
    it.concurrent(`${c.id}`, async () => {
      const file = join(tmp, `case-${i}.json`);
      const out = join(tmp, `out-${i}`);
      writeFileSync(file, toJsonText(c.model));
      const r = await rfdyn(["run", file, "-o", out, "-q"]);
      const line = expectOneLine(r, /^rfdyn: model[.[]/);
      const problems = messageProblems(c, new UserError(line.replace(/^rfdyn: /, "")));
      expect(problems, line).toEqual([]);
      expect(existsSync(out), "output directory created").toBe(false);
      noTmpFiles();
    });
  });

  const valid = join(ROOT, "test/fixtures/golden/default.model.json");
  const sweep = join(ROOT, "test/fixtures/golden/lsg24-kurtosis-ode.model.json");
  const cliLevel: { name: string; args: (dir: string) => string[]; expect: RegExp; setup?: (dir: string) => void }[] = [
    { name: "a file that is not JSON", setup: (d) => writeFileSync(join(d, "m.json"), "{ kind: simulate"), args: (d) => ["run", join(d, "m.json"), "-o", join(d, "out"), "-q"], expect: /^rfdyn: model file ".*" is not valid JSON: / },
    { name: "an empty file", setup: (d) => writeFileSync(join(d, "m.json"), ""), args: (d) => ["run", join(d, "m.json"), "-o", join(d, "out"), "-q"], expect: /^rfdyn: model file ".*" is not valid JSON/ },
    { name: "a JSON array", setup: (d) => writeFileSync(join(d, "m.json"), "[1, 2]"), args: (d) => ["run", join(d, "m.json"), "-o", join(d, "out"), "-q"], expect: /^rfdyn: model file ".*" must contain a JSON object$/ },
    { name: "a missing file", args: (d) => ["run", join(d, "nope.json"), "-o", join(d, "out"), "-q"], expect: /^rfdyn: cannot read model file ".*nope\.json"$/ },
    { name: "-o ''", args: () => ["run", valid, "-o", "", "-q"], expect: /^rfdyn: --out: must be a non-empty path$/ },
    { name: "-o an existing regular file", setup: (d) => writeFileSync(join(d, "file"), "keep"), args: (d) => ["run", valid, "-o", join(d, "file"), "-q"], expect: /^rfdyn: --out: ".*file" exists and is not a directory$/ },
    { name: "--threads 0", args: (d) => ["run", valid, "-o", join(d, "out"), "-q", "--threads", "0"], expect: /^rfdyn: --threads: must be an integer in \[1, 1024\] \(got 0\)$/ },
    { name: "--threads 1.5", args: (d) => ["run", valid, "-o", join(d, "out"), "-q", "--threads", "1.5"], expect: /^rfdyn: --threads: must be an integer in \[1, 1024\] \(got 1\.5\)$/ },
    { name: "--shard 5/3", args: (d) => ["run", sweep, "-o", join(d, "out"), "-q", "--shard", "5/3"], expect: /^rfdyn: --shard: must satisfy 0 ≤ i < n/ },
    { name: "--shard abc", args: (d) => ["run", sweep, "-o", join(d, "out"), "-q", "--shard", "abc"], expect: /^rfdyn: --shard: must look like i\/n/ },
  ];
  cliLevel.forEach((t, i) => {
    it.concurrent(t.name, async () => {
      const d = join(tmp, `cli-${i}`);
      mkdirSync(d);
      t.setup?.(d);
      const before = readdirSync(d).sort();
      const r = await rfdyn(t.args(d));
      expectOneLine(r, t.expect);
      expect(readdirSync(d).sort(), "nothing created").toEqual(before);
      if (existsSync(join(d, "file"))) expect(readFileSync(join(d, "file"), "utf8")).toBe("keep");
      noTmpFiles();
    });
  });

  // Grid points are validated (checkSweepPoints) before the CLI creates the output directory.
  it("a sweep whose grid point is invalid leaves no output directory", async () => {
    const d = join(tmp, "sweep-point");
    mkdirSync(d);
    const m = JSON.parse(readFileSync(sweep, "utf8")) as { base: { ode: Record<string, unknown> } };
    m.base.ode.t1 = -1;
    writeFileSync(join(d, "m.json"), JSON.stringify(m));
    const r = await rfdyn(["run", join(d, "m.json"), "-o", join(d, "out"), "-q"]);
    expectOneLine(r, /^rfdyn: sweep point 0 \(.*\): model\.ode\.t1: must be > 0 \(got -1\)$/);
    expect(existsSync(join(d, "out")), "output directory created").toBe(false);
  });

  it("counts: cases per kind, library vs CLI (total ≥ 200)", () => {
    const rows = GROUPS.map((g) => ({
      kind: g,
      library: cases.filter((c) => c.group === g && c.stage === "parse").length,
      "run start": cases.filter((c) => c.group === g && c.stage === "run").length,
      cli: cliCases.filter((c) => c.group === g).length,
    }));
    const total = { kind: "total", library: 0, "run start": 0, cli: cliLevel.length };
    for (const r of rows) (total.library += r.library), (total["run start"] += r["run start"]), (total.cli += r.cli);
    console.log(`bad-input cases (CLI total includes ${cliLevel.length} CLI-level cases):`);
    console.table([...rows, total]);
    expect(total.library + total["run start"]).toBeGreaterThanOrEqual(200);
    expect(total.cli).toBeGreaterThanOrEqual(30);
  });
});
