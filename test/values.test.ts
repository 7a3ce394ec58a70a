import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BASIC_VALUES,
  REFINED_VALUES,
  VALUE_ITEMS,
  BASIC_OF_REFINED,
  LabelError,
  LabelIssueLog,
  parseValueLabels,
  splitLabel,
  polarity,
  valueVector,
} from "../src/values/index.js";
import { readRecords } from "../src/data/readers.js";
import { dataFile } from "./helpers.js";

test("taxonomy sizes and the paper's vector order", () => {
  assert.equal(BASIC_VALUES.length, 10);
  assert.equal(REFINED_VALUES.length, 19);
  assert.equal(VALUE_ITEMS.length, 54);
  assert.deepEqual(BASIC_VALUES.slice(0, 3), ["self-direction", "stimulation", "hedonism"]);
  assert.equal(BASIC_VALUES[9], "universalism");
  assert.equal(new Set(VALUE_ITEMS.map((i) => i.name)).size, 54);
  // Every refined value has at least one item, and humility folds into conformity.
  for (const r of REFINED_VALUES)
    assert.ok(
      VALUE_ITEMS.some((i) => i.refined === r),
      r,
    );
  assert.equal(BASIC_OF_REFINED.humility, "conformity");
  assert.equal(VALUE_ITEMS.find((i) => i.name === "observing social norms")!.basic, "security");
});

test("label spellings from the released data", () => {
  assert.deepEqual(splitLabel("Be capable:+1"), { raw: "Be capable", name: "be capable", score: 1, scoreTypo: false });
  assert.equal(splitLabel("have a stable society: +1")!.score, 1);
  assert.equal(splitLabel("security: -1")!.score, -1);
  assert.equal(splitLabel("benevolence: 1")!.score, 1);
  assert.equal(splitLabel("conformity: 1+")!.scoreTypo, true);
  assert.equal(splitLabel("achievement: =1")!.score, 1);
  assert.equal(splitLabel("no score here"), undefined);
  assert.equal(splitLabel("power: maybe"), undefined);
});

test("a record's labels become 10-, 19- and 54-dim vectors", () => {
  const log = new LabelIssueLog();
  const v = parseValueLabels(
    ["be honest: +1", "Have social recognition: -1", "be respectful: 1"],
    ["benevolence: +1", "humility: +1", "power: -1"],
    { log },
  );
  assert.deepEqual(v.basic, [0, 0, 0, 0, -1, 0, 0, 1, 1, 0]);
  const items = VALUE_ITEMS.map((i) => i.name);
  assert.equal(v.items[items.indexOf("be honest")], 1);
  assert.equal(v.items[items.indexOf("have a social recognition")], -1);
  assert.equal(v.items[items.indexOf("be polite")], 1);
  assert.equal(v.items.filter((x) => x !== 0).length, 3);
  assert.equal(v.refined[REFINED_VALUES.indexOf("benevolence-caring")], 1);
  assert.equal(v.refined[REFINED_VALUES.indexOf("face")], -1);
  assert.equal(v.refined[REFINED_VALUES.indexOf("humility")], 1);
  assert.equal(log.count("alias"), 2);
  assert.equal(log.count("refined-as-basic"), 1);
  assert.equal(log.dropped(), 0);
});

test("mixed labels cancel in the vector but keep both signs", () => {
  const v = parseValueLabels([], ["benevolence: -1", "benevolence: +1"]);
  assert.equal(v.basic[8], 0);
  assert.equal(v.basicAligned[8], true);
  assert.equal(v.basicOpposed[8], true);
});

test("strict mode names file, line and label; lenient mode counts and skips", () => {
  assert.throws(
    () => parseValueLabels(["be telepathic: +1"], [], { mode: "strict", location: { file: "x.jsonl", line: 7 } }),
    (e: unknown) => e instanceof LabelError && /x\.jsonl:7/.test(e.message) && /be telepathic/.test(e.message),
  );
  const log = new LabelIssueLog();
  const v = parseValueLabels(["be telepathic: +1", "be honest +1"], ["kindness: -1"], { log });
  assert.deepEqual(v.basic, new Array(10).fill(0));
  assert.equal(log.count("unknown-name"), 2);
  assert.equal(log.count("malformed"), 1);
  assert.equal(log.dropped(), 3);
  assert.match(log.summary(), /3 skipped/);
});

test("every label in the mirror's FULCRA file parses in lenient mode, each variant counted", () => {
  const log = new LabelIssueLog();
  const recs = readRecords("fulcra", dataFile("trustworthy_data"), { labelMode: "lenient", labelLog: log });
  assert.equal(recs.length, 1718);
  assert.equal(log.dropped(), 0);
  // Quirks documented with the data: the odd scores, humility, "be respectful", one empty type list.
  assert.equal(log.count("score-typo"), 4);
  assert.equal(log.count("refined-as-basic"), 11);
  assert.equal(log.list().find((i) => i.label === "be respectful")!.count, 17);
  assert.equal(log.count("empty-types"), 1);
});

test("strict mode refuses the variants lenient mode reads: 1+, =1, humility, be respectful", () => {
  const at = { file: "s.jsonl", line: 3 };
  const strict = (items: string[], types: string[]) => () => parseValueLabels(items, types, { mode: "strict", location: at });
  assert.throws(
    strict(["be obedient: 1+"], []),
    (e: unknown) => e instanceof LabelError && /s\.jsonl:3, field value_items/.test(e.message) && /1\+/.test(e.message),
  );
  assert.throws(
    strict([], ["achievement: =1"]),
    (e: unknown) => e instanceof LabelError && /field value_types/.test(e.message) && /=1/.test(e.message),
  );
  assert.throws(
    strict([], ["humility: +1"]),
    (e: unknown) => e instanceof LabelError && /refined value/.test(e.message) && /humility/.test(e.message),
  );
  assert.throws(strict(["be respectful: +1"], []), (e: unknown) => e instanceof LabelError && /be respectful/.test(e.message));
  assert.throws(strict(["have social recognition: -1"], []), LabelError);
  // Canonical names and scores still pass in strict mode.
  const v = parseValueLabels(["be polite: +1", "have a social recognition: -1"], ["conformity: 1", "power: -1"], {
    mode: "strict",
    location: at,
  });
  assert.equal(v.basic[7], 1);
  assert.equal(v.basic[4], -1);
  // Lenient mode reads the same variants, and counts them.
  const log = new LabelIssueLog();
  const l = parseValueLabels(["be obedient: 1+", "be respectful: +1"], ["humility: +1", "achievement: =1"], { log });
  assert.equal(l.basic[3], 1);
  assert.equal(l.basic[7], 1);
  assert.equal(log.count("score-typo"), 2);
  assert.equal(log.count("alias"), 1);
  assert.equal(log.count("refined-as-basic"), 1);
  // The released file has these variants: strict mode stops at the first, naming it.
  assert.throws(
    () => readRecords("fulcra", dataFile("trustworthy_data"), { labelMode: "strict" }),
    (e: unknown) => e instanceof LabelError && /trustworthy_data\.jsonl:4, field value_items/.test(e.message),
  );
});

test("polarity thresholds and named vectors", () => {
  assert.deepEqual(
    [0.31, 0.3, -0.3, -0.31, 0].map((x) => polarity(x)),
    [1, 0, 0, -1, 0],
  );
  assert.deepEqual(valueVector({ security: 1, universalism: 0.5 }), [0, 0, 0, 0, 0, 1, 0, 0, 0, 0.5]);
});
