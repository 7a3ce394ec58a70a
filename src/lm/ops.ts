/**
 * Tensor ops with hand-written gradients, shared by the kit's language model
 * (model.ts and its units) and the hub models (src/hub/gpt2.ts, deberta.ts).
 *
 * Why they exist (measured on the wasm backend, see scripts/bench-lm.ts and
 * scripts/bench-hub.ts):
 * - tfjs' wasm matmul is fast (XNNPACK) only for a plain 2-D product without
 *   the transpose flags, and tfjs' own gradient of matMul uses those flags;
 *   the products below write their gradients with explicit transposes, which
 *   are cheap.
 * - The gradient of gather needs a kernel the wasm backend lacks; `embed`
 *   scatters its gradient instead.
 * - Each product's gradient runs inside its own tf.tidy, so the transposed
 *   copies of the weights are freed as soon as they are used. Without it they
 *   live until the whole backward pass ends (tfjs frees a custom gradient's
 *   intermediates only then), which for GPT-2 small is one more copy of every
 *   weight matrix, plus the wasm backend's packed copy of each, at the peak:
 *   forward + backward of the language-model loss at batch 1 × 64 took the
 *   whole 4 GiB a wasm memory can hold before, 3.2 GiB with the tidy and
 *   `matmulTransposed`.
 * - `logSumExpRows` and `pickColumns` give log-probabilities and entropies
 *   without materialising a [N, V] log-softmax and its gradient.
 */
import * as tf from "@tensorflow/tfjs";

/** x [N, K] · w [K, M]; gradients dx = dy · wᵀ, dw = xᵀ · dy through explicit transposes. */
export function matmul(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return productOp(x, w) as tf.Tensor2D;
}

/** Batched a [B, M, K] · b [B, K, N], gradients as in `matmul` for each matrix of the batch. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return productOp(a, b) as tf.Tensor3D;
}

/** The last two axes swapped (a matrix, or each matrix of a batch). */
function swapLast(t: tf.Tensor): tf.Tensor {
  return t.rank === 2 ? t.transpose() : t.transpose([0, 2, 1]);
}

/** a · b for matrices or batches of matrices, with da = dy · bᵀ and db = aᵀ · dy. */
const productOp = customOp(([a, b], save) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [as, bs] = saved as tf.Tensor3D[];
        return [tf.matMul(dy as tf.Tensor3D, swapLast(bs) as tf.Tensor3D), tf.matMul(swapLast(as) as tf.Tensor3D, dy as tf.Tensor3D)];
      }),
  };
});

/**
 * x [N, C] · wᵀ for w stored [V, C] (an LM head that is the token embedding,
 * a torch.nn.Linear weight): the forward pass transposes w once, and the
 * backward pass needs no copy of it at all (dx = dy · w, dw = dyᵀ · x),
 * where a product with a transposed input would keep the [C, V] copy for
 * the backward pass and return its gradient as [C, V] to be transposed again
 * (three vocabulary-sized copies).
 */
export function matmulTransposed(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return matmulTransposedOp(x, w) as tf.Tensor2D;
}

const matmulTransposedOp = customOp(([x, w], save) => {
  save([x, w]);
  return {
    value: tf.tidy(() => tf.matMul(x as tf.Tensor2D, w.transpose())),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, ws] = saved as tf.Tensor2D[];
        return [tf.matMul(dy as tf.Tensor2D, ws), tf.matMul(dy.transpose(), xs)];
      }),
  };
});

/** A dense layer's weight [in, out] (x·W, GPT-2's Conv1D layout) and bias [out]. */
export interface DenseWeights {
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** x · w + b. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(matmul(x, w), b);
}

/** Rows of `table` [V, C] picked by int32 `ids` (any shape) → [...ids.shape, C]; gradient by scatter-add. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const flat = ids.reshape([-1]);
  const rows = embedOp(table, flat) as tf.Tensor2D;
  return rows.reshape([...ids.shape, table.shape[1]]);
}

const embedOp = customOp(([table, ids], save) => {
  save([ids]);
  const shape = table.shape as [number, number];
  return {
    value: tf.gather(table, ids as tf.Tensor1D),
    // Rows picked more than once receive the sum of their gradients (scatterND adds duplicates).
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.scatterND(saved[0].reshape([-1, 1]), dy, shape), tf.zerosLike(saved[0])],
  };
});

/**
 * log p(target) under softmax(logits) for every row: logits [N, V],
 * targets int32 [N] → [N]. Equal to logSoftmax(logits)[target] but without
 * materialising the [N, V] log-softmax, and with cheap gradients on wasm.
 */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return tf.sub(pickColumns(logits, targets), logSumExpRows(logits)) as tf.Tensor1D;
}

/** Entropy of softmax(logits) per row: logits [N, V] → [N] (log-sum-exp minus the expected logit). */
export function rowEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  const lse = logSumExpRows(logits);
  const probs = tf.exp(tf.sub(logits, lse.reshape([-1, 1])));
  return tf.sub(lse, tf.sum(tf.mul(probs, logits), -1)) as tf.Tensor1D;
}

/** log Σ_v exp(x[n, v]) per row, with the gradient softmax(x) (the max shift is a constant). */
export function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  return logSumExpOp(x) as tf.Tensor1D;
}

const logSumExpOp = customOp(([x], save) => {
  const m = tf.max(x, -1, true);
  const lse = tf.add(tf.log(tf.sum(tf.exp(tf.sub(x, m)), -1, true)), m);
  save([x, lse]);
  return {
    value: lse.reshape([-1]),
    gradFunc: (dy: tf.Tensor, [xs, l]: tf.Tensor[]) => [tf.mul(tf.exp(tf.sub(xs, l)), dy.reshape([-1, 1]))],
  };
});

/** x[n, targets[n]] per row; gradient scattered back into the picked columns. */
export function pickColumns(x: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return pickOp(x, targets) as tf.Tensor1D;
}

const pickOp = customOp(([x, targets], save) => {
  const N = x.shape[0];
  const index = tf.stack([tf.range(0, N, 1, "int32"), targets.toInt()], 1);
  save([index, targets]);
  return {
    value: tf.gatherND(x, index),
    gradFunc: (dy: tf.Tensor, [ix, t]: tf.Tensor[]) => [tf.scatterND(ix, dy, x.shape), tf.zerosLike(t)],
  };
});

/** Identity forward, zero gradient backward. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopOp(x) as T;
}

const stopOp = customOp(([x]) => ({ value: x.clone(), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] }));

/** tf.customGrad with the inputs as an array and the save function apart (tfjs passes it last). */
function customOp(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] },
) {
  const wrapped = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  };
  return tf.customGrad(wrapped as unknown as Parameters<typeof tf.customGrad>[0]);
}
