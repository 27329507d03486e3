/**
 * Architecture rules, checked by `npm run lint:deps` (part of `npm test`).
 *
 * Data flows one way: model file → schema → problem → solve/simulate → result → io/plot → cli.
 *   numerics  stats, data, integrate, optim, analysis, sim, theory, cp   (never io, cli, experiments)
 *   run       hooks and errors shared by every layer (imports nothing of rfdyn)
 *   schema    zod model schemas
 *   experiments  one run(model, hooks) → Result per model kind (never io or cli)
 *   io, plot  writers and plots (never cli)
 *   report    HTML reports of output directories (reads them through io; never cli)
 *   cli       the shell
 */
/** One rule per folder: it may not import a folder of a higher layer (or of its own layer but another folder). */
function layerRules(layers) {
  const rules = [];
  layers.forEach((layer, k) => {
    const lower = layers.slice(0, k).flat();
    for (const folder of layer) {
      const allowed = [folder, ...lower].join("|");
      rules.push({
        name: `layer-${folder}`,
        severity: "error",
        comment: `src/${folder} may import only ${allowed.split("|").map((f) => `src/${f}`).join(", ")}`,
        from: { path: `^src/${folder}/` },
        to: { path: "^src/", pathNot: `^src/(${allowed})/` },
      });
    }
  });
  return rules;
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycles between files (and hence none between folders of src/).",
      from: { path: "^src" },
      to: { circular: true },
    },
    {
      name: "numerics-stay-pure",
      severity: "error",
      comment: "Numerics never import io, cli, experiments, plot or schema.",
      from: { path: "^src/(kernels|stats|data|integrate|optim|analysis|sim|theory|cp)/" },
      to: { path: "^src/(io|cli|experiments|plot|schema)/" },
    },
    {
      name: "run-is-a-leaf",
      severity: "error",
      comment: "src/run (hooks, errors) is imported by every layer and imports nothing of rfdyn.",
      from: { path: "^src/run/" },
      to: { path: "^src/(?!run/)" },
    },
    {
      name: "experiments-do-no-io",
      severity: "error",
      comment: "A run(model, hooks) is a pure library call: no io, cli or plot, and no file system.",
      from: { path: "^src/experiments/" },
      to: { path: ["^src/(io|cli|plot)/", "^(node:)?fs(/promises)?$"] },
    },
    {
      name: "schema-is-declarative",
      severity: "error",
      from: { path: "^src/schema/" },
      to: { path: "^src/(io|cli|experiments|plot|sim|theory|cp|integrate|optim|analysis)/" },
    },
    {
      name: "only-the-cli-imports-the-cli",
      severity: "error",
      from: { path: "^(src/(?!cli/)|test/|bench/|examples/)" },
      to: { path: "^src/cli/" },
    },
    {
      name: "io-and-plot-never-import-the-cli",
      severity: "error",
      from: { path: "^src/(io|plot|report)/" },
      to: { path: "^src/cli/" },
    },
    // Folder layers, lowest first; a folder may import only from its own or lower layers, so no
    // folder cycle can form:
    //   run < kernels < stats < data, integrate, optim < analysis < theory, sim < cp < schema < parallel
    //   < experiments < plot < io < report < cli
    ...layerRules([
      ["run"],
      ["kernels"],
      ["stats"],
      ["data", "integrate", "optim"],
      ["analysis"],
      ["theory", "sim"],
      ["cp"],
      ["schema"],
      ["parallel"],
      ["experiments"],
      ["plot"],
      ["io"],
      ["report"],
      ["cli"],
    ]),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js"] },
    exclude: { path: "^(dist|node_modules)/" },
  },
};
