// The kit's table writers (arquero's toCSV / toMarkdown / toHTML with the kit's options), on hand-written tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { csvText, htmlTable, markdownTable } from "../src/data/table-text.js";

test("markdownTable: | a | b | rows under arquero's alignment row, pipes escaped, line breaks as spaces, every row kept", () => {
  assert.equal(
    markdownTable(
      ["name", { name: "n", align: "r" }, { name: "ok", align: "c" }],
      [
        ["a|b", "1", "✓"],
        ["two\nlines", "", ""],
      ],
    ),
    ["| name | n | ok |", "|:-|-:|:-:|", "| a\\|b | 1 | ✓ |", "| two lines |  |  |"].join("\n"),
  );
  const many = Array.from({ length: 150 }, (_, i) => [String(i)]);
  assert.equal(markdownTable(["i"], many).split("\n").length, 152, "no row limit (arquero's default is 100)");
  assert.equal(markdownTable(["x"], []), "| x |\n|:-|");
  assert.throws(() => markdownTable(["a", "a"], []), /two columns are named "a"/);
  assert.throws(() => markdownTable(["a", "b"], [["1"]]), /row 1 has 1 cells, the header 2/);
});

test("csvText: header row, RFC 4180 quoting, JSON for objects, ISO time for dates, empty cells for null", () => {
  assert.equal(
    csvText(
      [
        { a: 'say "hi"', b: [1, 2], c: new Date(0) },
        { a: "x,y", b: { k: 1 }, c: null },
      ],
      ["a", "b", "c"],
    ),
    'a,b,c\n"say ""hi""","[1,2]",1970-01-01T00:00:00.000Z\n"x,y","{""k"":1}",\n',
  );
  assert.equal(csvText([{ a: 1 }], ["b", "a"]), "b,a\n,1\n", "the given columns, in their order");
});

test("htmlTable: aligned cells, the text and the header names escaped", () => {
  assert.equal(
    htmlTable(["a<b", { name: "n", align: "r" }], [["x & y", "3"]]),
    '<table><thead><tr><th style="text-align: left;">a&lt;b</th><th style="text-align: right;">n</th></tr></thead>' +
      '<tbody><tr><td style="text-align: left;">x &amp; y</td><td style="text-align: right;">3</td></tr></tbody></table>',
  );
});
