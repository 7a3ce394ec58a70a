/**
 * Trains the helpfulness reward model on helpful_test and prints its
 * held-out pairwise accuracy, the length baseline and the training time.
 * Usage: npm run build && node dist/scripts/bench-reward-model.js ['{"epochs": 6, "l2": 0.001}'] (config overrides as JSON)
 *        [--backend NAME] [--json]: the benchmark convention (bench-common.ts); --json gives
 *        reward-model-train (s) and reward-model-score (texts/s)
 */
import { trainRewardModel } from "../src/metrics/reward-model.js";
import { benchBackend, benchSetup, emit } from "./bench-common.js";

const setup = benchSetup();
const backend = await benchBackend(setup);
const override = setup.rest[0] ? JSON.parse(setup.rest[0]) : {};
const trainStart = performance.now();
const model = await trainRewardModel({ config: override, quiet: true });
emit(setup, backend.name, "reward-model-train", "seconds", (performance.now() - trainStart) / 1000, "s");
const m = model.metrics;
console.log(JSON.stringify({ ...m, config: model.saved.config }, null, 2));
const t0 = performance.now();
const texts = Array.from(
  { length: 2000 },
  (_, i) => `\n\nHuman: question ${i}?\n\nAssistant: Here is a helpful answer number ${i}, with some detail.`,
);
model.score(texts);
const perSecond = 2000 / ((performance.now() - t0) / 1000);
console.log(`scoring: ${perSecond.toFixed(0)} texts/s`);
emit(setup, backend.name, "reward-model-score", "throughput", perSecond, "texts/s");
