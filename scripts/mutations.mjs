#!/usr/bin/env node
/**
 * Mutation check: does the test suite notice small, plausible formula slips?
 *
 *   npm run test:mutations -- [-j N] [--only id1,id2] [--timeout S] [--list] [--json out.json]
 *                             [--logs DIR] [--no-baseline] [--strict] [--mutations FILE]
 *
 * Each mutation in scripts/mutations.json is { id, file, find, replace, tests, why, mustCatch? }:
 * `find` must occur exactly once in `file` (else the mutation is reported as "error": target
 * missing / ambiguous, never a crash).  For every mutation the script applies the edit in a scratch
 * copy of the repository (one copy per parallel slot under os.tmpdir(), node_modules linked, never
 * the real tree), runs `vitest run <tests>` there with a hard time limit that kills the whole process
 * group (vitest cannot interrupt a synchronous infinite loop), restores the file, and classifies:
 *
 *   caught    the tests failed                 survived  the tests passed
 *   hang      killed at the time limit         error     target missing/ambiguous, no test files,
 *                                                        baseline failure, vitest did not report
 *
 * Before the mutations, a baseline run of all selected test files on the unmutated copy makes sure
 * that a "caught" means the mutation and not an already failing test (--no-baseline skips it).
 *
 * Exit status: 1 if a mutation marked mustCatch survived or hung (with --strict also on errors),
 * 2 on bad usage, 130 on Ctrl-C; 0 otherwise.  Scratch copies and child processes are removed on any
 * exit, Ctrl-C included.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..");
const DEFAULT_MUTATIONS = path.join(HERE, "mutations.json");
/** Top-level entries not copied into the scratch repositories. */
const SKIP_TOP = new Set([".git", "node_modules", "dist", "results", "coverage", ".vite", ".vitest"]);

// ---------------------------------------------------------------------------------------------
// Command line

function usage(msg) {
  if (msg) console.error(`mutations: ${msg}`);
  console.error("usage: node scripts/mutations.mjs [-j N] [--only id1,id2] [--timeout S] [--list] [--json out.json] [--logs DIR] [--no-baseline] [--strict] [--mutations FILE]");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { file: DEFAULT_MUTATIONS, jobs: 1, only: null, timeout: 180, list: false, json: null, logs: null, baseline: true, strict: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) usage(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case "-j": case "--jobs": o.jobs = Number(value()); break;
      case "--only": o.only = value().split(",").map((s) => s.trim()).filter(Boolean); break;
      case "--timeout": o.timeout = Number(value()); break;
      case "--list": o.list = true; break;
      case "--mutations": o.file = path.resolve(value()); break;
      case "--json": o.json = path.resolve(value()); break;
      case "--logs": o.logs = path.resolve(value()); break;
      case "--no-baseline": o.baseline = false; break;
      case "--strict": o.strict = true; break;
      case "-h": case "--help": usage();
      default:
        if (/^-j\d+$/.test(a)) o.jobs = Number(a.slice(2));
        else usage(`unknown argument ${a}`);
    }
  }
  if (!(Number.isInteger(o.jobs) && o.jobs >= 1)) usage("-j must be a positive integer");
  if (!(o.timeout > 0)) usage("--timeout must be a positive number of seconds");
  return o;
}

// ---------------------------------------------------------------------------------------------
// Mutation list

function loadMutations(MUTATIONS_FILE) {
  const list = JSON.parse(fs.readFileSync(MUTATIONS_FILE, "utf8"));
  if (!Array.isArray(list)) throw new Error(`${MUTATIONS_FILE}: expected an array of mutations`);
  const seen = new Set();
  for (const m of list) {
    for (const k of ["id", "file", "find", "replace", "why"]) {
      if (typeof m[k] !== "string" || m[k] === "") throw new Error(`${MUTATIONS_FILE}: mutation ${JSON.stringify(m.id)} needs a non-empty string "${k}"`);
    }
    if (!Array.isArray(m.tests) || m.tests.length === 0) throw new Error(`${MUTATIONS_FILE}: mutation ${m.id} needs a non-empty "tests" array`);
    if (!/^[A-Za-z0-9._+-]+$/.test(m.id)) throw new Error(`${MUTATIONS_FILE}: id ${JSON.stringify(m.id)} may only use letters, digits and . _ + -`);
    if (m.find === m.replace) throw new Error(`${MUTATIONS_FILE}: mutation ${m.id} does not change anything`);
    if (seen.has(m.id)) throw new Error(`${MUTATIONS_FILE}: duplicate id ${m.id}`);
    seen.add(m.id);
    m.mustCatch = m.mustCatch === true;
  }
  return list;
}

function countOccurrences(text, needle) {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

/** Where the mutation applies in `root`: { ok, text } or { ok: false, reason }. */
function locate(root, m) {
  const file = path.join(root, m.file);
  if (!fs.existsSync(file)) return { ok: false, reason: `target missing: no file ${m.file}` };
  const text = fs.readFileSync(file, "utf8");
  const n = countOccurrences(text, m.find);
  if (n === 0) return { ok: false, reason: "target missing: find string not in file" };
  if (n > 1) return { ok: false, reason: `ambiguous: find string occurs ${n} times` };
  return { ok: true, file, text };
}

// ---------------------------------------------------------------------------------------------
// Test file selection (plain paths or globs with *, ** and ?, relative to the repository root)

function listFiles(root, dir) {
  const out = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  if (fs.existsSync(path.join(root, dir))) walk(dir);
  return out.sort();
}

function globToRegExp(glob) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += glob[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The existing test files matched by `patterns` (files that moved away are silently dropped). */
function resolveTests(root, patterns) {
  const all = listFiles(root, "test");
  const found = new Set();
  for (const p of patterns) {
    const norm = p.replace(/^\.\//, "");
    if (/[*?]/.test(norm)) {
      const re = globToRegExp(norm);
      for (const f of all) if (re.test(f)) found.add(f);
    } else if (fs.existsSync(path.join(root, norm))) found.add(norm);
  }
  return [...found].sort();
}

/**
 * Test files that import `target` directly or through other modules (relative imports only;
 * ".js" specifiers map to the ".ts" sources).  Used by --list to point at unlisted guards.
 */
function importers(root, target) {
  const deps = new Map(); // file → resolved relative imports
  const importsOf = (rel) => {
    if (deps.has(rel)) return deps.get(rel);
    const out = [];
    deps.set(rel, out);
    let text;
    try { text = fs.readFileSync(path.join(root, rel), "utf8"); } catch { return out; }
    const re = /(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g;
    for (let m; (m = re.exec(text)); ) {
      const abs = path.posix.normalize(path.posix.join(path.posix.dirname(rel), m[1]));
      for (const cand of [abs.replace(/\.js$/, ".ts"), abs, `${abs}.ts`, `${abs}/index.ts`]) {
        if (fs.existsSync(path.join(root, cand)) && fs.statSync(path.join(root, cand)).isFile()) { out.push(cand); break; }
      }
    }
    return out;
  };
  const reaches = (start) => {
    const seen = new Set([start]), stack = [start];
    while (stack.length) {
      const f = stack.pop();
      if (f === target) return true;
      for (const d of importsOf(f)) if (!seen.has(d)) { seen.add(d); stack.push(d); }
    }
    return false;
  };
  return listFiles(root, "test").filter((f) => /\.test\.[cm]?[jt]s$/.test(f) && reaches(f));
}

// ---------------------------------------------------------------------------------------------
// Scratch copies and child processes (both cleaned up on every exit path)

const scratchDirs = new Set();
const children = new Set(); // pids of detached process-group leaders

function killGroup(pid) {
  try { process.kill(-pid, "SIGKILL"); } catch { /* already gone */ }
}

function cleanup() {
  for (const pid of children) killGroup(pid);
  children.clear();
  for (const d of scratchDirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  scratchDirs.clear();
}

process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    console.error(`\nmutations: ${sig}, stopping: killing test runs and removing scratch copies`);
    cleanup();
    process.exit(130);
  });
}

/**
 * A scratch copy of the repository: every top-level entry except SKIP_TOP, and a node_modules
 * directory of symlinks to the real one's entries (so vite's cache, node_modules/.vite, stays
 * private to the copy instead of being written into the shared checkout).
 */
function makeScratch(slot) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rfdyn-mut${slot}-`));
  scratchDirs.add(dir);
  for (const e of fs.readdirSync(REPO)) {
    if (SKIP_TOP.has(e)) continue;
    fs.cpSync(path.join(REPO, e), path.join(dir, e), { recursive: true, dereference: false });
  }
  const realModules = fs.realpathSync(path.join(REPO, "node_modules"));
  fs.mkdirSync(path.join(dir, "node_modules"));
  for (const e of fs.readdirSync(realModules)) {
    if (e === ".vite" || e === ".vite-temp" || e === ".cache") continue;
    fs.symlinkSync(path.join(realModules, e), path.join(dir, "node_modules", e));
  }
  return dir;
}

function removeScratch(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  scratchDirs.delete(dir);
}

/**
 * `vitest run <tests>` in `cwd` with the JSON reporter, killed (whole process group) after
 * `timeoutS` seconds.  Resolves { status: "done" | "killed", code, seconds, report, output }.
 */
function runVitest(cwd, tests, timeoutS, tag) {
  const reportFile = path.join(cwd, `.mutation-report-${tag}.json`);
  fs.rmSync(reportFile, { force: true });
  const vitestBin = path.join(cwd, "node_modules", "vitest", "vitest.mjs");
  // JSON for the final counts; verbose on stdout streams failures as they happen (kept for a killed run).
  const args = [vitestBin, "run", "--reporter=json", `--outputFile.json=${reportFile}`, "--reporter=verbose", ...tests];
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd,
      detached: true, // own process group, so the kill reaches vitest's forked workers too
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CI: "1", FORCE_COLOR: "0", NO_COLOR: "1" },
    });
    children.add(child.pid);
    let output = "";
    const keep = (b) => { output += b; if (output.length > 4_000_000) output = output.slice(-2_000_000); };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let killed = false, exited = false, finished = false;
    const timer = setTimeout(() => { if (!exited) { killed = true; killGroup(child.pid); } }, timeoutS * 1000);
    let exitCode = null;
    // On exit, kill what is left of the group (stray workers holding the pipes), then wait for 'close'.
    child.on("exit", (code) => { exited = true; exitCode = code; clearTimeout(timer); killGroup(child.pid); });
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      killGroup(child.pid);
      children.delete(child.pid);
      let report = null;
      try { report = JSON.parse(fs.readFileSync(reportFile, "utf8")); } catch { /* no report */ }
      fs.rmSync(reportFile, { force: true });
      resolve({ status: killed ? "killed" : "done", code: exitCode, seconds: (Date.now() - t0) / 1000, report, output });
    };
    child.on("error", (e) => { output += String(e); exitCode ??= -1; finish(); });
    child.on("close", finish);
  });
}

/** `file` relative to the scratch root `root` (vitest may report real paths), with forward slashes. */
function relativeTo(root, file) {
  let rel = path.relative(root, file);
  if (rel.startsWith("..")) rel = path.relative(fs.realpathSync(root), file);
  return rel.split(path.sep).join("/");
}

/** Tests the verbose reporter had already reported as failed (used when a run is killed). */
function streamedFailures(output) {
  const out = new Set();
  for (const line of output.split("\n")) {
    const m = /^\s*[×✗]\s+(\S.*?)(?:\s+\d+ms)?\s*$/.exec(line);
    if (m) out.add(m[1]);
  }
  return [...out];
}

/** Failing test names from a vitest JSON report (file-level failures included). */
function failures(report) {
  const out = [];
  for (const f of report?.testResults ?? []) {
    const rel = path.basename(f.name);
    const failedTests = (f.assertionResults ?? []).filter((t) => t.status === "failed");
    for (const t of failedTests) out.push(`${rel} > ${t.fullName ?? t.title}`);
    if (f.status === "failed" && failedTests.length === 0) out.push(`${rel} (file failed: ${(f.message ?? "").split("\n")[0].slice(0, 200)})`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running

async function runMutation(scratch, m, opts, baselineFailed, baselineSeconds) {
  const base = { id: m.id, file: m.file, mustCatch: m.mustCatch, seconds: 0, failed: 0, total: 0, failures: [] };
  const loc = locate(scratch, m);
  if (!loc.ok) return { ...base, result: "error", note: loc.reason };
  const tests = resolveTests(scratch, m.tests);
  if (tests.length === 0) return { ...base, result: "error", note: `no test files found for ${m.tests.join(", ")}` };
  const broken = tests.filter((t) => baselineFailed.has(t));
  if (broken.length > 0) return { ...base, tests, result: "error", note: `baseline already fails in ${broken.join(", ")}` };

  fs.writeFileSync(loc.file, loc.text.replace(m.find, () => m.replace));
  let run;
  try {
    run = await runVitest(scratch, tests, opts.timeout, m.id);
  } finally {
    fs.writeFileSync(loc.file, loc.text);
  }
  if (opts.logs) fs.writeFileSync(path.join(opts.logs, `${m.id}.log`), run.output);
  const r = run.report;
  const res = { ...base, tests, seconds: run.seconds, failed: r?.numFailedTests ?? 0, total: r?.numTotalTests ?? 0, failures: failures(r) };
  if (run.status === "killed") {
    // A slow machine can make an honest run hit the limit: say how long the same files took unmutated.
    const known = tests.filter((t) => baselineSeconds.has(t));
    const base = known.length ? `; these test files took ${known.reduce((s, t) => s + baselineSeconds.get(t), 0).toFixed(1)} s in the baseline` : "";
    const early = streamedFailures(run.output);
    const seen = early.length ? `; ${early.length} test(s) had already failed, in ${[...new Set(early.map((t) => t.split(" > ")[0]))].join(", ")}` : "";
    return { ...res, failed: early.length, failures: early, result: "hang", note: `killed after ${opts.timeout} s${base}${seen}` };
  }
  if (run.code === 0 && r?.success !== false) return { ...res, result: "survived" };
  if (r && (r.numFailedTests > 0 || r.numFailedTestSuites > 0 || r.success === false)) return { ...res, result: "caught" };
  const lastLine = run.output.trim().split("\n").slice(-1)[0] ?? "";
  return { ...res, result: "error", note: `vitest exited with ${run.code} without a report: ${lastLine.slice(0, 200)}` };
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

function printTable(rows) {
  const cols = [
    ["id", (r) => r.id],
    ["file", (r) => r.file],
    ["must", (r) => (r.mustCatch ? "yes" : "")],
    ["result", (r) => (r.result === "hang" ? "HANG" : r.result)],
    ["seconds", (r) => r.seconds.toFixed(1)],
    ["failing", (r) => (r.result === "caught" || r.result === "survived" ? `${r.failed}/${r.total}` : "-")],
  ];
  const width = cols.map(([h, f]) => Math.max(h.length, ...rows.map((r) => String(f(r)).length)));
  console.log(cols.map(([h], i) => pad(h, width[i])).join("  "));
  console.log(width.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) {
    console.log(cols.map(([, f], i) => pad(f(r), width[i])).join("  ") + (r.note ? `   (${r.note})` : ""));
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let mutations = loadMutations(opts.file);
  if (opts.only) {
    const unknown = opts.only.filter((id) => !mutations.some((m) => m.id === id));
    if (unknown.length) usage(`unknown mutation id(s): ${unknown.join(", ")}`);
    mutations = mutations.filter((m) => opts.only.includes(m.id));
  }

  if (opts.list) {
    for (const m of mutations) {
      const loc = locate(REPO, m);
      const tests = resolveTests(REPO, m.tests);
      const unlisted = loc.ok ? importers(REPO, m.file).filter((t) => !tests.includes(t)) : [];
      console.log(`${m.id}${m.mustCatch ? "  [mustCatch]" : ""}  —  ${loc.ok ? "target ok" : loc.reason}`);
      console.log(`  ${m.file}: ${JSON.stringify(m.find)} → ${JSON.stringify(m.replace)}`);
      console.log(`  tests: ${tests.length ? tests.join(" ") : "(none found)"}`);
      if (unlisted.length) console.log(`  also import it (not run): ${unlisted.join(" ")}`);
      console.log(`  why: ${m.why}`);
    }
    return 0;
  }

  if (opts.logs) fs.mkdirSync(opts.logs, { recursive: true });
  const jobs = Math.min(opts.jobs, Math.max(1, mutations.length));
  const t0 = Date.now();
  console.log(`mutations: ${mutations.length} mutation(s), ${jobs} in parallel, time limit ${opts.timeout} s per run`);
  const scratches = [];
  for (let s = 0; s < jobs; s++) scratches.push(makeScratch(s));

  const baselineFailed = new Set();
  const baselineSeconds = new Map(); // test file → its duration in the baseline run
  if (opts.baseline) {
    const union = [...new Set(mutations.flatMap((m) => resolveTests(scratches[0], m.tests)))].sort();
    if (union.length > 0) {
      console.log(`baseline: ${union.length} test file(s) on the unmutated copy …`);
      const run = await runVitest(scratches[0], union, Math.max(opts.timeout, 600), "baseline");
      if (opts.logs) fs.writeFileSync(path.join(opts.logs, "baseline.log"), run.output);
      if (run.status === "killed" || !run.report) {
        console.error(`baseline: ${run.status === "killed" ? "timed out" : `no report (exit ${run.code})`}; every mutation would be meaningless — stopping.`);
        console.error(run.output.trim().split("\n").slice(-20).join("\n"));
        return 1;
      }
      for (const f of run.report.testResults ?? []) {
        const rel = relativeTo(scratches[0], f.name);
        if (f.status === "failed") baselineFailed.add(rel);
        if (f.endTime > f.startTime) baselineSeconds.set(rel, (f.endTime - f.startTime) / 1000);
      }
      console.log(`baseline: ${run.report.numPassedTests}/${run.report.numTotalTests} tests passed in ${run.seconds.toFixed(1)} s` +
        (baselineFailed.size ? `; failing files (their mutations are skipped): ${[...baselineFailed].join(", ")}` : ""));
      for (const f of failures(run.report)) console.log(`  baseline failure: ${f}`);
    }
  }

  const results = new Array(mutations.length);
  let next = 0, done = 0;
  const worker = async (scratch) => {
    for (;;) {
      const i = next++;
      if (i >= mutations.length) return;
      const m = mutations[i];
      const r = await runMutation(scratch, m, opts, baselineFailed, baselineSeconds);
      results[i] = r;
      done++;
      console.log(`[${done}/${mutations.length}] ${m.id}: ${r.result} (${r.seconds.toFixed(1)} s${r.result === "error" ? "" : `, ${r.failed}/${r.total} failing`})${r.note ? ` — ${r.note}` : ""}`);
    }
  };
  await Promise.all(scratches.map((s) => worker(s)));
  for (const s of scratches) removeScratch(s);

  console.log("");
  printTable(results);
  const count = (k) => results.filter((r) => r.result === k).length;
  const badMust = results.filter((r) => r.mustCatch && (r.result === "survived" || r.result === "hang"));
  const caught = count("caught"), tested = results.length - count("error");
  console.log("");
  console.log(`summary: ${results.length} mutations — ${caught} caught, ${count("survived")} survived, ${count("hang")} hang, ${count("error")} error; ` +
    `score ${tested ? ((100 * caught) / tested).toFixed(0) : "–"}% of ${tested} run; must-catch not caught: ${badMust.length ? badMust.map((r) => r.id).join(", ") : "none"} ` +
    `(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  const mustErrors = results.filter((r) => r.mustCatch && r.result === "error");
  if (mustErrors.length) console.log(`warning: must-catch mutation(s) could not be run: ${mustErrors.map((r) => `${r.id} (${r.note})`).join("; ")}`);

  if (opts.json) {
    fs.writeFileSync(opts.json, JSON.stringify({ date: new Date().toISOString(), timeout: opts.timeout, results }, null, 2) + "\n");
    console.log(`wrote ${opts.json}`);
  }
  if (badMust.length) return 1;
  if (opts.strict && count("error") > 0) return 1;
  return 0;
}

main().then(
  (code) => { cleanup(); process.exit(code); },
  (e) => { console.error(e instanceof Error ? e.stack : e); cleanup(); process.exit(2); },
);
