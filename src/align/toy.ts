/**
 * A toy policy and tokenizer for checking the aligner in seconds: a word-level
 * model whose next-token distribution depends on the current token only
 * (embedding → tanh layer → logits, plus a value head). Small enough that PPO
 * visibly changes it in a few steps; used by the tests and the PPO demo.
 */
import * as tf from "@tensorflow/tfjs";
import type { PolicyTokenizer, ValueHeadPolicy } from "./policy.js";

export class WordTokenizer implements PolicyTokenizer {
  readonly eosId = 0;
  private readonly index: Map<string, number>;
  constructor(readonly words: readonly string[]) {
    if (words[0] !== "<eos>") throw new Error('a WordTokenizer vocabulary starts with "<eos>"');
    this.index = new Map(words.map((w, i) => [w, i]));
  }
  get vocabSize(): number {
    return this.words.length;
  }
  encode(text: string): number[] {
    return text
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => {
        const id = this.index.get(w);
        if (id === undefined) throw new Error(`"${w}" is not in the toy vocabulary (${this.words.join(" ")})`);
        return id;
      });
  }
  decode(ids: readonly number[]): string {
    return ids
      .filter((i) => i !== this.eosId)
      .map((i) => this.words[i])
      .join(" ");
  }
}

export class ToyPolicy implements ValueHeadPolicy {
  readonly contextLength: number;
  private readonly vars: tf.Variable[];
  constructor(
    readonly vocabSize: number,
    readonly width = 16,
    seed = 0,
    contextLength = 64,
    from?: ToyPolicy,
  ) {
    this.contextLength = contextLength;
    const init = (shape: number[], k: number, std: number) => tf.randomNormal(shape, 0, std, "float32", seed * 7 + k);
    const source = from?.vars;
    this.vars = [
      tf.variable(source ? source[0].clone() : init([vocabSize, width], 1, 0.5)),
      tf.variable(source ? source[1].clone() : init([width, width], 2, 0.3)),
      tf.variable(source ? source[2].clone() : init([width, vocabSize], 3, 0.1)),
      tf.variable(source ? source[3].clone() : tf.zeros([vocabSize])),
      tf.variable(source ? source[4].clone() : init([width, 1], 4, 0.1)),
    ];
  }
  forward(ids: tf.Tensor2D): { logits: tf.Tensor3D; values: tf.Tensor2D } {
    return tf.tidy(() => {
      const [emb, hidden, out, bias, value] = this.vars;
      const [b, t] = ids.shape;
      // One-hot × table instead of gather: the wasm backend has no gradient kernel for gather.
      const h = tf.tanh(
        tf
          .oneHot(ids.reshape([-1]), this.vocabSize)
          .matMul(emb)
          .matMul(hidden),
      );
      const logits = h.matMul(out).add(bias).reshape([b, t, this.vocabSize]) as tf.Tensor3D;
      const values = h.matMul(value).reshape([b, t]) as tf.Tensor2D;
      return { logits, values };
    });
  }
  trainableVariables(): tf.Variable[] {
    return this.vars;
  }
  clone(): ToyPolicy {
    return new ToyPolicy(this.vocabSize, this.width, 0, this.contextLength, this);
  }
  dispose(): void {
    tf.dispose(this.vars);
  }
}
