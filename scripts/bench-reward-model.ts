/**
 * Trains the helpfulness reward model on helpful_test and prints its
 * held-out pairwise accuracy, the length baseline and the training time.
 * Usage: npm run build && node dist/scripts/bench-reward-model.js ['{"epochs": 6, "l2": 0.001}'] (config overrides as JSON)
 */
import { trainRewardModel } from "../src/metrics/reward-model.js";

const override = process.argv[2] ? JSON.parse(process.argv[2]) : {};
const model = await trainRewardModel({ config: override, quiet: true });
const m = model.metrics;
console.log(JSON.stringify({ ...m, config: model.saved.config }, null, 2));
const t0 = performance.now();
const texts = Array.from({ length: 2000 }, (_, i) => `\n\nHuman: question ${i}?\n\nAssistant: Here is a helpful answer number ${i}, with some detail.`);
model.score(texts);
console.log(`scoring: ${(2000 / ((performance.now() - t0) / 1000)).toFixed(0)} texts/s`);
