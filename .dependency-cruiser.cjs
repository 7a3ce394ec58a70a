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
 *   bottom:  values < runtime < text < data < llm < charts
 *   middle:  lm < evaluator < hub < metrics < analysis
 *   align
 *   top:     figures < report < notebooks < cli   (and src/index.ts, the package root)
 *
 * Type-only imports count like the others (they are links a reader follows).
 * Dynamic `import()` counts too.
 */
const FLOORS = [
  ["values", "runtime", "text", "data", "llm", "charts"],
  ["lm", "evaluator", "hub", "metrics", "analysis"],
  ["align"],
  ["figures", "report", "notebooks", "cli"],
];
const ORDER = FLOORS.flat();

const above = (name) => ORDER.slice(ORDER.indexOf(name) + 1);
const below = (name) => ORDER.slice(0, ORDER.indexOf(name));

function floorRule(name) {
  return {
    name: `floor-${name}`,
    severity: "error",
    comment: `src/${name} may import only its own folder and ${below(name).join(", ") || "nothing else"} (see .dependency-cruiser.cjs)`,
    from: { path: `^src/${name}/` },
    to: { path: `^src/(${above(name).join("|")})/` },
  };
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
    ...ORDER.filter((name) => above(name).length > 0).map(floorRule),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
