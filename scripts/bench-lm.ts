/**
 * Costs of the kit's language model on this machine: forward, training
 * step (forward + backward + AdamW), generation with and without the KV
 * cache, for the default configuration and a few neighbours.
 *
 *   npm run build && node dist/scripts/bench-lm.js [--quick] [--sweep]
 *   node dist/scripts/bench-lm.js --backend webgpu --json --quick --configs default,gpu --batch 8 --no-generate
 *
 * --configs default,gpu adds GPU_LM_CONFIG (8192 ids); --batch sets the
 * training batch (default 16); --no-generate skips generation. With --json
 * each configuration gives lm-forward and lm-sft-step (tokens/s, and ms per
 * step) and, unless skipped, lm-generate (new tokens/s with the KV cache);
 * workloads of the GPU configuration end in "-gpu-config".
 *
 * Prints wall-clock and process CPU time (CPU time is the fairer figure
 * when other jobs share the cores). The backend comes from initBackend()
 * (FULCRA_BACKEND=wasm|cpu|node|gpu forces one).
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { createModel, DEFAULT_LM_CONFIG, GPU_LM_CONFIG, tokenLogProbs, type LmConfig } from "../src/lm/model.js";
import { benchBackend, benchSetup, emit } from "./bench-common.js";
import { generate } from "../src/lm/generate.js";
import { trainTokenizer } from "../src/lm/tokenizer.js";
import { AdamW } from "../src/lm/optim.js";
import { readRecords, splitDialogue } from "../src/data/readers.js";
import { requireDataFile } from "../src/data/paths.js";

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function time(f: () => void, minMs: number): Timing {
  f(); // warm-up (kernel set-up, XNNPACK packing)
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < minMs || n < 2) {
    f();
    n++;
  }
  const c = process.cpuUsage(c0);
  return { wallMs: (performance.now() - t0) / n, cpuMs: (c.user + c.system) / 1000 / n };
}

/** time() for work that ends in an asynchronous read-back (the only kind the webgpu backend has). */
async function timeAsync(f: () => Promise<void>, minMs: number): Promise<Timing> {
  const w0 = performance.now();
  await f();
  // A call slower than 5 s (a large configuration on a CPU backend) is timed once more, not twice.
  const runs = performance.now() - w0 > 5000 ? 1 : 2;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < runs || (runs > 1 && performance.now() - t0 < minMs)) {
    await f();
    n++;
  }
  const c = process.cpuUsage(c0);
  return { wallMs: (performance.now() - t0) / n, cpuMs: (c.user + c.system) / 1000 / n };
}

function fmt(t: Timing, tokens: number): string {
  return `${t.wallMs.toFixed(0).padStart(6)} ms wall ${t.cpuMs.toFixed(0).padStart(6)} ms cpu  ${((tokens / t.wallMs) * 1000).toFixed(0).padStart(6)} tok/s wall ${((tokens / t.cpuMs) * 1000).toFixed(0).padStart(6)} tok/s cpu`;
}

async function main(): Promise<void> {
  const setup = benchSetup();
  const { values: opt } = parseArgs({
    args: setup.rest,
    options: {
      quick: { type: "boolean" },
      sweep: { type: "boolean" },
      configs: { type: "string" },
      batch: { type: "string" },
      "no-generate": { type: "boolean" },
    },
  });
  const quick = Boolean(opt.quick);
  const sweep = Boolean(opt.sweep);
  const configs = (opt.configs ?? "default").split(",");
  for (const c of configs) if (c !== "default" && c !== "gpu") throw new Error(`--configs: unknown configuration "${c}" (default, gpu)`);
  const generateToo = !opt["no-generate"];
  const B = Number(opt.batch ?? 16);
  const backend = await benchBackend(setup);
  const minMs = quick ? 800 : 2500;
  console.log(`bench-lm: backend ${backend.name} (${backend.tfjsBackend}), tfjs ${backend.tfjsVersion}, ${new Date().toISOString()}`);

  const candidates: [string, Omit<LmConfig, "vocabSize">, number][] = configs.includes("default")
    ? [["default", DEFAULT_LM_CONFIG, 2048]]
    : [];
  if (configs.includes("gpu")) candidates.push(["gpu", GPU_LM_CONFIG, 8192]);
  if (sweep) {
    candidates.push(
      ["vocab 1024", DEFAULT_LM_CONFIG, 1024],
      ["context 96", { ...DEFAULT_LM_CONFIG, contextLength: 96 }, 2048],
      ["width 192, 6 heads", { ...DEFAULT_LM_CONFIG, width: 192, heads: 6, mlpWidth: 768 }, 2048],
      ["4 layers", { ...DEFAULT_LM_CONFIG, layers: 4 }, 2048],
    );
  }
  // Real prompts and a real tokenizer for the generation benchmark.
  const dialogues = readRecords("fulcra", requireDataFile("trustworthy_data")).map((r) => r.dialogue);
  const prompts = dialogues.slice(0, 32).map((d) => splitDialogue(d).prompt);
  const tokenizers = new Map<number, ReturnType<typeof trainTokenizer>>();
  if (generateToo) {
    const chars = dialogues.reduce((n, d) => n + d.length, 0);
    const t0 = performance.now();
    const tok = trainTokenizer(dialogues, 2048);
    const trainMs = performance.now() - t0;
    const t1 = performance.now();
    const ids = dialogues.reduce((n, d) => n + tok.encode(d).length, 0);
    const encodeMs = performance.now() - t1;
    console.log(
      `tokenizer: 2048-id BPE trained on ${(chars / 1e6).toFixed(2)}M chars in ${(trainMs / 1000).toFixed(2)} s; ` +
        `re-encoding them (cached chunks) ${(encodeMs / 1000).toFixed(2)} s, ${(chars / ids).toFixed(2)} chars per token`,
    );
    tokenizers.set(2048, tok);
  }
  for (const [label, base, vocabSize] of candidates) {
    const config: LmConfig = { ...base, vocabSize };
    const model = createModel(config, 1);
    const T = config.contextLength;
    const workload = (w: string) => (label === "gpu" ? `${w}-gpu-config` : w);
    console.log(
      `\n[${label}] layers ${config.layers}, heads ${config.heads}, width ${config.width}, context ${T}, vocab ${vocabSize}: ${(model.parameterCount() / 1e6).toFixed(2)}M parameters`,
    );
    const ids = tf.tensor2d(
      Array.from({ length: B * T }, (_, i) => (i * 7919) % vocabSize),
      [B, T],
      "int32",
    );
    const targets = ids.reshape([-1]) as tf.Tensor1D;

    // Each timed call waits for its result through a scalar read-back, so a GPU backend is timed to completion.
    const fwd = await timeAsync(async () => {
      const s = tf.tidy(() => tf.sum(model.forward(ids).logits));
      await s.data();
      s.dispose();
    }, minMs);
    console.log(`  forward   ${B}×${T}   ${fmt(fwd, B * T)}`);
    emit(setup, backend.name, workload("lm-forward"), "throughput", (B * T) / (fwd.wallMs / 1000), "tokens/s");

    const optimizer = new AdamW({ learningRate: 1e-4 });
    const train = await timeAsync(async () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const { logits } = model.forward(ids);
          return tf.neg(tf.mean(tokenLogProbs(logits.reshape([B * T, vocabSize]) as tf.Tensor2D, targets))) as tf.Scalar;
        }, model.trainableVariables);
        optimizer.step(model.params, grads);
        return value;
      });
      await loss.data();
      loss.dispose();
    }, minMs);
    console.log(`  train step ${B}×${T}  ${fmt(train, B * T)}`);
    emit(setup, backend.name, workload("lm-sft-step"), "throughput", (B * T) / (train.wallMs / 1000), "tokens/s");
    emit(setup, backend.name, workload("lm-sft-step"), "step_time", train.wallMs, "ms");
    if (!generateToo) {
      tf.dispose([ids, targets]);
      optimizer.dispose();
      model.dispose();
      continue;
    }

    if (!tokenizers.has(vocabSize)) tokenizers.set(vocabSize, trainTokenizer(dialogues, vocabSize));
    const tokenizer = tokenizers.get(vocabSize)!;
    const newTokens = 32;
    for (const useCache of [true, false]) {
      let produced = 0;
      const g = time(
        () => {
          const r = generate(model, tokenizer, prompts, { maxNewTokens: newTokens, seed: 1, useCache, batchSize: 32, maxPromptTokens: 24 });
          produced = r.responseIds.reduce((s, x) => s + x.length, 0);
        },
        quick ? 0 : minMs,
      );
      console.log(`  generate 32 prompts × ${newTokens} new tokens, ${useCache ? "KV cache   " : "no cache   "} ${fmt(g, produced)}`);
      if (useCache) emit(setup, backend.name, workload("lm-generate"), "throughput", produced / (g.wallMs / 1000), "tokens/s");
    }
    tf.dispose([ids, targets]);
    optimizer.dispose();
    model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
