/**
 * Throughput of the aligner's PPO phases on this machine: generation (with and
 * without the KV cache), the no-gradient log-prob pass over a rollout batch,
 * and one minibatch forward + backward, for the CPU default decoder.
 *
 *   npm run build && node dist/scripts/bench-align-phases.js [--vocab 2048] [--batch 32] [--response 24]
 *
 * The model is freshly initialised (speed does not depend on the weights),
 * and never emits EOS, so every response has the full length: a worst case.
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { createModel, DEFAULT_LM_CONFIG, type CausalLm } from "../src/lm/model.js";
import { trainTokenizer } from "../src/lm/tokenizer.js";
import { LmPolicy } from "../src/align/components.js";
import { responseLogProbs, sampleResponses } from "../src/align/policy.js";
import { readRecords } from "../src/data/readers.js";
import { requireDataFile } from "../src/data/paths.js";
import { initBackend } from "../src/runtime/backend.js";
import { seededRandom } from "../src/runtime/random.js";

const { values } = parseArgs({ options: { vocab: { type: "string" }, batch: { type: "string" }, response: { type: "string" }, repeats: { type: "string" } } });
const vocab = Number(values.vocab ?? 2048);
const batch = Number(values.batch ?? 32);
const responseLength = Number(values.response ?? 24);
const repeats = Number(values.repeats ?? 3);

const backend = await initBackend({});
const questions = readRecords("questions", requireDataFile("saferlhf_train_questions")).map((q) => q.prompt);
const tokenizer = trainTokenizer(questions.slice(0, 3000), vocab);
const model: CausalLm = createModel({ ...DEFAULT_LM_CONFIG, vocabSize: tokenizer.vocabSize }, 1);
const policy = new LmPolicy(model);
const prompts = Array.from({ length: batch }, () => tokenizer.formatPrompt(questions[0], 40));
const sampling = { temperature: 1, top_k: 0, top_p: 1, response_length: responseLength };

const time = (f: () => void) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
console.log(`backend ${backend.name}, vocab ${tokenizer.vocabSize}, batch ${batch}, prompt ${prompts[0].length} + response ${responseLength} tokens, ${model.parameterCount()} parameters`);
for (let k = 0; k < repeats; k++) {
  let rollout = sampleResponses(policy, prompts, tokenizer.specials.eos, sampling, seededRandom(k));
  const gen = time(() => (rollout = sampleResponses(policy, prompts, tokenizer.specials.eos, sampling, seededRandom(k))));
  const slow = new LmPolicy(policy.model);
  (slow as { step?: unknown }).step = undefined;
  const genNoCache = k === 0 ? time(() => sampleResponses(slow, prompts, tokenizer.specials.eos, sampling, seededRandom(k))) : NaN;
  const ids = tf.tensor2d(rollout.ids, undefined, "int32");
  const fwd = time(() => {
    const r = responseLogProbs(policy, ids, rollout.promptLength, 1);
    r.logprobs.dataSync();
    tf.dispose([r.logprobs, r.values, r.entropy]);
  });
  const mb = ids.slice([0, 0], [Math.min(8, batch), -1]) as tf.Tensor2D;
  const bwd = time(() => {
    const { value, grads } = tf.variableGrads(() => {
      const r = responseLogProbs(policy, mb, rollout.promptLength, 1);
      return r.logprobs.sum().add(r.values.sum()).add(r.entropy.sum()) as tf.Scalar;
    }, policy.trainableVariables());
    Object.values(grads)[0].dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([ids, mb]);
  console.log(
    `run ${k}: generate ${gen.toFixed(0)} ms (KV cache)${Number.isNaN(genNoCache) ? "" : `, ${genNoCache.toFixed(0)} ms without`}; ` +
      `log-prob pass over ${batch} ${fwd.toFixed(0)} ms; forward+backward of 8 ${bwd.toFixed(0)} ms → one PPO step (2 passes, 4 epochs × ${batch / 8} minibatches) ≈ ${((gen + 2 * fwd + 4 * (batch / 8) * bwd) / 1000).toFixed(1)} s`,
  );
}
