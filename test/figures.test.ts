import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { barChart, heatmap, radarChart, stackedBarH, histogram, lineChart, scatterPlot } from "../src/figures/builders.js";
import { valueLabels } from "../src/figures/spec.js";
import { figureDataRows, toCsv } from "../src/figures/csv.js";
import { checkFigureName, exportFigure } from "../src/figures/export.js";
import { closeSharedRenderer, setPngDpi } from "../src/figures/renderer.js";
import { sha256File } from "../src/runtime/provenance.js";
import { dataFile, tempDir } from "./helpers.js";

after(() => closeSharedRenderer());

test("export smoke test: SVG with the axis titles, print-resolution PNG, one-page PDF, CSV and provenance beside it", async () => {
  const dir = tempDir();
  const fig = barChart({
    categories: ["Security", "Conformity", "Benevolence"],
    series: [{ name: "aligned", values: [0.223, 0.167, 0.28] }],
    xTitle: "Basic value axis",
    yTitle: "Share of records axis",
    title: "Smoke test",
  });
  const source = dataFile("saferlhf_test_questions");
  const out = await exportFigure(fig, "smoke-bars", {
    dir,
    seed: 7,
    dataFiles: [source],
    data: [
      { value: "security", aligned: 0.223 },
      { value: "conformity", aligned: 0.167 },
      { value: "benevolence, caring", aligned: 0.28 },
    ],
  });

  const svg = readFileSync(join(dir, "smoke-bars.svg"), "utf8");
  assert.match(svg, /^<svg/);
  assert.ok(svg.includes("Basic value axis"), "x axis title in the SVG");
  assert.ok(svg.includes("Share of records axis"), "y axis title in the SVG");
  assert.ok(svg.includes("Benevolence"), "category labels in the SVG");

  assert.equal(
    readFileSync(join(dir, "smoke-bars.csv"), "utf8"),
    'value,aligned\nsecurity,0.223\nconformity,0.167\n"benevolence, caring",0.28\n',
  );

  const prov = JSON.parse(readFileSync(join(dir, "smoke-bars.json"), "utf8"));
  assert.equal(prov.figure, "smoke-bars");
  assert.equal(prov.seed, 7);
  assert.equal(prov.kit, "fulcra-kit");
  assert.equal(prov.dataFiles.length, 1);
  assert.equal(prov.dataFiles[0].sha256, sha256File(source).sha256);
  assert.equal(prov.dataFiles[0].path, "data/raw/data/saferlhf/test_questions.jsonl");
  assert.deepEqual(prov.files, {
    csv: "smoke-bars.csv",
    json: "smoke-bars.json",
    svg: "smoke-bars.svg",
    pdf: "smoke-bars.pdf",
    png: "smoke-bars.png",
  });
  assert.equal(prov.dataRows, 3);
  assert.ok(Object.hasOwn(prov, "gitCommit") && Object.hasOwn(prov, "backend") && Object.hasOwn(prov, "timestamp"));

  const png = readFileSync(join(dir, "smoke-bars.png"));
  assert.equal(png.readUInt32BE(16), 2400, "PNG width = 800 px × scale 3");
  assert.equal(png.readUInt32BE(20), 1500);
  const phys = png.indexOf("pHYs");
  assert.equal(png.readUInt32BE(phys + 4), Math.round(288 / 0.0254), "PNG records 288 dpi");

  const pdf = readFileSync(join(dir, "smoke-bars.pdf"));
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf.toString("latin1"));
  assert.ok(box, "the PDF has a MediaBox");
  // 800 × 500 CSS px = 600 × 375 pt (Chromium rounds the page height to its own units).
  assert.ok(Math.abs(Number(box[1]) - 600) < 0.5 && Math.abs(Number(box[2]) - 375) < 0.5, `page size ${box[1]} × ${box[2]} pt`);
  assert.equal(pdf.toString("latin1").match(/\/Type \/Page\b/g)?.length, 1, "one page");

  assert.deepEqual(out.relativeFiles.map((f) => f.split("/").pop()).sort(), [
    "smoke-bars.csv",
    "smoke-bars.json",
    "smoke-bars.pdf",
    "smoke-bars.png",
    "smoke-bars.svg",
  ]);
});

test("without data rows the CSV holds what the figure draws", async () => {
  const dir = tempDir();
  const fig = heatmap({
    x: ["illegal", "privacy"],
    y: ["Security", "Power"],
    z: [
      [0.29, -0.15],
      [0.046, null],
    ],
    xTitle: "risk",
    yTitle: "value",
  });
  await exportFigure(fig, "smoke-heatmap", { dir, formats: ["svg"] });
  assert.equal(
    readFileSync(join(dir, "smoke-heatmap.csv"), "utf8"),
    "trace,x,y,z\ntrace 1,illegal,Security,0.29\ntrace 1,privacy,Security,-0.15\ntrace 1,illegal,Power,0.046\ntrace 1,privacy,Power,\n",
  );
  const svg = readFileSync(join(dir, "smoke-heatmap.svg"), "utf8");
  assert.ok(svg.includes(">0.29<") && svg.includes(">-0.15<") && svg.includes(">0.046<"), "cell annotations drawn");
});

test("bar builders keep the given category order and check lengths", () => {
  const fig = barChart({ categories: valueLabels(), series: [{ name: "a", values: valueLabels().map((_, i) => i) }] });
  assert.deepEqual(fig.layout.xaxis?.categoryarray, [
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
  ]);
  assert.equal(fig.layout.xaxis?.categoryorder, "array");
  assert.throws(
    () => barChart({ categories: ["a", "b"], series: [{ name: "short", values: [1] }] }),
    /series "short" has 1 values but there are 2 categories/,
  );
  const h = stackedBarH({
    categories: ["x", "y"],
    series: [
      { name: "+1", values: [1, 2] },
      { name: "-1", values: [3, 4] },
    ],
  });
  assert.equal(h.layout.barmode, "stack");
  assert.equal(h.data[0].orientation, "h");
  assert.deepEqual(h.data[1].x, [3, 4]);
  assert.deepEqual(h.data[1].y, ["x", "y"]);
  assert.equal(h.layout.yaxis?.autorange, "reversed", "first category on top");
  assert.equal(h.layout.showlegend, true);
});

test("heatmap annotations print two significant digits, radar polygons close, other builders type their traces", () => {
  const hm = heatmap({ x: ["a", "b"], y: ["r"], z: [[0.0011, -0.1234]] });
  assert.deepEqual(
    hm.layout.annotations?.map((a) => a.text),
    ["0.0011", "-0.12"],
  );
  assert.equal(hm.data[0].zmin, -0.1234);
  assert.throws(() => heatmap({ x: ["a"], y: ["r"], z: [[1, 2]] }), /row 0 \("r"\) has 2 cells but there are 1 columns/);

  const radar = radarChart({ axes: ["A", "B", "C"], series: [{ name: "p", values: [0.1, -0.2, 0.3] }] });
  assert.deepEqual(radar.data[0].r, [0.1, -0.2, 0.3, 0.1]);
  assert.deepEqual(radar.data[0].theta, ["A", "B", "C", "A"]);
  assert.deepEqual(figureDataRows(radar), [
    { trace: "p", theta: "A", r: 0.1 },
    { trace: "p", theta: "B", r: -0.2 },
    { trace: "p", theta: "C", r: 0.3 },
  ]);
  assert.deepEqual(radar.layout.polar?.radialaxis, { range: [-0.2, 0.3], gridcolor: "#dddddd", angle: 90, tickangle: 90 });

  assert.equal(histogram({ series: [{ name: "h", values: [1, 2] }], normalize: "probability" }).data[0].histnorm, "probability");
  assert.equal(lineChart({ series: [{ name: "l", x: [0, 1], y: [2, 3] }], logY: true }).layout.yaxis?.type, "log");
  assert.throws(() => scatterPlot({ series: [{ name: "s", x: [1, 2], y: [1] }] }), /2 x values but 1 y values/);
  assert.equal(scatterPlot({ series: [{ name: "s", x: [1], y: [1] }] }).data[0].type, "scatter");
});

test("CSV quoting, figure names and PNG resolution", () => {
  assert.equal(
    toCsv([
      { a: 'say "hi"', b: [1, 2] },
      { a: "x\ny", c: null },
    ]),
    'a,b,c\n"say ""hi""","[1,2]",\n"x\ny",,\n',
  );
  assert.throws(() => checkFigureName("figs/fig2a"), /plain stable name/);
  assert.throws(() => checkFigureName("fig2a.png"), /no extension/);
  checkFigureName("fig2a-value-composition");

  // A 1×1 PNG (signature, IHDR, IDAT, IEND) gets a pHYs chunk with a valid CRC right after IHDR.
  const tiny = Buffer.from(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
      "1f15c489" +
      "0000000d49444154789c63000100000500010d0a2db4" +
      "0000000049454e44ae426082",
    "hex",
  );
  const withDpi = setPngDpi(tiny, 300);
  assert.equal(withDpi.toString("ascii", 37, 41), "pHYs");
  assert.equal(withDpi.readUInt32BE(41), 11811, "300 dpi = 11811 px per metre");
  assert.equal(withDpi.readUInt32BE(33), 9, "chunk length");
  assert.equal(withDpi[49], 1, "unit: metre");
  assert.equal(withDpi.readUInt32BE(50), crc32(withDpi.subarray(37, 50)) >>> 0, "CRC over type and data");
  assert.equal(withDpi.toString("ascii", 58, 62), "IDAT", "the image data follows");
  assert.equal(setPngDpi(withDpi, 150).length, withDpi.length, "an existing pHYs is replaced, not duplicated");
});
