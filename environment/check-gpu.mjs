// Prints which tfjs backend the kit selects and runs one matmul on it.
// Inside the GPU container this should say "gpu (tensorflow)"; anything else
// means the GPU binding or the CUDA libraries were not found (see README).
const kit = await import("../dist/src/index.js");
const tf = await import("@tensorflow/tfjs");
const info = await kit.initBackend({ quiet: true });
const a = tf.randomNormal([1024, 1024], 0, 1, "float32", 1);
const t0 = performance.now();
const s = (await tf.matMul(a, a).sum().data())[0];
console.log(`backend: ${info.name} (${info.tfjsBackend}); 1024² matmul in ${(performance.now() - t0).toFixed(1)} ms (checksum ${s.toFixed(1)})`);
for (const skip of info.skipped) console.log(`  skipped ${skip.name}: ${skip.reason}`);
if (process.env.FULCRA_BACKEND === "gpu" && info.name !== "gpu") process.exitCode = 1;
