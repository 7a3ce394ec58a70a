import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_FEATURE_OPTIONS,
  HashedVocabulary,
  TfIdf,
  dialogueFeatures,
  documentFrequencies,
  expandContractions,
  fieldNamespace,
  fnv1a,
  hashedNgrams,
  promptKey,
  joinPromptAnswer,
  splitPromptAnswer,
  tokenize,
} from "../src/text/index.js";
import { readRecords } from "../src/data/readers.js";
import { dataFile } from "./helpers.js";

test("a FULCRA dialogue splits into its question and its answer", () => {
  assert.deepEqual(splitPromptAnswer("Human: Why is the sky blue?\nBob: Rayleigh scattering.\n\nShort waves scatter more."), {
    prompt: "Why is the sky blue?",
    answer: "Rayleigh scattering.\n\nShort waves scatter more.",
  });
  assert.deepEqual(splitPromptAnswer(joinPromptAnswer("a?", "b.")), { prompt: "a?", answer: "b." });
});

test("an HH transcript: the answer is the last assistant turn, the prompt every other turn in order", () => {
  const hh = "\n\nHuman: Hi\n\nAssistant: Hello! How can I help?\n\nHuman: Name a fruit.\n\nAssistant: An apple.";
  assert.deepEqual(splitPromptAnswer(hh), { prompt: "Hi\nHello! How can I help?\nName a fruit.", answer: "An apple." });
  // A trailing question after the last answer stays context.
  assert.deepEqual(splitPromptAnswer("Human: a\nBob: b\nHuman: c"), { prompt: "a\nc", answer: "b" });
  // Untagged text is all answer; only-human text has no answer yet.
  assert.deepEqual(splitPromptAnswer("  just words "), { prompt: "", answer: "just words" });
  assert.deepEqual(splitPromptAnswer("Human: only a question"), { prompt: "only a question", answer: "" });
});

test("every released FULCRA dialogue has a non-empty answer after splitting", () => {
  const recs = readRecords("fulcra", dataFile("trustworthy_data"));
  const empty = recs.filter((r) => splitPromptAnswer(r.dialogue).answer === "");
  assert.equal(recs.length, 1718);
  assert.equal(empty.length, 0);
  assert.equal(splitPromptAnswer(recs[1].dialogue).answer, "Women");
});

test("contractions are written out; possessives are left alone", () => {
  assert.equal(expandContractions("Sorry, but I can't assist with that."), "Sorry, but I can not assist with that.");
  assert.equal(
    expandContractions("I cannot. I won't. It isn't. I'm sure they're fine, we've seen, you'll see, he'd go"),
    "I can not. I will not. It is not. I am sure they are fine, we have seen, you will see, he would go",
  );
  assert.equal(expandContractions("John's car and don’t"), "John's car and do not");
});

test("prompt and answer hash into different namespaces; prefixes add a crude stem", () => {
  const opts = { ...DEFAULT_FEATURE_OPTIONS, buckets: 1 << 20, maxN: 1, prefixLength: 0 };
  const [p, a] = dialogueFeatures({ prompt: "stalking", answer: "stalking" }, opts);
  assert.equal(p.length, 1);
  assert.notEqual(p[0], a[0]);
  assert.equal(p[0], fnv1a(`${fieldNamespace("prompt")}1:stalking`) % (1 << 20));
  const [, withPrefix] = dialogueFeatures({ prompt: "", answer: "stalking stalker hi" }, { ...opts, prefixLength: 5 });
  // 3 words + 2 prefixes ("hi" is too short to have one); "stalk" twice.
  assert.equal(withPrefix.length, 5);
  assert.equal(withPrefix[3], withPrefix[4]);
  const cut = dialogueFeatures({ prompt: "a b c d", answer: "x" }, { ...opts, maxTokens: 2, maxN: 2 });
  assert.equal(cut[0].length, 3, "two tokens → two words and one bigram");
  // "can't" and "cannot" become the same tokens.
  const [, x] = dialogueFeatures({ prompt: "", answer: "I can't" }, opts);
  const [, y] = dialogueFeatures({ prompt: "", answer: "I cannot" }, opts);
  assert.deepEqual(x, y);
  assert.deepEqual(tokenize("I can not"), ["i", "can", "not"]);
});

test("vocabulary keeps ids seen in enough documents; bags count known ids only", () => {
  const docs = [
    [5, 5, 9],
    [9, 7],
    [9, 5, 11],
  ];
  assert.deepEqual(
    [...documentFrequencies(docs).entries()].sort((a, b) => a[0] - b[0]),
    [
      [5, 2],
      [7, 1],
      [9, 3],
      [11, 1],
    ],
  );
  const v = HashedVocabulary.fit(docs, 2);
  assert.deepEqual([...v.ids], [5, 9]);
  assert.equal(v.row(9), 1);
  assert.equal(v.row(7), -1);
  const bag = v.bag([9, 5, 5, 7, 5]);
  assert.deepEqual(
    [...bag.rows].map((r, i) => [r, bag.counts[i]]).sort((a, b) => a[0] - b[0]),
    [
      [0, 3],
      [1, 1],
    ],
  );
  assert.throws(() => new HashedVocabulary(Int32Array.from([3, 3])), /strictly increasing/);
});

test("TF-IDF weights by hand: sublinear tf, smoothed idf, unit length", () => {
  const docs = [
    [1, 1, 2],
    [2, 3],
    [2, 1],
  ];
  const t = TfIdf.fit(docs, 1);
  // idf = ln((1 + 3) / (1 + df)) + 1: df(1) = 2, df(2) = 3, df(3) = 1.
  const idf1 = Math.log(4 / 3) + 1;
  const idf2 = Math.log(4 / 4) + 1;
  assert.ok(Math.abs(t.idf[0] - idf1) < 1e-6);
  assert.ok(Math.abs(t.idf[1] - idf2) < 1e-6);
  const v = t.transform([1, 1, 2, 99]);
  const w1 = (1 + Math.log(2)) * idf1;
  const w2 = idf2;
  const norm = Math.hypot(w1, w2);
  assert.deepEqual([...v.indices], [0, 1]);
  assert.ok(Math.abs(v.values[0] - w1 / norm) < 1e-6);
  assert.ok(Math.abs(v.values[1] - w2 / norm) < 1e-6);
});

test("hashedNgrams keeps its order: words first, then bigrams", () => {
  const ids = hashedNgrams(["a", "b", "c"], { buckets: 1000, maxN: 2, namespace: "x" });
  assert.deepEqual(
    ids,
    ["x1:a", "x1:b", "x1:c", "x2:a b", "x2:b c"].map((s) => fnv1a(s) % 1000),
  );
});

test("promptKey: trims, collapses every whitespace run to one space, lower-cases unless keepCase", () => {
  assert.equal(promptKey("  How DO i\u00a0read \t my\nMail? "), "how do i read my mail?");
  assert.equal(promptKey("  How DO i\u00a0read \t my\nMail? ", { keepCase: true }), "How DO i read my Mail?");
  assert.equal(promptKey("Plain"), "plain");
});
