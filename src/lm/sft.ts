/**
 * Supervised fine-tuning (SFT): the starting policy of BaseAlign.
 *
 * The paper aligns a model that already answers questions. Here the kit
 * trains one from scratch on the answers it has: the responses of the FULCRA
 * dialogues (several LLMs answering value-laden prompts) and the chosen
 * answers of the HH-RLHF helpfulness pairs. The answers to the SafeRLHF test
 * prompts are kept out: the scored-output files (`harmless_test_*`) are never
 * read, and any dialogue whose prompt is a SafeRLHF test prompt is dropped.
 *
 * Method, in order:
 *   1. collect (prompt, response) pairs from the data files present
 *   2. train a byte-level BPE tokenizer on them (and on the training prompts)
 *   3. tokenise: [BOS] prompt [SEP] response [EOS], cut to the context
 *   4. AdamW on the next-token cross-entropy of the response tokens only:
 *        L = − Σ_t m_t log p(x_t | x_<t) / Σ_t m_t,  m_t = 1 on response tokens
 *      with linear warm-up then cosine decay, global-norm clipping, a guard
 *      that skips non-finite steps, periodic validation, checkpoints, resume
 *   5. save tokenizer.json, config.json + model.safetensors, sft.json
 *
 * Files: sft-config.ts (fields, defaults, help, what identifies a policy),
 * sft-data.ts (1–3: examples, tokenizer texts, batches), sft-loop.ts (4),
 * sft-checkpoint.ts (checkpoints, 5); this file: the cached starting policy.
 */
import { join } from "node:path";
import { ensureArtifact, type ArtifactKey } from "../runtime/artifacts.js";
import { initBackend } from "../runtime/backend.js";
import { kitPaths } from "../runtime/env.js";
import { loadSftPolicy, readSftSummary, type SftResult } from "./sft-checkpoint.js";
import { resolveSftConfig, sftCodeHash, sftTrainingFields, type SftConfig } from "./sft-config.js";
import { collectSftExamples, dataFingerprint, type SftData } from "./sft-data.js";
import { trainSft, type TrainSftOptions } from "./sft-loop.js";

export {
  resolveSftConfig,
  SFT_DEFAULTS,
  SFT_GPU_PRESET,
  SFT_HELP,
  sftCodeHash,
  sftHelp,
  sftTrainingKey,
  type SftConfig,
} from "./sft-config.js";
export { collectSftExamples, dataFingerprint, firstExchange, type SftData, type SftExample } from "./sft-data.js";
export { learningRateAt, sftLoss, trainSft, type TrainSftOptions } from "./sft-loop.js";
export { loadSftPolicy, saveSftPolicy, type SftResult, type SftSummary } from "./sft-checkpoint.js";

/** The default place of the SFT policy: runs/lm/sft. */
export function defaultSftDir(): string {
  return join(kitPaths().runsDir, "lm", "sft");
}

/** The artifact key of a policy trained with `c` on `data` by this code. */
export function sftArtifactKey(c: SftConfig, data: SftData): ArtifactKey {
  return { config: sftTrainingFields(c), data: dataFingerprint(data), code: sftCodeHash() };
}

/** The artifact key the policy saved in `dir` records (its sft.json); undefined when there is no complete policy. */
function recordedSftKey(dir: string): ArtifactKey | undefined {
  const saved = readSftSummary(dir);
  if (!saved?.config) return undefined;
  return { config: sftTrainingFields(saved.config), data: saved.dataFingerprint ?? "", code: saved.codeHash ?? "" };
}

/**
 * The starting policy, from the artifact store (runtime/artifacts): loaded
 * from `dir` when the policy there was trained with the same configuration,
 * data and code; trained otherwise (in `dir.building`, resumable, then moved
 * into place, so a reader never sees half a policy; one trainer at a time).
 * A policy in `dir` trained with another key (an older default, say) is not
 * thrown away: it is moved to `dir.stale-<its training key>` and a note says
 * why. `force: true` retrains even when the key matches.
 */
export async function ensureSftPolicy(
  dir: string = defaultSftDir(),
  partial: Partial<SftConfig> & { force?: boolean } = {},
  options: TrainSftOptions = {},
): Promise<SftResult> {
  const { force, ...rest } = partial;
  const c = resolveSftConfig(rest);
  const data = options.data ?? collectSftExamples({ useFulcra: c.useFulcra, useHelpful: c.useHelpful });
  const artifact = await ensureArtifact<SftResult>({
    what: "sft",
    path: dir,
    key: sftArtifactKey(c, data),
    recorded: recordedSftKey,
    build: (target) => trainSft(c, { ...options, data, outDir: target }),
    load: async (path) => {
      await initBackend({ quiet: c.quiet });
      return loadSftPolicy(path);
    },
    keepReplaced: (path) => `${path}.stale-${readSftSummary(path)?.trainingKey ?? "unknown"}`,
    force,
    quiet: c.quiet,
  });
  return artifact.value;
}
