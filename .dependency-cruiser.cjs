/**
 * The layering rule of src/, checked by `npm test` (scripts/test.sh) with
 * dependency-cruiser: imports only go down, and no file imports itself
 * round a circle.
 *
 * Each folder of src/ has a rank; a file may import its own folder and any
 * folder of a lower rank, nothing else. Ranks come in floors (the README's
 * "Layout"), and inside a floor in a fixed order, so that same-floor imports
 * are allowed in one direction only:
 *
 *   bottom:  values < runtime < text < data < llm
 *   middle:  lm < evaluator < hub < metrics < analysis
 *   align
 *   top:     figures < report < notebooks < cli   (and src/index.ts, the package root)
 *
 * Type-only imports count like the others (they are links a reader follows).
 * Dynamic `import()` counts too.
 */
const FLOORS = [
  ["values", "runtime", "text", "data", "llm"],
  ["lm", "evaluator", "hub", "metrics", "analysis"],
  ["align"],
  ["figures", "report", "notebooks", "cli"],
];
const ORDER = FLOORS.flat();

/**
 * Known exceptions: imports that point up and are allowed for now. Each names
 * the files on both ends and why.
 */
const KNOWN_EXCEPTIONS = [
  {
    // The middle floors build their own figures as plain specs (plots.ts,
    // present.ts); figures/spec and figures/builders import only the bottom
    // floor. To go: move each experiment's figure building up into figures/
    // (or the spec and builders down a floor).
    modules: ["evaluator", "metrics", "analysis", "align"],
    from: "^src/(evaluator|metrics|analysis|align)/(plots|present)\\.ts$",
    to: "^src/figures/(spec|builders)\\.ts$",
  },
  {
    // The `ReportNumber` type the experiments hand to the reproduction
    // report (a type only; report/numbers.ts imports only the bottom floor).
    // To go: move the type down (e.g. runtime/) when the report is split
    // into computing and rendering.
    modules: ["evaluator", "metrics", "analysis", "align"],
    from: "^src/(evaluator|metrics|analysis|align)/(present|report)\\.ts$",
    to: "^src/report/numbers\\.ts$",
  },
];

const above = (name) => ORDER.slice(ORDER.indexOf(name) + 1);
const below = (name) => ORDER.slice(0, ORDER.indexOf(name));

function floorRules(name) {
  const exceptions = KNOWN_EXCEPTIONS.filter((e) => e.modules.includes(name));
  const rule = {
    name: `floor-${name}`,
    severity: "error",
    comment: `src/${name} may import only its own folder and ${below(name).join(", ") || "nothing else"} (see .dependency-cruiser.cjs)`,
    from: { path: `^src/${name}/` },
    to: { path: `^src/(${above(name).join("|")})/` },
  };
  if (exceptions.length === 0) return [rule];
  return [
    { ...rule, to: { ...rule.to, pathNot: exceptions.map((e) => e.to) } },
    // The excepted targets stay closed to every other file of the folder.
    ...exceptions.map((e, i) => ({ ...rule, name: `floor-${name}-exception-${i + 1}`, from: { path: rule.from.path, pathNot: e.from }, to: { path: e.to } })),
  ];
}

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A circle of imports: split the shared part into its own file on the lower side.",
      from: {},
      to: { circular: true },
    },
    ...ORDER.filter((name) => above(name).length > 0).flatMap(floorRules),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
