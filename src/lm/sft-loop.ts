/**
 * The SFT loop: AdamW on the next-token cross-entropy of the response tokens
 * only, with warm-up and cosine decay, global-norm clipping, a guard that
 * skips non-finite steps, periodic validation, checkpoints and resume.
 * See sft.ts for the method.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "../runtime/backend.js";
import { Progress } from "../runtime/progress.js";
import { provenance } from "../runtime/provenance.js";
import { seededRandom, shuffled } from "../runtime/random.js";
import { generate } from "./generate.js";
import { createModel, tokenLogProbs, type CausalLm, type LmConfig } from "./model.js";
import { AdamW, clipByGlobalNorm } from "./optim.js";
import {
  readCheckpointState,
  restoreCheckpoint,
  saveSftPolicy,
  writeCheckpoint,
  type SftResult,
  type SftSummary,
} from "./sft-checkpoint.js";
import { resolveSftConfig, SFT_DEFAULTS, sftCodeHash, sftTrainingKey, type SftConfig } from "./sft-config.js";
import {
  collectSftExamples,
  dataFingerprint,
  encodeExamples,
  makeBatch,
  tokenizerCorpus,
  type Encoded,
  type SftBatch,
  type SftData,
  type SftExample,
} from "./sft-data.js";
import { Tokenizer, trainTokenizer } from "./tokenizer.js";

export interface TrainSftOptions {
  /** Folder for the result and checkpoints (nothing written when absent). */
  outDir?: string;
  /** Examples to train on (default: `collectSftExamples`). */
  data?: SftData;
  /** A tokenizer to use instead of training one. */
  tokenizer?: Tokenizer;
  /** Prompts for the sample answers at the end (default: the first validation prompts). */
  samplePrompts?: string[];
  /**
   * Stop after this step, leaving a checkpoint in outDir to resume from
   * (time-boxed sessions; the tests use it to check that resuming gives the
   * same weights as an uninterrupted run).
   */
  stopAtStep?: number;
}

/** Learning rate at `step` (1-based): linear warm-up, then cosine down to minLearningRateFraction of the peak. */
export function learningRateAt(
  step: number,
  c: Pick<SftConfig, "learningRate" | "warmupSteps" | "steps" | "minLearningRateFraction">,
): number {
  if (step <= c.warmupSteps) return (c.learningRate * step) / Math.max(1, c.warmupSteps);
  const progress = Math.min(1, (step - c.warmupSteps) / Math.max(1, c.steps - c.warmupSteps));
  const floor = c.minLearningRateFraction;
  return c.learningRate * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Mean next-token loss over response tokens (right padding needs no attention mask: padding comes after every real token). */
function responseLoss(model: CausalLm, batch: SftBatch): tf.Scalar {
  const { logits } = model.forward(batch.ids);
  const V = model.config.vocabSize;
  const next = logits.slice([0, 0, 0], [batch.B, batch.T - 1, V]).reshape([batch.B * (batch.T - 1), V]) as tf.Tensor2D;
  const nll = tf.neg(tokenLogProbs(next, batch.targets));
  return tf.div(tf.sum(tf.mul(nll, batch.weights)), tf.maximum(tf.sum(batch.weights), 1)) as tf.Scalar;
}

/** Runs SFT with `config` (see SFT_HELP). Resumes from `outDir/checkpoint` when one matches the configuration. */
export async function trainSft(partial: Partial<SftConfig> = {}, options: TrainSftOptions = {}): Promise<SftResult> {
  const c = resolveSftConfig(partial);
  await initBackend({ quiet: c.quiet });
  const started = Date.now();

  // 1. data, and a seeded train/valid split
  const data = options.data ?? collectSftExamples({ useFulcra: c.useFulcra, useHelpful: c.useHelpful });
  const fingerprint = dataFingerprint(data);
  const key = sftTrainingKey(c, fingerprint);
  const order = shuffled(data.examples, seededRandom(c.seed));
  const nValid = Math.floor(order.length * c.validFraction);
  const valid = order.slice(0, nValid);
  let train = order.slice(nValid);
  if (c.maxExamples > 0) train = train.slice(0, c.maxExamples);
  if (train.length === 0) throw new Error("SFT: no training examples left after the validation split");

  // 2. tokenizer (trained on the training side only, plus the PPO training prompts when present)
  const checkpointDir = options.outDir ? join(options.outDir, "checkpoint") : undefined;
  let tokenizer = options.tokenizer;
  if (
    !tokenizer &&
    checkpointDir &&
    existsSync(join(checkpointDir, "tokenizer.json")) &&
    readCheckpointState(checkpointDir)?.trainingKey === key
  ) {
    tokenizer = Tokenizer.load(join(checkpointDir, "tokenizer.json"));
  }
  if (!tokenizer) tokenizer = trainTokenizer(tokenizerCorpus(train, c), c.vocabSize);

  // 3. tokenise
  const config: LmConfig = { ...c.model, vocabSize: tokenizer.vocabSize };
  const encodedTrain = encodeExamples(tokenizer, train, config.contextLength, c.maxPromptTokens).filter(
    (e) => e.ids.length > e.responseStart,
  );
  const encodedValid = encodeExamples(tokenizer, valid.slice(0, c.evalExamples), config.contextLength, c.maxPromptTokens).filter(
    (e) => e.ids.length > e.responseStart,
  );

  // 4. model and optimizer, from a checkpoint when there is a matching one
  let model = createModel(config, c.seed);
  const optimizer = new AdamW({ learningRate: c.learningRate, weightDecay: c.weightDecay });
  let startStep = 0;
  let lossHistory: { step: number; loss: number }[] = [];
  let validHistory: { step: number; loss: number }[] = [];
  let tokensSeen = 0;
  let skippedSteps = 0;
  // Running sum of the losses since the last logged point (part of the checkpoint, so a resumed log is identical).
  let windowLoss = 0;
  let windowSteps = 0;
  const state = checkpointDir ? readCheckpointState(checkpointDir) : undefined;
  if (checkpointDir && state) {
    if (state.trainingKey === key) {
      model.dispose();
      model = restoreCheckpoint(checkpointDir, state, optimizer);
      ({ step: startStep, lossHistory, validHistory, tokensSeen, skippedSteps, windowLoss, windowSteps } = state);
      if (!c.quiet) console.error(`sft: resuming from ${checkpointDir} at step ${startStep}`);
    } else if (!c.quiet) {
      console.error(`sft: ignoring ${checkpointDir} (trained with another configuration)`);
    }
  }

  const bar = new Progress({ label: "sft", total: c.steps, quiet: c.quiet });
  bar.tick(startStep);
  const pad = tokenizer.specials.pad;
  const batchesPerEpoch = Math.floor(encodedTrain.length / c.batchSize) || 1;
  let badRun = 0;
  const evaluate = () => (encodedValid.length ? meanLoss(model, encodedValid, c.batchSize, pad) : null);

  for (let step = startStep + 1; step <= c.steps; step++) {
    // Batch order: a fresh seeded shuffle each epoch, so a resumed run sees the same batches.
    const epoch = Math.floor((step - 1) / batchesPerEpoch);
    const within = (step - 1) % batchesPerEpoch;
    const perm = epochOrder(encodedTrain.length, c.seed, epoch);
    const items = perm.slice(within * c.batchSize, (within + 1) * c.batchSize).map((i) => encodedTrain[i]);
    const batch = makeBatch(items, pad);
    optimizer.learningRate = learningRateAt(step, c);

    const { value, grads } = tf.variableGrads(() => responseLoss(model, batch), model.trainableVariables);
    const loss = value.dataSync()[0];
    const clipped = clipByGlobalNorm(grads, c.gradClip);
    // NaN guard: a non-finite loss or gradient skips the update instead of poisoning the weights.
    if (Number.isFinite(loss) && Number.isFinite(clipped.norm)) {
      optimizer.step(model.params, clipped.grads);
      badRun = 0;
      windowLoss += loss;
      windowSteps++;
      tokensSeen += items.reduce((s, e) => s + e.ids.length, 0);
    } else {
      skippedSteps++;
      badRun++;
      if (badRun >= c.maxBadSteps) {
        tf.dispose([value, batch.ids, batch.targets, batch.weights, ...Object.values(grads), ...Object.values(clipped.grads)]);
        model.dispose();
        optimizer.dispose();
        throw new Error(
          `SFT: ${badRun} steps in a row gave a non-finite loss or gradient (last at step ${step}); lower learningRate (now ${c.learningRate}) or gradClip, or resume from the last checkpoint`,
        );
      }
    }
    tf.dispose([value, batch.ids, batch.targets, batch.weights, ...Object.values(grads), ...Object.values(clipped.grads)]);

    const logNow = step % 10 === 0 || step === c.steps;
    if (logNow && windowSteps > 0) {
      lossHistory.push({ step, loss: windowLoss / windowSteps });
      windowLoss = 0;
      windowSteps = 0;
    }
    if ((c.evalEvery > 0 && step % c.evalEvery === 0) || step === c.steps) {
      const v = evaluate();
      if (v !== null) validHistory.push({ step, loss: v });
    }
    const last = lossHistory[lossHistory.length - 1];
    const lastValid = validHistory[validHistory.length - 1];
    bar.tick(1, `loss ${last ? last.loss.toFixed(3) : "…"}${lastValid ? ` valid ${lastValid.loss.toFixed(3)}` : ""}`);
    // Let timers run between steps: the artifact store keeps the build's lock fresh with one.
    await new Promise((r) => setImmediate(r));
    const stopping = options.stopAtStep !== undefined && step >= options.stopAtStep && step < c.steps;
    if (checkpointDir && step < c.steps && ((c.checkpointEvery > 0 && step % c.checkpointEvery === 0) || stopping)) {
      writeCheckpoint(checkpointDir, model, tokenizer, optimizer, {
        trainingKey: key,
        step,
        lossHistory,
        validHistory,
        tokensSeen,
        skippedSteps,
        windowLoss,
        windowSteps,
      });
    }
    if (stopping) {
      if (!checkpointDir) throw new Error("trainSft: stopAtStep needs an outDir to leave the checkpoint in");
      bar.finish(`stopped at step ${step}; resume with the same configuration and folder`);
      optimizer.dispose();
      return {
        model,
        tokenizer,
        summary: partialSummary(c, key, step, lossHistory, validHistory, skippedSteps, tokensSeen, started, model, data, fingerprint),
      };
    }
  }
  bar.finish();
  optimizer.dispose();

  // 5. a few answers, the summary, the files
  const samplePrompts = options.samplePrompts ?? valid.slice(0, c.sampleAnswers).map((e) => e.prompt);
  const samples =
    c.sampleAnswers > 0 && samplePrompts.length
      ? sampleAnswers(model, tokenizer, samplePrompts.slice(0, c.sampleAnswers), c.seed, c.maxPromptTokens)
      : [];
  const bySource: Record<string, number> = {};
  for (const e of train) bySource[e.source] = (bySource[e.source] ?? 0) + 1;
  const finalValid = validHistory.length ? validHistory[validHistory.length - 1].loss : null;
  const summary: SftSummary = {
    format: "fulcra-sft-1",
    config: c,
    trainingKey: key,
    dataFingerprint: fingerprint,
    codeHash: sftCodeHash(),
    steps: c.steps,
    lossHistory,
    validHistory,
    finalTrainLoss: lossHistory.length ? lossHistory[lossHistory.length - 1].loss : NaN,
    finalValidLoss: finalValid,
    skippedSteps,
    examples: { train: train.length, valid: valid.length, bySource, dropped: data.dropped },
    tokensSeen,
    seconds: (Date.now() - started) / 1000,
    parameters: model.parameterCount(),
    samples,
    provenance: provenance({ dataFiles: data.files, seed: c.seed }),
  };
  if (options.outDir) {
    saveSftPolicy(options.outDir, model, tokenizer, summary);
    if (checkpointDir) rmSync(checkpointDir, { recursive: true, force: true });
  }
  return { model, tokenizer, summary };
}

function partialSummary(
  c: SftConfig,
  key: string,
  step: number,
  lossHistory: SftSummary["lossHistory"],
  validHistory: SftSummary["validHistory"],
  skippedSteps: number,
  tokensSeen: number,
  started: number,
  model: CausalLm,
  data: SftData,
  fingerprint: string,
): SftSummary {
  return {
    format: "fulcra-sft-1",
    config: c,
    trainingKey: key,
    dataFingerprint: fingerprint,
    codeHash: sftCodeHash(),
    steps: step,
    lossHistory,
    validHistory,
    finalTrainLoss: lossHistory.length ? lossHistory[lossHistory.length - 1].loss : NaN,
    finalValidLoss: validHistory.length ? validHistory[validHistory.length - 1].loss : null,
    skippedSteps,
    examples: { train: 0, valid: 0, bySource: {}, dropped: data.dropped },
    tokensSeen,
    seconds: (Date.now() - started) / 1000,
    parameters: model.parameterCount(),
    samples: [],
    provenance: provenance({ dataFiles: data.files, seed: c.seed }),
  };
}

function epochOrder(n: number, seed: number, epoch: number): number[] {
  return shuffled(
    Array.from({ length: n }, (_, i) => i),
    seededRandom(seed * 1_000_003 + epoch + 17),
  );
}

/** Mean response-token loss over `items` (no gradients). */
function meanLoss(model: CausalLm, items: readonly Encoded[], batchSize: number, pad: number): number {
  let total = 0;
  let count = 0;
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = makeBatch(items.slice(i, i + batchSize), pad);
    const n = batch.weights.sum().dataSync()[0];
    total += tf.tidy(() => responseLoss(model, batch).dataSync()[0]) * n;
    count += n;
    tf.dispose([batch.ids, batch.targets, batch.weights]);
  }
  return count ? total / count : NaN;
}

/** SFT loss of `model` on (prompt, response) pairs: mean nats per response token. */
export function sftLoss(
  model: CausalLm,
  tokenizer: Tokenizer,
  examples: readonly SftExample[],
  maxPromptTokens = SFT_DEFAULTS.maxPromptTokens,
  batchSize = 16,
): number {
  const items = encodeExamples(tokenizer, examples, model.config.contextLength, maxPromptTokens).filter(
    (e) => e.ids.length > e.responseStart,
  );
  return meanLoss(model, items, batchSize, tokenizer.specials.pad);
}

function sampleAnswers(
  model: CausalLm,
  tokenizer: Tokenizer,
  prompts: string[],
  seed: number,
  maxPromptTokens: number,
): { prompt: string; answer: string }[] {
  const maxNewTokens = Math.min(48, model.config.contextLength - maxPromptTokens - 2);
  const r = generate(model, tokenizer, prompts, { seed, temperature: 0.7, topK: 40, maxNewTokens, maxPromptTokens });
  return prompts.map((p, i) => ({ prompt: p, answer: r.texts[i] }));
}
