/**
 * Every BaseAlign configuration number written in src/align/README.md and
 * the BaseAlign part of the top README comes from the code: the sentences
 * are rebuilt here from the defaults (PPO_DEFAULTS, SFT_DEFAULTS,
 * PPO_GPU_CONFIG, GPU_LM_CONFIG, DEFAULT_TEST_PROMPTS, the guard's
 * configuration) and must appear in the files word for word. Measured
 * numbers (distances, KL, seconds) are not written there at all: the
 * benchmark and the diagnostic scripts print them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PPO_DEFAULTS, PPO_GPU_CONFIG } from "../src/align/ppo.js";
import { DEFAULT_TEST_PROMPTS } from "../src/align/run.js";
import { GPU_LM_CONFIG } from "../src/lm/model.js";
import { SFT_DEFAULTS } from "../src/lm/sft.js";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
/** The file's text with every run of white space made one space (line breaks fall anywhere). */
const read = (file: string) => readFileSync(join(root, file), "utf8").replace(/\s+/g, " ");
const exp = (x: number) => x.toExponential(); // 1.5e-4

function expectIn(file: string, text: string, sentence: string): void {
  assert.ok(
    text.includes(sentence),
    `${file}: expected the sentence "${sentence}" (built from the code's defaults); the file says something else: update it from the code`,
  );
}

test("src/align/README.md: the default configuration is the code's", () => {
  const file = "src/align/README.md";
  const text = read(file);
  const p = PPO_DEFAULTS;
  const k = p.samples_per_prompt;
  expectIn(file, text, `an SFT policy of ${SFT_DEFAULTS.steps} steps`);
  expectIn(file, text, `PPO ${p.steps} steps of ${p.batch_size} rollouts = ${p.batch_size / k} prompts × ${k} responses`);
  expectIn(file, text, `learning rate ${exp(p.learning_rate)}`);
  expectIn(file, text, `KL coefficient ${p.init_kl_coef} ${p.adaptive_kl ? "adaptive" : "fixed"} toward ${p.target_kl}`);
  expectIn(file, text, `${p.response_length}-token responses`);
  expectIn(file, text, `first ${DEFAULT_TEST_PROMPTS} SafeRLHF test prompts`);
  expectIn(file, text, `evaluated on the first ${DEFAULT_TEST_PROMPTS} prompts of one half`);
  expectIn(
    file,
    text,
    `${PPO_GPU_CONFIG.steps} PPO steps of ${PPO_GPU_CONFIG.batch_size} rollouts with ${PPO_GPU_CONFIG.response_length}-token responses`,
  );
  expectIn(file, text, `(${GPU_LM_CONFIG.layers} layers, width ${GPU_LM_CONFIG.width}, context ${GPU_LM_CONFIG.contextLength}`);
});

test("src/align/README.md and README.md hold no measured BaseAlign number typed in", () => {
  // A percentage, a KL value or a duration next to a distance would be a measurement: those come from the scripts.
  for (const file of ["src/align/README.md", "README.md"]) {
    const text = read(file);
    const typed = text.match(/[−-]?\d+(\.\d+)?\s?%[^|]{0,40}(held-out|distance)|KL (of )?\d+\.\d+|distance \d\.\d{2,}/g);
    assert.equal(
      typed,
      null,
      `${file}: measured BaseAlign numbers typed in (${typed?.join("; ")}); print them with npm run bench:align or the diagnostic scripts instead`,
    );
  }
});
