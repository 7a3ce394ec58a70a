/**
 * Loading what an alignment run stands on: the SFT policy and its tokenizer
 * (src/lm), two value evaluators (src/evaluator: the one the reward uses and
 * a second one, trained with another seed and on the other half of the data, that
 * the policy never sees; neither trains on the prompts the run is evaluated
 * on), the helpfulness reward model (src/metrics) and the prompts.
 *
 * Each part is read from its cache under runs/ when present, and otherwise
 * trained with its module's default configuration and saved there, so that a
 * first `fulcra align` works on a fresh checkout and later ones start at once.
 * The seconds spent on each part are reported in the run's summary.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { requireDataFile } from "../data/paths.js";
import { kitPaths } from "../runtime/env.js";
import { readRecords } from "../data/readers.js";
import { initBackend } from "../runtime/backend.js";
import type { AlignComponents } from "./run.js";
import type { PolicyTokenizer, ValueHeadPolicy } from "./policy.js";
import { asValueScorer } from "../metrics/score.js";
import { defaultRewardModelPath, loadOrTrainRewardModel } from "../metrics/reward-model.js";
import { alignEvaluationPrompts } from "../evaluator/data.js";
import {
  ALIGN_EVALUATOR_CONFIG,
  ensembleMemberConfigs,
  ensureEvaluator as ensureValueEvaluator,
  secondEvaluatorConfig,
  type EvaluatorConfig,
} from "../evaluator/train.js";
import type { CausalLm } from "../lm/model.js";
import { ensureSftPolicy, loadSftPolicy, type SftConfig } from "../lm/sft.js";
import type { Tokenizer } from "../lm/tokenizer.js";
import { loadHubPolicy } from "./hub-policy.js";
import { meanScorer, REWARD_ENSEMBLE_SIZE, type TextScorer, type ValueScorer } from "./reward.js";

/** The kit's causal LM seen as a PPO policy. */
export class LmPolicy implements ValueHeadPolicy {
  /**
   * @param detachValue stop the value loss's gradient at the value head, so that
   *   fitting the critic does not move the token distribution (and spend KL budget)
   */
  constructor(
    readonly model: CausalLm,
    public detachValue = false,
  ) {}
  forward(ids: tf.Tensor2D) {
    return this.model.forward(ids, { detachValue: this.detachValue });
  }
  step(ids: tf.Tensor2D, keyMask: tf.Tensor2D, cache?: unknown) {
    return this.model.step(ids, keyMask, cache as Parameters<CausalLm["step"]>[2]);
  }
  trainableVariables(): tf.Variable[] {
    return this.model.trainableVariables;
  }
  clone(): LmPolicy {
    return new LmPolicy(this.model.clone(), this.detachValue);
  }
  get contextLength(): number {
    return this.model.config.contextLength;
  }
  dispose(): void {
    this.model.dispose();
  }
}

export function lmTokenizer(tok: Tokenizer): PolicyTokenizer {
  return { encode: (t) => tok.encode(t), decode: (ids) => tok.decode(ids), eosId: tok.specials.eos, vocabSize: tok.vocabSize };
}

export interface ComponentOptions {
  /** SFT policy folder (default runs/lm/sft). */
  policyDir?: string;
  /** A GPT-2 hub folder to start from instead of the kit's SFT policy (see hub-policy.ts). */
  hubPolicyDir?: string;
  /** Folder of the evaluator the reward uses (default runs/evaluator/align-reward); further ensemble members go in DIR-2, DIR-3, … */
  evaluatorDir?: string;
  /** Members of the reward's evaluator (default REWARD_ENSEMBLE_SIZE): the reward reads the mean of their value vectors. */
  rewardEnsemble?: number;
  /** Folder of the second evaluator (default runs/evaluator/align-heldout). */
  heldoutEvaluatorDir?: string;
  /** Training configuration of the reward's evaluator when it has to be trained (the second one derives from it). */
  evaluatorConfig?: Partial<EvaluatorConfig>;
  /** SFT configuration when the policy has to be trained. */
  sftConfig?: Partial<SftConfig>;
  /** Load (or train) the helpfulness reward model too. */
  rewardModel?: boolean;
  /** Load only this part (see preparePart); the others are left out of the result. */
  only?: "policy" | "evaluators" | "rewardModel";
  /** Longest prompt, in tokens, kept when formatting (the rest of the context is the response). */
  maxPromptTokens?: number;
  quiet?: boolean;
}

/** Runs `work`, returning its result and the seconds it took. */
async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const r = await work();
  return [r, (Date.now() - t) / 1000];
}

/** Where each part lives for these options (defaults under runs/). */
export function componentPaths(options: ComponentOptions = {}): {
  policyDir: string;
  evaluatorDir: string;
  /** Every member of the reward's evaluator: evaluatorDir first, then DIR-2, DIR-3, … */
  evaluatorDirs: string[];
  heldoutEvaluatorDir: string;
  rewardModelFile: string | null;
} {
  const runs = kitPaths().runsDir;
  const evaluatorDir = options.evaluatorDir ?? join(runs, "evaluator", "align-reward");
  const size = options.rewardEnsemble ?? REWARD_ENSEMBLE_SIZE;
  return {
    policyDir: options.hubPolicyDir ?? options.policyDir ?? join(runs, "lm", "sft"),
    evaluatorDir,
    evaluatorDirs: Array.from({ length: size }, (_, i) => (i === 0 ? evaluatorDir : `${evaluatorDir}-${i + 1}`)),
    heldoutEvaluatorDir: options.heldoutEvaluatorDir ?? join(runs, "evaluator", "align-heldout"),
    rewardModelFile: options.rewardModel ? join(runs, "reward-model", "model.json") : null,
  };
}

/**
 * A short hash of the files of every part (policy weights and tokenizer,
 * both evaluators, the reward model), or null when one is missing. Equal
 * identities mean a stored run was made with the same models; computed
 * without loading anything.
 */
export function componentIdentity(options: ComponentOptions = {}): string | null {
  const p = componentPaths(options);
  const files = [
    join(p.policyDir, "model.safetensors"),
    join(p.policyDir, "tokenizer.json"),
    ...p.evaluatorDirs.flatMap((d) => [join(d, "model.json"), join(d, "weights.bin")]),
    join(p.heldoutEvaluatorDir, "model.json"),
    join(p.heldoutEvaluatorDir, "weights.bin"),
    ...(p.rewardModelFile ? [p.rewardModelFile] : []),
  ];
  if (!files.every((f) => existsSync(f))) return null;
  const h = createHash("sha256");
  for (const f of files) h.update(readFileSync(f));
  return h.digest("hex").slice(0, 16);
}

/**
 * A loader that loads the components on first call only, and whose
 * `identity()` tells, without loading, which models a run would use
 * (for reusing stored runs, see experiments.ts).
 */
export function lazyAlignComponents(options: ComponentOptions = {}): (() => Promise<AlignComponents>) & { identity: () => string | null } {
  let pending: Promise<AlignComponents> | undefined;
  return Object.assign(() => (pending ??= loadAlignComponents(options)), { identity: () => componentIdentity(options) });
}

/**
 * The notebooks' parts: the CLI's (the SFT policy's default is now small
 * enough for a notebook run on a machine without caches: 200 steps, cached in
 * runs/lm/sft, so the CLI and the notebooks share it), with the reward model.
 */
export function notebookComponentOptions(): ComponentOptions {
  return { rewardModel: true, quiet: true };
}

/**
 * Trains (or checks) one part and leaves it cached, without loading the rest:
 * lets a notebook spread the first-time training over several cells.
 */
export async function preparePart(
  options: ComponentOptions,
  part: "policy" | "evaluators" | "rewardModel",
): Promise<{ part: string; seconds: number; source: string }> {
  const started = Date.now();
  const one: ComponentOptions = { ...options, only: part };
  const c = await loadParts(one);
  const source = Object.entries(c.sources)
    .map(([k, v]) => `${k}: ${v}`)
    .join("; ");
  return { part, seconds: (Date.now() - started) / 1000, source };
}

/** What a preparation call (`only`) hands back: where each part came from and the seconds it took. */
type PreparedParts = Pick<AlignComponents, "sources" | "seconds">;

export async function loadAlignComponents(options: ComponentOptions = {}): Promise<AlignComponents> {
  const parts = await loadParts(options);
  if (!("policy" in parts)) throw new Error("loadAlignComponents: `only` prepares one part and loads nothing; call preparePart for that");
  return parts;
}

async function loadParts(options: ComponentOptions): Promise<AlignComponents | PreparedParts> {
  await initBackend({ quiet: options.quiet });
  const sources: Record<string, string> = {};
  const seconds: Record<string, number> = {};

  // Prompts: SafeRLHF training questions for rollouts, test questions held out.
  const trainFile = requireDataFile("saferlhf_train_questions");
  const testFile = requireDataFile("saferlhf_test_questions");
  const trainPrompts = readRecords("questions", trainFile).map((q) => q.prompt);
  // Only the evaluation half of the test prompts: the evaluators never train on it (see src/evaluator/data.ts).
  const testPrompts = alignEvaluationPrompts(readRecords("questions", testFile).map((q) => q.prompt));

  const want = (part: "policy" | "evaluators" | "rewardModel") => !options.only || options.only === part;
  let sft: { model: CausalLm; tokenizer: Tokenizer } | undefined;
  let evaluator: ValueScorer | undefined;
  let heldoutEvaluator: ValueScorer | undefined;
  const paths = componentPaths(options);
  if (want("policy") && !options.hubPolicyDir) {
    // The SFT policy (trained and cached by src/lm when absent).
    const policyDir = paths.policyDir;
    const policyFile = join(policyDir, "model.safetensors");
    const hadPolicy = existsSync(policyFile);
    const stampBefore = hadPolicy ? statSync(policyFile).mtimeMs : 0;
    let note = hadPolicy ? "cached" : "trained now";
    const [loaded, policySeconds] = await timed(async () => {
      try {
        return await ensureSftPolicy(policyDir, { quiet: options.quiet ?? false, ...options.sftConfig });
      } catch (e) {
        // A policy made by another SFT configuration or data version is still a valid starting point: use it, and say so.
        if (!hadPolicy || !/another configuration/.test((e as Error).message)) throw e;
        note = "cached; trained with another SFT configuration or data version than the current default";
        return loadSftPolicy(policyDir);
      }
    });
    // ensureSftPolicy retrains when the cached policy was made with another configuration.
    if (hadPolicy && note === "cached" && statSync(policyFile).mtimeMs !== stampBefore)
      note = "trained now: the cached one was made with another SFT configuration";
    sources.policy = `${policyDir} (${note})`;
    seconds.policy = policySeconds;
    sft = loaded;
  }
  if (want("evaluators")) {
    // Two value evaluators: the reward's, and a second one (another seed and the
    // other half of the data, the same head, see the evaluator module) that the
    // policy never optimises against.
    const ensureEvaluator = async (dir: string, config: Partial<EvaluatorConfig>, part: string) => {
      // Reused only when trained with this configuration by this code (ensureEvaluator checks); trained there otherwise.
      const had = existsSync(join(dir, "model.json")) ? statSync(join(dir, "model.json")).mtimeMs : 0;
      const [e, secs] = await timed(() => ensureValueEvaluator(dir, { ...config, quiet: options.quiet ?? false }));
      const now = existsSync(join(dir, "model.json")) ? statSync(join(dir, "model.json")).mtimeMs : 0;
      sources[part] =
        `${dir} (${had === 0 ? "trained now" : had === now ? "cached" : "trained now: the cached one was made with another configuration or code"})`;
      seconds[part] = secs;
      return asValueScorer(e);
    };
    // No evaluator of the run trains on the prompts it is evaluated on; the two train on disjoint halves of the rest.
    const evaluatorConfig = { ...ALIGN_EVALUATOR_CONFIG, ...(options.evaluatorConfig ?? {}) };
    const members = ensembleMemberConfigs(evaluatorConfig, paths.evaluatorDirs.length);
    const scorers: ValueScorer[] = [];
    for (const [i, dir] of paths.evaluatorDirs.entries()) {
      scorers.push(await ensureEvaluator(dir, members[i], i === 0 ? "evaluator" : `evaluator${i + 1}`));
    }
    evaluator = meanScorer(scorers);
    heldoutEvaluator = await ensureEvaluator(paths.heldoutEvaluatorDir, secondEvaluatorConfig(evaluatorConfig), "heldoutEvaluator");
  }

  let rewardModel: TextScorer | undefined;
  if (options.rewardModel && want("rewardModel")) {
    const had = existsSync(defaultRewardModelPath());
    const [rm, rmSeconds] = await timed(() => loadOrTrainRewardModel(defaultRewardModelPath(), { quiet: options.quiet }));
    rewardModel = rm;
    sources.rewardModel = `${defaultRewardModelPath()} (${had ? "cached" : "trained now"})`;
    seconds.rewardModel = rmSeconds;
  }

  if (options.only) {
    // A preparation call: the parts are cached; nothing is handed back to use.
    return { sources, seconds };
  }
  if (!evaluator || !heldoutEvaluator) throw new Error("internal: a part was not loaded");
  let start: Pick<AlignComponents, "policy" | "tokenizer" | "formatPrompt">;
  if (options.hubPolicyDir) {
    const started = Date.now();
    const hub = loadHubPolicy(options.hubPolicyDir, { maxPromptTokens: options.maxPromptTokens });
    Object.assign(sources, { policy: hub.description });
    Object.assign(seconds, { policy: (Date.now() - started) / 1000 });
    start = { policy: hub.policy, tokenizer: hub.tokenizer, formatPrompt: hub.formatPrompt };
  } else {
    if (!sft) throw new Error("internal: a part was not loaded");
    const policy = sft;
    const maxPromptTokens = options.maxPromptTokens ?? Math.floor(policy.model.config.contextLength / 2);
    start = {
      policy: new LmPolicy(policy.model),
      tokenizer: lmTokenizer(policy.tokenizer),
      formatPrompt: (p) => policy.tokenizer.formatPrompt(p, maxPromptTokens),
    };
  }
  return {
    ...start,
    evaluator,
    heldoutEvaluator,
    rewardModel,
    trainPrompts,
    testPrompts,
    dataFiles: [trainFile, testFile],
    sources,
    seconds,
    cache: new Map(),
    identity: componentIdentity(options) ?? undefined,
  };
}
