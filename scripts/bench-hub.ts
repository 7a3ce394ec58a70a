/**
 * What the real hub checkpoints cost on this machine: tokens per second for
 * forward and forward + backward of a GPT-2-small-shaped model (12 layers,
 * width 768, 12 heads, vocabulary 50257) and a DeBERTa-v3-large-shaped one
 * (24 layers, width 1024, 16 heads, intermediate 4096, vocabulary 128100,
 * position_buckets 256), with random weights of the real sizes; for GPT-2
 * also generation with the KV cache (what sampling answers costs).
 *
 *   npm run bench:hub -- [--backend cpu|wasm|node|gpu|webgpu] [--json] [--quick] [--only gpt2|deberta]
 *                        [--batch N] [--seq N] [--repeat N] [--layers N]
 *
 * --quick: 2 layers and short sequences, a smoke run of the whole script.
 * --layers N: N blocks instead of the real depth (workload "NAME-Nlayers"):
 * the cost of a block is the same at every depth, so two depths give the
 * per-block time, and from it the real depth's, where the real model's
 * training step does not fit a backend's memory (DeBERTa-v3-large on wasm).
 * --json: one line per figure, {"workload", "backend", "metric", "value", "unit"}.
 * Forward + backward runs last: on wasm a step that needs more than the
 * 4 GiB a WebAssembly memory can hold aborts the backend (measured: GPT-2
 * small at batch 4 × 64), and the figures before it are already printed.
 * Wall-clock time; on a shared machine the figures are lower bounds of what
 * the hardware gives (process CPU time is printed beside in the text output).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendName } from "../src/runtime/backend.js";
import { normal, seededRandom } from "../src/runtime/random.js";
import { Gpt2LMHeadModel, gpt2ParameterShapes, GPT2_CONFIG_DEFAULTS, type Gpt2Config } from "../src/hub/gpt2.js";
import { parseDebertaConfig, randomDeberta, type DebertaInputs } from "../src/hub/deberta.js";

interface Figure {
  workload: string;
  backend: string;
  metric: string;
  value: number;
  unit: string;
}

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

const HELP = `bench-hub: tokens/s of GPT-2-small- and DeBERTa-v3-large-shaped models (random weights)
  --backend NAME   cpu | wasm | node | gpu | webgpu (default: the kit's choice)
  --json           one JSON object per line
  --quick          2 layers, short sequences (smoke run)
  --only W         gpt2 | deberta
  --batch N        rows per pass (default 4)
  --seq N          tokens per row (default: gpt2 64, deberta 128; quick 16)
  --repeat N       timed repetitions per figure (default 1, after a small warm-up)
  --layers N       N blocks instead of the real 12 (GPT-2) / 24 (DeBERTa), to
                   measure per-block cost where the real depth does not fit`;

/** Seeded N(0, std²) values; layer-norm gains are set to 1 by the callers. */
function randomArray(size: number, std: number, random: () => number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = std * normal(random);
  return a;
}

function timeIt(f: () => void, repeat: number): { wallMs: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) f();
  const c = process.cpuUsage(c0);
  return { wallMs: (performance.now() - t0) / repeat, cpuMs: (c.user + c.system) / 1000 / repeat };
}

/**
 * The wasm backend keeps every tensor in one WebAssembly memory of at most
 * 4 GiB, which only grows: its size after a training step is the peak the
 * step needed (weights, their packed copies, activations, gradients).
 */
function emitHeap(workload: string, backend: string, emit: (f: Figure, note?: string) => void): void {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm;
  if (wasm)
    emit(
      { workload, backend, metric: "peak_wasm_memory", value: wasm.HEAPU8.length / 2 ** 20, unit: "MiB" },
      "of the 4096 MiB a wasm memory can hold",
    );
}

/** Next-token cross-entropy over every position: the loss of LM fine-tuning. */
function lmLoss(logits: tf.Tensor3D, ids: tf.Tensor2D): tf.Scalar {
  const [B, T, V] = logits.shape;
  const predicting = logits.slice([0, 0, 0], [B, T - 1, V]).reshape([B * (T - 1), V]) as tf.Tensor2D;
  const targets = ids.slice([0, 1], [B, T - 1]).reshape([-1]) as tf.Tensor1D;
  const logp = tf.logSoftmax(predicting);
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(targets, V)), -1))) as tf.Scalar;
}

async function benchGpt2(
  backend: string,
  quick: boolean,
  layers: number | undefined,
  batch: number,
  seq: number,
  repeat: number,
  emit: (f: Figure, note?: string) => void,
): Promise<void> {
  const config: Gpt2Config = { ...GPT2_CONFIG_DEFAULTS, n_layer: layers ?? (quick ? 2 : GPT2_CONFIG_DEFAULTS.n_layer) };
  const workload = config.n_layer === GPT2_CONFIG_DEFAULTS.n_layer ? "gpt2-small" : `gpt2-small-${config.n_layer}layers`;
  const random = seededRandom(1);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of gpt2ParameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    weights.set(name, /ln_.*weight$/.test(name) ? new Float32Array(size).fill(1) : randomArray(size, 0.02, random));
  }
  const model = new Gpt2LMHeadModel(config, weights);
  weights.clear();
  const params = model.parameterCount();
  const ids = tf.tensor2d(
    Array.from({ length: batch }, (_, b) => Array.from({ length: seq }, (_, t) => (b * 7919 + t * 104729) % config.vocab_size)),
    undefined,
    "int32",
  );
  const small = ids.slice([0, 0], [1, 8]) as tf.Tensor2D;
  const tokens = batch * seq;
  const note = `${(params / 1e6).toFixed(1)}M parameters, batch ${batch} × ${seq} tokens`;

  // Warm-up on a short input (kernel set-up, weight packing).
  tf.dispose(model.forward(small));
  let t = timeIt(() => tf.dispose(model.forward(ids)), repeat);
  emit(
    { workload, backend, metric: "forward_tokens_per_s", value: (tokens / t.wallMs) * 1000, unit: "tokens/s" },
    `${note}; ${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms cpu per pass`,
  );

  // Sampling with the KV cache: a prompt of `prompt` tokens, then one token per row per step.
  const prompt = Math.min(40, seq);
  const steps = quick ? 4 : 16;
  const generate = () => {
    let r = model.step(ids.slice([0, 0], [batch, prompt]) as tf.Tensor2D, undefined);
    for (let s = 0; s < steps; s++) {
      const next = tf.tidy(
        () =>
          model
            .logits(r.hidden.slice([0, r.hidden.shape[1] - 1, 0], [batch, 1, -1]) as tf.Tensor3D, true)
            .argMax(-1)
            .cast("int32") as tf.Tensor2D,
      );
      const old = r;
      r = model.step(next, undefined, old.cache);
      tf.dispose([next, old.hidden, old.cache.keys, old.cache.values]);
    }
    tf.dispose([r.hidden, r.cache.keys, r.cache.values]);
  };
  t = timeIt(generate, repeat);
  emit(
    { workload, backend, metric: "generate_tokens_per_s", value: ((batch * steps) / t.wallMs) * 1000, unit: "tokens/s" },
    `batch ${batch}, prompt ${prompt} tokens, ${steps} new tokens per row with the KV cache (prompt pass included); ${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms cpu`,
  );
  const step = (x: tf.Tensor2D) => {
    const { value, grads } = tf.variableGrads(() => lmLoss(model.forward(x), x), model.trainableVariables);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(small);
  t = timeIt(() => step(ids), repeat);
  emit(
    { workload, backend, metric: "forward_backward_tokens_per_s", value: (tokens / t.wallMs) * 1000, unit: "tokens/s" },
    `${note}; ${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms cpu per step`,
  );
  emitHeap(workload, backend, emit);
  tf.dispose([ids, small]);
  model.dispose();
}

/** DeBERTa-v3-large's settings (config.json of microsoft/deberta-v3-large, one label as in the reward model). */
export const DEBERTA_V3_LARGE = {
  model_type: "deberta-v2",
  architectures: ["DebertaV2ForSequenceClassification"],
  vocab_size: 128100,
  hidden_size: 1024,
  num_hidden_layers: 24,
  num_attention_heads: 16,
  intermediate_size: 4096,
  hidden_act: "gelu",
  max_position_embeddings: 512,
  type_vocab_size: 0,
  layer_norm_eps: 1e-7,
  relative_attention: true,
  max_relative_positions: -1,
  position_buckets: 256,
  norm_rel_ebd: "layer_norm",
  share_att_key: true,
  pos_att_type: ["p2c", "c2p"],
  position_biased_input: false,
  pad_token_id: 0,
  num_labels: 1,
  id2label: { 0: "LABEL_0" },
};

async function benchDeberta(
  backend: string,
  quick: boolean,
  layers: number | undefined,
  batch: number,
  seq: number,
  repeat: number,
  emit: (f: Figure, note?: string) => void,
): Promise<void> {
  const config = parseDebertaConfig(
    { ...DEBERTA_V3_LARGE, num_hidden_layers: layers ?? (quick ? 2 : DEBERTA_V3_LARGE.num_hidden_layers) },
    "DeBERTa-v3-large settings",
  );
  const workload =
    config.num_hidden_layers === DEBERTA_V3_LARGE.num_hidden_layers
      ? "deberta-v3-large"
      : `deberta-v3-large-${config.num_hidden_layers}layers`;
  // N(0, 0.02²) matrices, zero biases, unit gains: the sizes of the reward model, not its values.
  const model = randomDeberta(config, 1, true);
  const params = model.variables().reduce((a, v) => a + v.size, 0);
  const rows = (n: number, len: number) =>
    Array.from({ length: n }, (_, b) => Array.from({ length: len }, (_, t) => 1 + ((b * 7919 + t * 104729) % (config.vocab_size - 1))));
  const full: DebertaInputs = { inputIds: rows(batch, seq) };
  const small: DebertaInputs = { inputIds: rows(1, 8) };
  const tokens = batch * seq;
  const note = `${(params / 1e6).toFixed(1)}M parameters, batch ${batch} × ${seq} tokens`;
  const forward = (x: DebertaInputs) => tf.tidy(() => model.forward(x).logits!);
  // Warm-up on a short input (kernel set-up).
  tf.dispose(forward(small));
  let t = timeIt(() => tf.dispose(forward(full)), repeat);
  emit(
    { workload, backend, metric: "forward_tokens_per_s", value: (tokens / t.wallMs) * 1000, unit: "tokens/s" },
    `${note}; ${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms cpu per pass`,
  );
  const step = (x: DebertaInputs) => {
    // A regression loss on the label logit (the reward model's and the tanh evaluator's kind), gradients for every weight.
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forward(x).logits!)) as tf.Scalar, model.variables());
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(small);
  t = timeIt(() => step(full), repeat);
  emit(
    { workload, backend, metric: "forward_backward_tokens_per_s", value: (tokens / t.wallMs) * 1000, unit: "tokens/s" },
    `${note}; ${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms cpu per step`,
  );
  emitHeap(workload, backend, emit);
  model.dispose();
}

async function main(): Promise<void> {
  if (flag("help") || flag("h")) {
    console.log(HELP);
    return;
  }
  const json = flag("json");
  const quick = flag("quick");
  const only = option("only");
  if (only && only !== "gpt2" && only !== "deberta") throw new Error(`--only expects gpt2 or deberta, got "${only}"`);
  const wanted = option("backend");
  const names: BackendName[] = ["cpu", "wasm", "node", "gpu", "webgpu"];
  if (wanted !== undefined && !names.includes(wanted as BackendName))
    throw new Error(`--backend expects one of ${names.join(", ")}, got "${wanted}"`);
  const info = await initBackend({ prefer: wanted as BackendName | undefined, quiet: true });
  const backend = info.name;
  const batch = Number(option("batch") ?? 4);
  const repeat = Number(option("repeat") ?? 1);
  const layers = option("layers") === undefined ? undefined : Number(option("layers"));
  if (!(Number.isInteger(batch) && batch > 0 && Number.isInteger(repeat) && repeat > 0))
    throw new Error("--batch and --repeat expect positive integers");
  if (layers !== undefined && !(Number.isInteger(layers) && layers > 0))
    throw new Error(`--layers expects a positive integer, got "${option("layers")}"`);
  const emit = (f: Figure, note?: string) => {
    if (json) console.log(JSON.stringify(f));
    else
      console.log(
        `${f.workload.padEnd(26)} ${f.backend.padEnd(5)} ${f.metric.padEnd(30)} ${f.value.toFixed(1).padStart(9)} ${f.unit}${note ? `   (${note})` : ""}`,
      );
  };
  if (!json)
    console.log(
      `bench-hub: backend ${backend} (${info.tfjsBackend}), tfjs ${info.tfjsVersion}, ${new Date().toISOString()}${quick ? ", quick" : ""}`,
    );
  if (!only || only === "gpt2") await benchGpt2(backend, quick, layers, batch, Number(option("seq") ?? (quick ? 16 : 64)), repeat, emit);
  if (!only || only === "deberta")
    await benchDeberta(backend, quick, layers, batch, Number(option("seq") ?? (quick ? 16 : 128)), repeat, emit);
}

main().catch((e) => {
  const message = (e as Error).message;
  console.error(`bench-hub: ${message}`);
  if (/Aborted|memory access out of bounds/.test(message))
    console.error(
      "bench-hub: the wasm backend ran out of its 4 GiB memory; the figures above stand. Measure the training step at two depths with --layers N (e.g. 2 and 12) and scale the per-block time to the real depth",
    );
  process.exit(1);
});
