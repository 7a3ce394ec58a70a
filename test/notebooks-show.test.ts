import { after, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers.js";
import { toArquero } from "../src/data/tables.js";
import { barChart } from "../src/figures/builders.js";
import { closeSharedRenderer } from "../src/figures/renderer.js";
import { basicValueRows, refinedValueRows, valueItemRows } from "../src/notebooks/taxonomy.js";
import { plotBundle, setDisplaySink, show, tableBundle, type DisplayMessage } from "../src/notebooks/show.js";

after(() => closeSharedRenderer());

test("tableBundle renders HTML and aligned plain text, escapes HTML and counts hidden rows", () => {
  const rows = [
    { value: "security", share: 0.2234, n: 3 },
    { value: "a<b", share: 1, n: 10 },
    { value: "hidden", share: 0, n: 0 },
  ];
  const b = tableBundle(rows, { limit: 2, caption: "Shares" });
  assert.equal(
    b["text/plain"],
    ["Shares", "value     share   n", "--------  -----  --", "security  0.223   3", "a<b           1  10", "… 1 more rows (3 in all)"].join(
      "\n",
    ),
  );
  assert.match(b["text/html"], /<td style="text-align: left;">a&lt;b<\/td>/);
  assert.match(b["text/html"], /<th style="text-align: right;">share<\/th>/);
  assert.match(b["text/html"], /… 1 more rows \(3 in all\)/);
  // The same from an arquero table.
  assert.equal(tableBundle(toArquero(rows), { limit: 2, caption: "Shares" })["text/plain"], b["text/plain"]);
});

test("plotBundle: the figure's JSON is safe inside <script>, the static image sits in the plot box, plotly.js only when asked", () => {
  const fig = barChart({
    categories: ["</script><b>x"],
    series: [{ name: "s", values: [1] }],
    xTitle: "X title",
    yTitle: "Y title",
    title: "T",
  });
  const withLib = plotBundle(fig, Buffer.from("png-bytes"), { embedPlotly: true });
  assert.ok(withLib["text/html"].includes("DecompressionStream"), "plotly.js loader present");
  assert.ok(withLib["text/html"].length > 2_000_000 && withLib["text/html"].length < 3_500_000, "plotly.js embedded compressed");
  const plain = plotBundle(fig, Buffer.from("png-bytes"), { embedPlotly: false });
  assert.ok(plain["text/html"].length < 5000, "later figures carry only their own data");
  assert.equal(plain["text/html"].split("</script>").length - 1, 1, "the category text cannot close the script element");
  assert.ok(plain["text/html"].includes("\\u003c/script>\\u003cb>x"));
  assert.ok(plain["text/html"].includes(`<img src="data:image/png;base64,${Buffer.from("png-bytes").toString("base64")}"`));
  assert.equal(plain["image/png"], Buffer.from("png-bytes").toString("base64"));
  assert.equal(plain["text/plain"], "[figure: T; x: X title; y: Y title; 1 trace]");
});

test("show.plot sends one bundle with a real PNG fallback; outside a kernel plotly.js is not embedded", async () => {
  const got: DisplayMessage[] = [];
  const restore = setDisplaySink((m) => got.push(m));
  try {
    await show.plot(barChart({ categories: ["a", "b"], series: [{ name: "s", values: [1, 2] }], width: 300, height: 200 }));
    show.markdown("**done**");
  } finally {
    restore();
  }
  assert.equal(got.length, 2);
  const png = Buffer.from(got[0].data["image/png"], "base64");
  assert.equal(png.subarray(1, 4).toString(), "PNG");
  assert.equal(png.readUInt32BE(16), 300, "static image at the figure's size, scale 1");
  assert.deepEqual(got[0].metadata, { "image/png": { width: 300, height: 200 } });
  assert.ok(!got[0].data["text/html"].includes("DecompressionStream"));
  assert.deepEqual(got[1].data, { "text/markdown": "**done**", "text/plain": "**done**" });
});

test("taxonomy rows: 10 basic values in paper order with their groups, 19 refined, 54 items", () => {
  const basic = basicValueRows();
  assert.deepEqual(
    basic.map((r) => r.value),
    [
      "Self-direction",
      "Stimulation",
      "Hedonism",
      "Achievement",
      "Power",
      "Security",
      "Tradition",
      "Conformity",
      "Benevolence",
      "Universalism",
    ],
  );
  assert.deepEqual(
    basic.map((r) => r.group).filter((g, i, a) => a.indexOf(g) === i),
    ["openness to change", "self-enhancement", "conservation", "self-transcendence"],
  );
  assert.equal(refinedValueRows().length, 19);
  assert.equal(refinedValueRows().find((r) => r.refined === "humility")?.basic, "Conformity");
  const items = valueItemRows();
  assert.equal(items.length, 54);
  assert.deepEqual(
    items.find((r) => r.item === "be obedient"),
    {
      item: "be obedient",
      refined: "conformity-rules",
      basic: "Conformity",
      definition: items.find((r) => r.item === "be obedient")!.definition,
    },
  );
});

test("besidePaper shows both figures when the paper's is available, otherwise the kit's with a note", () => {
  const dir = tempDir();
  const tiny = Buffer.from(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082",
    "hex",
  );
  writeFileSync(join(dir, "ours.png"), tiny);
  writeFileSync(join(dir, "fig9-paper.png"), tiny);
  const got: DisplayMessage[] = [];
  const restore = setDisplaySink((m) => got.push(m));
  const before = process.env.FULCRA_PAPER_FIGURES;
  process.env.FULCRA_PAPER_FIGURES = dir;
  try {
    show.besidePaper(join(dir, "ours.png"), "fig9-paper.png");
    show.besidePaper(join(dir, "ours.png"), "missing.png");
  } finally {
    restore();
    if (before === undefined) delete process.env.FULCRA_PAPER_FIGURES;
    else process.env.FULCRA_PAPER_FIGURES = before;
  }
  assert.equal(got.length, 3);
  assert.equal(got[0].data["text/html"].match(/<figure/g)?.length, 2);
  assert.match(got[0].data["text/html"], /published in the paper/);
  assert.equal(got[1].data["text/html"].match(/<figure/g)?.length, 1);
  assert.match(got[2].data["text/markdown"], /missing\.png\) is not available here/);
});
