/**
 * Matrix products with hand-written gradients for the hub models, as in
 * src/lm/model.ts (explicit transposes instead of matMul's transpose flags,
 * which are slow on wasm), with one difference that matters at GPT-2 size:
 * each gradient is computed inside its own tf.tidy, so the transposed
 * copies of the weights are freed as soon as they are used. Without it they
 * live until the whole backward pass ends (tfjs frees a custom gradient's
 * intermediates only then), which for GPT-2 small means one more copy of
 * every weight matrix, plus the wasm backend's packed copy of each, at the
 * peak. Measured on wasm with GPT-2 small (scripts/bench-hub.ts), forward +
 * backward of the language-model loss at batch 1 × 64: the whole 4 GiB a
 * wasm memory can hold before, 3.2 GiB with the tidy and `matmulTransposed`
 * below; batch 4 × 64 still does not fit.
 */
import * as tf from "@tensorflow/tfjs";

/** x [N, K] · w [K, M]. */
export function matmul(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return productOp(x, w) as tf.Tensor2D;
}

/** Batched a [B, M, K] · b [B, K, N]. */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return productOp(a, b) as tf.Tensor3D;
}

/** The last two axes swapped (a matrix, or each matrix of a batch). */
function swapLast(t: tf.Tensor): tf.Tensor {
  return t.rank === 2 ? t.transpose() : t.transpose([0, 2, 1]);
}

/** a · b for matrices or batches of matrices, with da = dy · bᵀ and db = aᵀ · dy. */
const productOp = tf.customGrad(((a: tf.Tensor2D | tf.Tensor3D, b: tf.Tensor2D | tf.Tensor3D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [as, bs] = saved as (tf.Tensor2D | tf.Tensor3D)[];
        return [tf.matMul(dy as tf.Tensor2D, swapLast(bs) as tf.Tensor2D), tf.matMul(swapLast(as) as tf.Tensor2D, dy as tf.Tensor2D)];
      }),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * x [N, C] · wᵀ for w stored [V, C] (GPT-2's LM head is the token embedding):
 * the forward pass transposes w once, and the backward pass needs no copy of
 * it at all (dx = dy · w, dw = dyᵀ · x), where a product with a transposed
 * input would keep the [C, V] copy for the backward pass and return its
 * gradient as [C, V] to be transposed again (three vocabulary-sized copies).
 */
export function matmulTransposed(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return matmulTOp(x, w) as tf.Tensor2D;
}

const matmulTOp = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.tidy(() => tf.matMul(x, w.transpose())),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, ws] = saved as tf.Tensor2D[];
        return [tf.matMul(dy, ws), tf.matMul(dy.transpose(), xs)];
      }),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);
