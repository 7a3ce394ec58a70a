import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/runtime/env.js";

const env = (f: string) => join(PROJECT_ROOT, "environment", f);
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8"));

function dockerArgs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of readFileSync(env("Dockerfile"), "utf8").matchAll(/^ARG\s+(\w+)=(\S+)/gm)) out[m[1]] = m[2];
  return out;
}

test("devcontainer.json parses and asks for the GPU", () => {
  const dc = JSON.parse(readFileSync(env("devcontainer.json"), "utf8"));
  assert.equal(dc.build.dockerfile, "Dockerfile");
  assert.ok(existsSync(env(dc.build.dockerfile)));
  assert.deepEqual(dc.runArgs.slice(0, 2), ["--gpus", "all"]);
  assert.match(dc.postStartCommand, /check-gpu\.mjs/);
  assert.ok(existsSync(env("check-gpu.mjs")));
});

test("pinned versions agree between package.json, Dockerfile and devcontainer.json", () => {
  const dc = JSON.parse(readFileSync(env("devcontainer.json"), "utf8"));
  const args = dockerArgs();
  const gpu = pkg.optionalDependencies["@tensorflow/tfjs-node-gpu"];
  assert.equal(gpu, "4.22.0");
  assert.equal(args.TFJS_NODE_GPU_VERSION, gpu);
  assert.equal(dc.build.args.TFJS_NODE_GPU_VERSION, gpu);
  // The core tfjs version must match the GPU binding's.
  assert.equal(pkg.dependencies["@tensorflow/tfjs"], gpu);
  // libtensorflow 2.9.1 (tfjs-node 4.22) was built with CUDA 11.2 and cuDNN 8.
  for (const image of [args.CUDA_IMAGE, dc.build.args.CUDA_IMAGE]) assert.equal(image, "nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04");
  // Node's major version matches the engines field.
  const engineMajor = /(\d+)/.exec(pkg.engines.node)![1];
  for (const image of [args.NODE_IMAGE, dc.build.args.NODE_IMAGE]) assert.equal(/^node:(\d+)\./.exec(image)![1], engineMajor);
  assert.ok(/^node:20\.(19|[2-9]\d)\./.test(args.NODE_IMAGE), "Node 20.19+ is needed to require() ES modules");
});

test("the container also serves webgpu: Vulkan loader installed, graphics capability asked for, webgpu pinned", () => {
  const docker = readFileSync(env("Dockerfile"), "utf8");
  const dc = JSON.parse(readFileSync(env("devcontainer.json"), "utf8"));
  const installed = /apt-get install[\s\S]*?rm -rf/m.exec(docker)![0];
  for (const p of ["libvulkan1", "libegl1", "libglvnd0"]) assert.match(installed, new RegExp(`\\b${p}\\b`), `${p} installed`);
  assert.match(docker, /NVIDIA_DRIVER_CAPABILITIES=\S*\bgraphics\b/);
  assert.match(dc.containerEnv.NVIDIA_DRIVER_CAPABILITIES, /\bgraphics\b/);
  // No backend forced: the kit takes tfjs-node-gpu where CUDA 11.2 works, else webgpu.
  assert.equal(dc.containerEnv.FULCRA_BACKEND, undefined);
  assert.equal(pkg.optionalDependencies.webgpu, "0.6.2");
  assert.equal(pkg.optionalDependencies["@tensorflow/tfjs-backend-webgpu"], pkg.dependencies["@tensorflow/tfjs"]);
  assert.match(readFileSync(env("check-gpu.mjs"), "utf8"), /GPU_BACKENDS/);
});
