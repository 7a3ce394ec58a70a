/**
 * A small helpfulness reward model, trained on human preference pairs.
 *
 * The paper scores every answer with a helpfulness reward model trained on
 * Anthropic's HH preference data, the public
 * OpenAssistant/reward-model-deberta-v3-large-v2 (eval.py); its scores are the
 * released `reward` field. With that checkpoint on disk, `fulcra hh score
 * --reward-model DIR` uses it (src/hub/reward.ts). This file is the offline
 * stand-in for machines without it: a model trained on the released helpful
 * preference pairs (`helpful_test`: a conversation, the answer people
 * preferred and the one they rejected) — which is the original's helpfulness
 * *test* set, so judging helpfulness on those prompts with this model is
 * circular except on its held-out pairs (DEVIATIONS.md, row "hh-reward-model").
 *
 * Model: a linear score over features of the final assistant turn,
 *
 *     r(x) = w · φ(x) + c,
 *
 * where φ(x) holds hashed word uni- and bigrams of the answer (each weighted
 * 1/√(number of n-grams), so long answers do not win by volume alone) and a
 * few standardised dense features (answer length, overlap with the
 * conversation, number of lines). Trained with the Bradley–Terry loss
 *
 *     L = −log σ(r(chosen) − r(rejected)) + λ‖w‖²                  (eq. BT)
 *
 * (c cancels in the difference; it is set afterwards so that the mean
 * training score is 0, making "reward > 0" read as "better than usual").
 * Training runs in TensorFlow.js; scoring is plain arithmetic on the saved
 * weights, so the aligner can call it millions of times without tfjs.
 */
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { requireDataFile } from "../data/paths.js";
import { codeHash, ensureArtifact, fileHashes, hashParts, type ArtifactKey } from "../runtime/artifacts.js";
import { writeFileAtomicSync } from "../runtime/atomic.js";
import { kitPaths } from "../runtime/env.js";
import { readRecords, type PreferencePair } from "../data/readers.js";
import { initBackend } from "../runtime/backend.js";
import { Progress } from "../runtime/progress.js";
import { provenance, type Provenance } from "../runtime/provenance.js";
import { seededRandom, shuffled } from "../runtime/random.js";
import { hashedNgrams, tokenize } from "../text/tokenize.js";

// ── Configuration ─────────────────────────────────────────────────────────
export interface RewardModelConfig {
  /** Hash buckets for the answer's n-grams (the sparse part of φ). */
  buckets: number;
  /** Longest n-gram (2 = words and word pairs). */
  maxN: number;
  /** Share of the preference pairs held out to measure pairwise accuracy. */
  heldOutFraction: number;
  /** Seed of the train/held-out split and of the minibatch order. */
  seed: number;
  /** Passes over the training pairs. */
  epochs: number;
  /** Pairs per gradient step. */
  batchSize: number;
  /** Adam step size. */
  learningRate: number;
  /** λ of the L2 penalty on w. */
  l2: number;
}

export const DEFAULT_REWARD_MODEL_CONFIG: RewardModelConfig = {
  buckets: 1 << 15,
  maxN: 2,
  heldOutFraction: 0.2,
  seed: 20240601,
  epochs: 6,
  batchSize: 32,
  learningRate: 0.01,
  l2: 1e-3,
};

/** The dense features, in the order of `denseWeights`. */
export const DENSE_FEATURES = ["log_answer_tokens", "overlap_with_conversation", "log_answer_lines", "question_marks"] as const;

// ── Text → features ───────────────────────────────────────────────────────

/** The conversation before the last assistant turn, and that turn. */
export function splitLastTurn(text: string): { context: string; answer: string } {
  const marks = [/\n\nAssistant:/g, /\nAssistant:/g, /\nBob:/g, /^Assistant:/g];
  for (const re of marks) {
    let last = -1;
    let len = 0;
    for (const m of text.matchAll(re)) {
      last = m.index!;
      len = m[0].length;
    }
    if (last >= 0) return { context: text.slice(0, last), answer: text.slice(last + len).trim() };
  }
  return { context: "", answer: text.trim() };
}

/** A transcript in the preference data's format, so that prompt + answer score like the training pairs. */
export function hhTranscript(prompt: string, answer: string): string {
  return `\n\nHuman: ${prompt}\n\nAssistant: ${answer}`;
}

interface TextFeatures {
  ids: number[];
  weights: number[];
  dense: number[];
}

function featurize(text: string, config: Pick<RewardModelConfig, "buckets" | "maxN">): TextFeatures {
  const { context, answer } = splitLastTurn(text);
  const tokens = tokenize(answer);
  const grams = hashedNgrams(tokens, { buckets: config.buckets, maxN: config.maxN, namespace: "answer:" });
  const counts = new Map<number, number>();
  for (const g of grams) counts.set(g, (counts.get(g) ?? 0) + 1);
  const scale = grams.length > 0 ? 1 / Math.sqrt(grams.length) : 0;
  const contextWords = new Set(tokenize(context));
  const words = tokens.filter((t) => /\p{L}/u.test(t));
  const overlap = words.length > 0 ? words.filter((w) => contextWords.has(w)).length / words.length : 0;
  return {
    ids: [...counts.keys()],
    weights: [...counts.values()].map((c) => c * scale),
    dense: [
      Math.log1p(tokens.length),
      overlap,
      Math.log1p(answer.split("\n").filter((l) => l.trim()).length),
      tokens.filter((t) => t === "?").length,
    ],
  };
}

// ── The model ─────────────────────────────────────────────────────────────

export interface RewardModelMetrics {
  trainPairs: number;
  heldOutPairs: number;
  /** Share of held-out pairs where the chosen answer scores higher (ties count half). */
  heldOutAccuracy: number;
  trainAccuracy: number;
  /** The same accuracy for "the longer answer is better", a baseline to beat. */
  heldOutLengthBaselineAccuracy: number;
  /** Mean Bradley–Terry loss on the held-out pairs. */
  heldOutLoss: number;
  trainSeconds: number;
  backend: string;
}

export interface SavedRewardModel {
  format: "fulcra-reward-model/1";
  config: RewardModelConfig;
  weights: number[];
  denseWeights: number[];
  denseMean: number[];
  denseStd: number[];
  offset: number;
  metrics: RewardModelMetrics;
  provenance: Provenance;
}

export class HelpfulnessRewardModel {
  constructor(readonly saved: SavedRewardModel) {
    if (saved.format !== "fulcra-reward-model/1") throw new Error(`not a fulcra reward model (format "${saved.format}")`);
    if (saved.weights.length !== saved.config.buckets)
      throw new Error(`reward model has ${saved.weights.length} weights for ${saved.config.buckets} buckets`);
  }

  get metrics(): RewardModelMetrics {
    return this.saved.metrics;
  }

  /** Helpfulness of each text (a transcript "\n\nHuman: …\n\nAssistant: …" or a plain answer); higher is better. */
  score(texts: readonly string[]): number[] {
    return texts.map((t) => this.scoreOne(t));
  }

  /** Scores answers to prompts (builds the transcripts). */
  scorePairs(prompts: readonly string[], answers: readonly string[]): number[] {
    if (prompts.length !== answers.length) throw new RangeError(`${prompts.length} prompts but ${answers.length} answers`);
    return answers.map((a, i) => this.scoreOne(hhTranscript(prompts[i], a)));
  }

  private scoreOne(text: string): number {
    const s = this.saved;
    const f = featurize(text, s.config);
    let r = s.offset;
    for (let i = 0; i < f.ids.length; i++) r += s.weights[f.ids[i]] * f.weights[i];
    for (let j = 0; j < f.dense.length; j++) r += s.denseWeights[j] * ((f.dense[j] - s.denseMean[j]) / s.denseStd[j]);
    return r;
  }

  save(file: string): string {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomicSync(file, JSON.stringify(this.saved) + "\n");
    return file;
  }

  static load(file: string): HelpfulnessRewardModel {
    if (!existsSync(file)) throw new Error(`no reward model at ${file}; train one with \`npx fulcra hh reward-model train\``);
    return new HelpfulnessRewardModel(JSON.parse(readFileSync(file, "utf8")) as SavedRewardModel);
  }
}

/** Where the kit keeps its trained reward model. */
export function defaultRewardModelPath(): string {
  return join(kitPaths().runsDir, "reward-model", "model.json");
}

// ── Training ──────────────────────────────────────────────────────────────

export interface TrainRewardModelOptions {
  /** Preference pairs (default: the helpful_test file). */
  pairs?: readonly PreferencePair[];
  config?: Partial<RewardModelConfig>;
  quiet?: boolean;
}

function pairAccuracy(chosen: readonly number[], rejected: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < chosen.length; i++) s += chosen[i] > rejected[i] ? 1 : chosen[i] === rejected[i] ? 0.5 : 0;
  return s / chosen.length;
}

export async function trainRewardModel(options: TrainRewardModelOptions = {}): Promise<HelpfulnessRewardModel> {
  const config: RewardModelConfig = { ...DEFAULT_REWARD_MODEL_CONFIG, ...options.config };
  const dataFile = options.pairs ? undefined : requireDataFile("helpful_test");
  const pairs = options.pairs ?? readRecords("preference_pairs", dataFile!);
  if (pairs.length < 10) throw new Error(`need at least 10 preference pairs to train and hold some out, got ${pairs.length}`);
  const backend = await initBackend({ quiet: options.quiet });
  const started = Date.now();

  // 1. Seeded split of the pairs into train and held-out.
  const order = shuffled(
    pairs.map((_, i) => i),
    seededRandom(config.seed),
  );
  const nHeld = Math.max(1, Math.round(pairs.length * config.heldOutFraction));
  const heldIdx = order.slice(0, nHeld);
  const trainIdx = order.slice(nHeld);

  // 2. Features of every text; dense features standardised on the training texts.
  const feats = pairs.map((p) => ({ chosen: featurize(p.chosen, config), rejected: featurize(p.rejected, config) }));
  const D = DENSE_FEATURES.length;
  const denseMean = new Array<number>(D).fill(0);
  const denseStd = new Array<number>(D).fill(0);
  const trainTexts = trainIdx.flatMap((i) => [feats[i].chosen, feats[i].rejected]);
  for (const f of trainTexts) f.dense.forEach((x, j) => (denseMean[j] += x / trainTexts.length));
  for (const f of trainTexts) f.dense.forEach((x, j) => (denseStd[j] += (x - denseMean[j]) ** 2 / trainTexts.length));
  for (let j = 0; j < D; j++) denseStd[j] = Math.sqrt(denseStd[j]) || 1;

  // φ(chosen) − φ(rejected) as one dense row of buckets + D numbers: r(c) − r(r) = w·Δφ.
  const width = config.buckets + D;
  function diffRows(idx: readonly number[]): tf.Tensor2D {
    const data = new Float32Array(idx.length * width);
    idx.forEach((pi, row) => {
      const base = row * width;
      for (const [f, sign] of [
        [feats[pi].chosen, 1],
        [feats[pi].rejected, -1],
      ] as const) {
        f.ids.forEach((id, k) => (data[base + id] += sign * f.weights[k]));
        f.dense.forEach((x, j) => (data[base + config.buckets + j] += (sign * (x - denseMean[j])) / denseStd[j]));
      }
    });
    return tf.tensor2d(data, [idx.length, width]);
  }

  // 3. Minimise the Bradley–Terry loss (eq. BT) with Adam; w starts at 0 (the problem is convex).
  const w = tf.variable(tf.zeros([width, 1]), true, "reward_w");
  const optimizer = tf.train.adam(config.learningRate);
  const random = seededRandom(config.seed + 1);
  const stepsPerEpoch = Math.ceil(trainIdx.length / config.batchSize);
  const progress = new Progress({ label: "reward model", total: config.epochs * stepsPerEpoch, quiet: options.quiet });
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const epochOrder = shuffled(trainIdx, random);
    let lossSum = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const batch = epochOrder.slice(s * config.batchSize, (s + 1) * config.batchSize);
      const x = diffRows(batch);
      const loss = optimizer.minimize(
        () => {
          const margin = tf.matMul(x, w); // r(chosen) − r(rejected)
          const bt = tf.mean(tf.softplus(tf.neg(margin))); // −log σ(margin)
          return tf.add(bt, tf.mul(config.l2, tf.sum(tf.square(w)))) as tf.Scalar;
        },
        true,
        [w],
      )!;
      lossSum += (await loss.data())[0];
      tf.dispose([x, loss]);
      progress.tick(1, `epoch ${epoch + 1} loss ${(lossSum / (s + 1)).toFixed(4)}`);
    }
  }
  progress.finish();
  const all = Array.from(await w.data());
  tf.dispose(w);
  optimizer.dispose();

  // 4. Centre the scores on the training texts, then measure.
  const saved: SavedRewardModel = {
    format: "fulcra-reward-model/1",
    config,
    weights: all.slice(0, config.buckets),
    denseWeights: all.slice(config.buckets),
    denseMean,
    denseStd,
    offset: 0,
    metrics: undefined as unknown as RewardModelMetrics,
    provenance: undefined as unknown as Provenance,
  };
  const model = new HelpfulnessRewardModel(saved);
  const trainScores = model.score(trainIdx.flatMap((i) => [pairs[i].chosen, pairs[i].rejected]));
  saved.offset = -trainScores.reduce((a, b) => a + b, 0) / trainScores.length;
  const trainSeconds = (Date.now() - started) / 1000;

  const scoresOf = (idx: readonly number[]) => ({
    chosen: model.score(idx.map((i) => pairs[i].chosen)),
    rejected: model.score(idx.map((i) => pairs[i].rejected)),
  });
  const held = scoresOf(heldIdx);
  const train = scoresOf(trainIdx);
  const answerLength = (t: string) => splitLastTurn(t).answer.length;
  saved.metrics = {
    trainPairs: trainIdx.length,
    heldOutPairs: heldIdx.length,
    heldOutAccuracy: pairAccuracy(held.chosen, held.rejected),
    trainAccuracy: pairAccuracy(train.chosen, train.rejected),
    heldOutLengthBaselineAccuracy: pairAccuracy(
      heldIdx.map((i) => answerLength(pairs[i].chosen)),
      heldIdx.map((i) => answerLength(pairs[i].rejected)),
    ),
    heldOutLoss: held.chosen.reduce((s, c, k) => s + Math.log1p(Math.exp(-(c - held.rejected[k]))), 0) / heldIdx.length,
    trainSeconds,
    backend: `${backend.name} (${backend.tfjsBackend})`,
  };
  saved.provenance = provenance({
    dataFiles: dataFile ? [dataFile] : [],
    seed: config.seed,
    extra: {
      heldOutPairLines: heldIdx.map((i) => pairs[i].line).sort((a, b) => a - b),
      dataHash: rewardDataHash(options.pairs),
      codeHash: rewardModelCodeHash(),
    },
  });
  return model;
}

// ── The cached model ──────────────────────────────────────────────────────

let rewardModelCode: string | undefined;

/** A hash of the code that decides what training produces: this file and the text tokenizer (read once per process). */
export function rewardModelCodeHash(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  rewardModelCode ??= codeHash([join(here, "reward-model.js"), join(here, "..", "text", "tokenize.js")], here);
  return rewardModelCode;
}

/** A hash of the preference pairs training reads: the given ones, or the helpful_test file. */
export function rewardDataHash(pairs?: readonly PreferencePair[]): string {
  if (pairs) return hashParts(pairs.flatMap((p) => [p.chosen, p.rejected]));
  return hashParts(fileHashes([requireDataFile("helpful_test")]));
}

/** The artifact key the reward model saved in `file` records; undefined when it cannot be read. */
function recordedRewardModelKey(file: string): ArtifactKey | undefined {
  const saved = JSON.parse(readFileSync(file, "utf8")) as SavedRewardModel;
  if (!saved.config) return undefined;
  const prov = (saved.provenance ?? {}) as { dataHash?: unknown; codeHash?: unknown };
  return { config: { ...saved.config }, data: String(prov.dataHash ?? ""), code: String(prov.codeHash ?? "") };
}

/**
 * The reward model from the artifact store (runtime/artifacts): the one saved
 * in `file` when trained with this configuration, on these pairs, by this
 * code; else one trained now and saved there (a replaced one is kept beside
 * it as `*.replaced.json`).
 */
export async function loadOrTrainRewardModel(
  file = defaultRewardModelPath(),
  options: TrainRewardModelOptions = {},
): Promise<HelpfulnessRewardModel> {
  const config: RewardModelConfig = { ...DEFAULT_REWARD_MODEL_CONFIG, ...options.config };
  const artifact = await ensureArtifact<HelpfulnessRewardModel>({
    what: "reward model",
    path: file,
    kind: "file",
    key: { config: { ...config }, data: rewardDataHash(options.pairs), code: rewardModelCodeHash() },
    recorded: recordedRewardModelKey,
    build: async (target) => {
      const model = await trainRewardModel(options);
      model.save(target);
      return model;
    },
    load: (path) => HelpfulnessRewardModel.load(path),
    keepReplaced: (path) => `${path.replace(/\.json$/, "")}.replaced.json`,
    quiet: options.quiet,
  });
  return artifact.value;
}
