// Prints which tfjs backend the kit selects and runs one matmul on it.
// Inside the GPU container this should say "gpu (tensorflow)" (tfjs-node-gpu on
// CUDA 11.2) or "webgpu (webgpu)" with the adapter (Dawn over Vulkan); anything
// else means neither GPU path works here: the lines below say why (see README).
const kit = await import("../dist/src/index.js");
const tf = await import("@tensorflow/tfjs");
const info = await kit.initBackend({ quiet: true });
const a = tf.randomNormal([1024, 1024], 0, 1, "float32", 1);
await a.data();
const t0 = performance.now();
const s = (await tf.matMul(a, a).sum().data())[0];
const adapter = info.adapter ? `, adapter ${kit.describeAdapter(info.adapter)}` : "";
console.log(`backend: ${info.name} (${info.tfjsBackend}${adapter}); 1024² matmul in ${(performance.now() - t0).toFixed(1)} ms (checksum ${s.toFixed(1)})`);
for (const skip of info.skipped) console.log(`  skipped ${skip.name}: ${skip.reason}`);
// In the GPU container a CPU backend is a failure; FULCRA_BACKEND=gpu|webgpu asks for one path.
const wanted = process.env.FULCRA_BACKEND ? [process.env.FULCRA_BACKEND] : kit.GPU_BACKENDS;
if (!wanted.includes(info.name)) process.exitCode = 1;
