/**
 * Throughput of the aligner's PPO phases on this machine: generation (with and
 * without the KV cache), the no-gradient log-prob pass over a rollout batch,
 * and one minibatch forward + backward, for the CPU default decoder.
 *
 *   npm run build && node dist/scripts/bench-align-phases.js [--vocab 2048] [--batch 32] [--response 24]
 *   node dist/scripts/bench-align-phases.js --backend webgpu --json --repeats 1 --ppo-iteration [--gpu-config]
 *
 * --ppo-iteration also times one real PPO iteration (trainPPO, one step: rollouts, KL to the
 * reference, GAE, 4 epochs of minibatch updates) with a cheap stand-in reward (answer length), at
 * the default PPO configuration, or with --gpu-config at PPO_GPU_CONFIG and a GPU_LM_CONFIG
 * decoder. --json prints the benchmark convention's lines (bench-common.ts): ppo-generate
 * (new tokens/s with the KV cache), ppo-minibatch-step (ms) and ppo-iteration (s).
 *
 * The model is freshly initialised (speed does not depend on the weights),
 * and never emits EOS, so every response has the full length: a worst case.
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { createModel, DEFAULT_LM_CONFIG, type CausalLm } from "../src/lm/model.js";
import { trainTokenizer } from "../src/lm/tokenizer.js";
import { LmPolicy } from "../src/align/components.js";
import { sampleResponses } from "../src/align/policy.js";
import { logProbsOf } from "../src/lm/generate.js";
import { readRecords } from "../src/data/readers.js";
import { requireDataFile } from "../src/data/paths.js";
import { seededRandom } from "../src/runtime/random.js";
import { GPU_LM_CONFIG } from "../src/lm/model.js";
import { lmTokenizer } from "../src/align/components.js";
import { PPO_GPU_CONFIG, trainPPO } from "../src/align/ppo.js";
import { benchBackend, benchSetup, emit } from "./bench-common.js";
import { env } from "../src/runtime/env.js";

const setup = benchSetup();
const { values } = parseArgs({
  args: setup.rest,
  options: {
    vocab: { type: "string" },
    batch: { type: "string" },
    response: { type: "string" },
    repeats: { type: "string" },
    "ppo-iteration": { type: "boolean" },
    "gpu-config": { type: "boolean" },
  },
});
const gpuConfig = Boolean(values["gpu-config"]);
const vocab = Number(values.vocab ?? (gpuConfig ? 8192 : 2048));
const batch = Number(values.batch ?? 32);
const responseLength = Number(values.response ?? 24);
const repeats = Number(values.repeats ?? 3);

const backend = await benchBackend(setup);
if (!setup.json && !env.quiet) console.error(`fulcra: tfjs backend ${backend.name} (${backend.tfjsBackend})`);
const suffix = gpuConfig ? "-gpu-config" : "";
const questions = readRecords("questions", requireDataFile("saferlhf_train_questions")).map((q) => q.prompt);
const tokenizer = trainTokenizer(questions.slice(0, 3000), vocab);
const model: CausalLm = createModel({ ...(gpuConfig ? GPU_LM_CONFIG : DEFAULT_LM_CONFIG), vocabSize: tokenizer.vocabSize }, 1);
const policy = new LmPolicy(model);
const prompts = Array.from({ length: batch }, () => tokenizer.formatPrompt(questions[0], 40));
const sampling = { temperature: 1, top_k: 0, top_p: 1, response_length: responseLength };

const time = (f: () => void) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
console.log(
  `backend ${backend.name}, vocab ${tokenizer.vocabSize}, batch ${batch}, prompt ${prompts[0].length} + response ${responseLength} tokens, ${model.parameterCount()} parameters`,
);
for (let k = 0; k < repeats; k++) {
  let rollout = sampleResponses(policy, prompts, tokenizer.specials.eos, sampling, seededRandom(k));
  const gen = time(() => (rollout = sampleResponses(policy, prompts, tokenizer.specials.eos, sampling, seededRandom(k))));
  const slow = new LmPolicy(policy.model);
  (slow as { step?: unknown }).step = undefined;
  const genNoCache =
    k === 0 && !setup.json ? time(() => sampleResponses(slow, prompts, tokenizer.specials.eos, sampling, seededRandom(k))) : NaN;
  const ids = tf.tensor2d(rollout.ids, undefined, "int32");
  const fwd = time(() => {
    const r = logProbsOf(policy, ids, undefined, { promptLength: rollout.promptLength, withEntropy: true });
    r.logProbs.dataSync();
    tf.dispose([r.logProbs, r.values, r.entropy!]);
  });
  const mb = ids.slice([0, 0], [Math.min(8, batch), -1]) as tf.Tensor2D;
  const bwd = time(() => {
    const { value, grads } = tf.variableGrads(() => {
      const r = logProbsOf(policy, mb, undefined, { promptLength: rollout.promptLength, withEntropy: true });
      return r.logProbs.sum().add(r.values.sum()).add(r.entropy!.sum()) as tf.Scalar;
    }, policy.trainableVariables());
    Object.values(grads)[0].dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([ids, mb]);
  if (k === repeats - 1) {
    emit(setup, backend.name, `ppo-generate${suffix}`, "throughput", (batch * responseLength) / (gen / 1000), "tokens/s");
    emit(setup, backend.name, `ppo-minibatch-step${suffix}`, "step_time", bwd, "ms");
  }
  console.log(
    `run ${k}: generate ${gen.toFixed(0)} ms (KV cache)${Number.isNaN(genNoCache) ? "" : `, ${genNoCache.toFixed(0)} ms without`}; ` +
      `log-prob pass over ${batch} ${fwd.toFixed(0)} ms; forward+backward of 8 ${bwd.toFixed(0)} ms → one PPO step (2 passes, 4 epochs × ${batch / 8} minibatches) ≈ ${((gen + 2 * fwd + 4 * (batch / 8) * bwd) / 1000).toFixed(1)} s`,
  );
}

if (values["ppo-iteration"]) {
  // One real iteration of the loop in src/align/ppo.ts; the reward is a stand-in (it costs nothing,
  // so the time is the policy's: rollouts, reference log-probs, GAE, minibatch updates).
  const ppo = gpuConfig ? { ...PPO_GPU_CONFIG } : {};
  const t0 = performance.now();
  const r = await trainPPO(
    {
      policy,
      tokenizer: lmTokenizer(tokenizer),
      formatPrompt: (p) => tokenizer.formatPrompt(p, ppo.query_length ?? 40),
      prompts: questions.slice(0, 512),
      reward: async (_prompts, responses) => responses.map((x) => Math.min(1, x.length / 200)),
      quiet: true,
    },
    { ...ppo, steps: 1, save_every: 0 },
  );
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `one PPO iteration${gpuConfig ? " (PPO_GPU_CONFIG, GPU_LM_CONFIG decoder)" : ""}: ${seconds.toFixed(1)} s, ${r.stats[0].mean_response_tokens.toFixed(1)} response tokens per rollout`,
  );
  emit(setup, backend.name, `ppo-iteration${suffix}`, "seconds", seconds, "s");
}
