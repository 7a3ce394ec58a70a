/**
 * BaseAlign: aligning a policy's value profile to a target with PPO, and the
 * methods it is compared with (RLHF with a helpfulness reward, best-of-N).
 */
export * from "./reward.js";
export * from "./best-of-n.js";
export * from "./policy.js";
export * from "./ppo.js";
export * from "./guard.js";
export * from "./run.js";
export * from "./toy.js";
export * from "./experiments.js";
export * from "./components.js";
export * from "./data-size.js";
export * as present from "./present.js";
