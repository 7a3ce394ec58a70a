import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BACKEND_PREFERENCE,
  BackendUnavailableError,
  describeAdapter,
  forcedBackend,
  probeGpu,
  selectBackend,
  type AdapterInfo,
  type BackendDeps,
  type BackendName,
  type GpuLike,
  type WebGpuProbe,
} from "../src/runtime/backend.js";

const H200: AdapterInfo = { vendor: "nvidia", architecture: "hopper", device: "0x2335", description: "NVIDIA H200" };

/** What a fake machine offers: which native bindings load, and what its GPU does. */
interface FakeMachine {
  natives?: ("@tensorflow/tfjs-node-gpu" | "@tensorflow/tfjs-node")[];
  webgpuInstalled?: boolean;
  /** null: no adapter; "device-fails": an adapter whose requestDevice() rejects. */
  gpu?: AdapterInfo | null | "device-fails";
  /** What the child-process probe answers (null: the step is skipped). */
  child?: WebGpuProbe | null;
  wasm?: boolean;
}

/**
 * Fake modules, navigator.gpu and tfjs. The fake tfjs webgpu backend behaves
 * like the real one: it registers only when navigator.gpu exists at import
 * time, and its factory asks navigator.gpu for an adapter and a device.
 */
function fakeDeps(m: FakeMachine) {
  const tried: string[] = [];
  const factories = new Set<string>(["cpu"]);
  let current = "";
  const gpu: GpuLike = {
    async requestAdapter() {
      if (m.gpu === null || m.gpu === undefined) return null;
      const info = m.gpu === "device-fails" ? H200 : m.gpu;
      return {
        info,
        async requestDevice() {
          if (m.gpu === "device-fails") throw new Error("Failed to create device:\nout of memory");
          return { destroy() {} };
        },
      };
    },
  };
  const deps: BackendDeps = {
    requireModule(pkg) {
      tried.push(pkg);
      if (!m.natives?.includes(pkg as never)) throw new Error(`Cannot find module '${pkg}'`);
      factories.add("tensorflow");
      return {};
    },
    async importModule(pkg) {
      tried.push(pkg);
      if (pkg === "webgpu") {
        if (!m.webgpuInstalled) throw new Error("Cannot find package 'webgpu'");
        return { create: () => gpu, globals: {} };
      }
      if (pkg === "@tensorflow/tfjs-backend-webgpu") {
        if ((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) factories.add("webgpu");
        return {};
      }
      if (pkg === "@tensorflow/tfjs-backend-wasm") {
        if (!m.wasm) throw new Error("no wasm here");
        factories.add("wasm");
        return { setWasmPaths() {} };
      }
      throw new Error(`unexpected import ${pkg}`);
    },
    resolveModule: (pkg) => `/fake/node_modules/${pkg}`,
    probeInChild: m.child === undefined || m.child === null ? null : async () => m.child as WebGpuProbe,
    timeoutMs: 1000,
    tf: {
      findBackend: (name: string) => (factories.has(name) ? ({} as never) : null),
      findBackendFactory: (name: string) => (factories.has(name) ? ((() => ({})) as never) : null),
      async setBackend(name: string) {
        if (!factories.has(name)) return false;
        if (name === "webgpu") {
          const nav = (globalThis as unknown as { navigator: { gpu: GpuLike } }).navigator;
          const adapter = await nav.gpu.requestAdapter();
          if (!adapter) return false;
          try {
            await adapter.requestDevice();
          } catch {
            return false;
          }
        }
        current = name;
        return true;
      },
      async ready() {},
      getBackend: () => current,
    } as unknown as BackendDeps["tf"],
  };
  return { deps, tried };
}

/** Runs `body` and puts globalThis.navigator back as it was. */
async function keepingNavigator<T>(body: () => Promise<T>): Promise<T> {
  const before = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  try {
    return await body();
  } finally {
    if (before) Object.defineProperty(globalThis, "navigator", before);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
}

test("preference order is gpu, webgpu, node, wasm, cpu", () => {
  assert.deepEqual([...BACKEND_PREFERENCE], ["gpu", "webgpu", "node", "wasm", "cpu"]);
});

test("the native GPU binding wins over WebGPU when both work", async () => {
  await keepingNavigator(async () => {
    const { deps, tried } = fakeDeps({ natives: ["@tensorflow/tfjs-node-gpu"], webgpuInstalled: true, gpu: H200, wasm: true });
    const info = await selectBackend({ deps });
    assert.equal(info.name, "gpu");
    assert.equal(info.tfjsBackend, "tensorflow");
    assert.deepEqual(info.skipped, []);
    assert.deepEqual(tried, ["@tensorflow/tfjs-node-gpu"]);
  });
});

test("WebGPU comes before tfjs-node and wasm, and brings its adapter", async () => {
  await keepingNavigator(async () => {
    const { deps, tried } = fakeDeps({ natives: ["@tensorflow/tfjs-node"], webgpuInstalled: true, gpu: H200, wasm: true });
    const info = await selectBackend({ deps });
    assert.equal(info.name, "webgpu");
    assert.equal(info.tfjsBackend, "webgpu");
    assert.deepEqual(info.adapter, H200);
    assert.deepEqual(
      info.skipped.map((s) => s.name),
      ["gpu"],
    );
    // navigator.gpu was set before the tfjs backend was imported (else it would not have registered).
    assert.deepEqual(tried, ["@tensorflow/tfjs-node-gpu", "webgpu", "@tensorflow/tfjs-backend-webgpu"]);
  });
});

test("without an adapter the choice falls through webgpu and node to wasm, each with its reason", async () => {
  await keepingNavigator(async () => {
    const { deps, tried } = fakeDeps({ webgpuInstalled: true, gpu: null, wasm: true });
    const info = await selectBackend({ deps });
    assert.equal(info.name, "wasm");
    assert.deepEqual(
      info.skipped.map((s) => s.name),
      ["gpu", "webgpu", "node"],
    );
    assert.match(info.skipped[1].reason, /^Dawn found no WebGPU adapter;/);
    assert.equal(info.adapter, undefined);
    // The tfjs webgpu backend is never imported when there is no adapter.
    assert.ok(!tried.includes("@tensorflow/tfjs-backend-webgpu"));
    assert.equal((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu, undefined);
  });
});

test("a missing webgpu package is a reason, not an error", async () => {
  const { deps } = fakeDeps({ webgpuInstalled: false, wasm: false });
  const info = await selectBackend({ deps });
  assert.equal(info.name, "cpu");
  assert.match(info.skipped.find((s) => s.name === "webgpu")!.reason, /webgpu package is not installed.*Cannot find package 'webgpu'/);
  assert.match(info.skipped.find((s) => s.name === "wasm")!.reason, /no wasm here/);
});

test("an adapter that fails to create a device is skipped, with the adapter and the error named", async () => {
  await keepingNavigator(async () => {
    const { deps, tried } = fakeDeps({ webgpuInstalled: true, gpu: "device-fails", wasm: true });
    const info = await selectBackend({ deps });
    assert.equal(info.name, "wasm");
    const reason = info.skipped.find((s) => s.name === "webgpu")!.reason;
    assert.equal(reason, "the WebGPU adapter nvidia hopper (NVIDIA H200) failed to create a device: Failed to create device:");
    assert.ok(!tried.includes("@tensorflow/tfjs-backend-webgpu"));
  });
});

test("the child-process probe decides before this process touches Dawn", async () => {
  const note = "Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file";
  const none = fakeDeps({ webgpuInstalled: true, gpu: H200, wasm: true, child: { adapter: null, note } });
  const a = await selectBackend({ deps: none.deps });
  assert.equal(a.name, "wasm");
  assert.match(
    a.skipped.find((s) => s.name === "webgpu")!.reason,
    new RegExp(`^Dawn found no WebGPU adapter \\(${note.replace(/[.()]/g, "\\$&")}\\)`),
  );
  const broken = fakeDeps({ webgpuInstalled: true, gpu: H200, wasm: true, child: { adapter: H200, deviceError: "device lost" } });
  const b = await selectBackend({ deps: broken.deps });
  assert.equal(
    b.skipped.find((s) => s.name === "webgpu")!.reason,
    "the WebGPU adapter nvidia hopper (NVIDIA H200) failed to create a device: device lost",
  );
});

test("forcing a backend tries only that one", async () => {
  await keepingNavigator(async () => {
    const { deps, tried } = fakeDeps({ natives: ["@tensorflow/tfjs-node-gpu"], webgpuInstalled: true, gpu: H200, wasm: true });
    const info = await selectBackend({ prefer: "webgpu", deps });
    assert.equal(info.name, "webgpu");
    assert.ok(!tried.includes("@tensorflow/tfjs-node-gpu"));
    const wasm = await selectBackend({ prefer: "wasm", deps: fakeDeps({ webgpuInstalled: true, gpu: H200, wasm: true }).deps });
    assert.equal(wasm.name, "wasm");
  });
});

test("a forced webgpu with no adapter fails with one line that says why", async () => {
  const { deps } = fakeDeps({ webgpuInstalled: true, gpu: null, wasm: true });
  await assert.rejects(selectBackend({ prefer: "webgpu", deps }), (e: Error) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.ok(!e.message.includes("\n"), "one line");
    assert.match(e.message, /^FULCRA_BACKEND=webgpu cannot be used: Dawn found no WebGPU adapter; .* Unset FULCRA_BACKEND/);
    return true;
  });
  const failing = fakeDeps({ webgpuInstalled: true, gpu: "device-fails", wasm: true });
  await keepingNavigator(async () => {
    await assert.rejects(
      selectBackend({ prefer: "webgpu", deps: failing.deps }),
      /^BackendUnavailableError: FULCRA_BACKEND=webgpu cannot be used: the WebGPU adapter nvidia hopper \(NVIDIA H200\) failed to create a device/,
    );
  });
});

test("FULCRA_BACKEND names are checked", () => {
  assert.equal(forcedBackend("webgpu"), "webgpu");
  assert.equal(forcedBackend(""), undefined);
  assert.throws(() => forcedBackend("vulkan"), /FULCRA_BACKEND="vulkan" is not a backend; use one of gpu, webgpu, node, wasm, cpu/);
});

test("probeGpu reports the adapter, a device failure, or no adapter; and times out", async () => {
  const adapter = (fail: boolean) => ({
    info: { vendor: "apple", architecture: "metal-3", device: "", description: "" },
    requestDevice: async () => (fail ? Promise.reject(new Error("no device")) : { destroy() {} }),
  });
  assert.deepEqual(await probeGpu({ requestAdapter: async () => null }), { adapter: null });
  assert.deepEqual(await probeGpu({ requestAdapter: async () => adapter(false) }), {
    adapter: { vendor: "apple", architecture: "metal-3", device: "", description: "" },
  });
  assert.equal((await probeGpu({ requestAdapter: async () => adapter(true) })).deviceError, "no device");
  await assert.rejects(probeGpu({ requestAdapter: () => new Promise(() => {}) }, 20), /requestAdapter\(\) did not answer within 0.02 s/);
  assert.equal(describeAdapter({ vendor: "apple", architecture: "metal-3", device: "", description: "" }), "apple metal-3");
  assert.equal(describeAdapter({ vendor: "", architecture: "", device: "", description: "" }), "unknown vendor");
});

test("on this machine: webgpu is skipped with Dawn's reason and wasm is chosen (real modules)", async (t) => {
  const info = await selectBackend({ deps: undefined });
  if (info.name === "webgpu" || info.name === "gpu") return t.skip(`this machine has a GPU backend (${info.name})`);
  const webgpu = info.skipped.find((s) => s.name === "webgpu");
  assert.ok(webgpu, "webgpu was tried before wasm");
  assert.match(webgpu.reason, /no WebGPU adapter|webgpu package is not installed/);
  assert.equal(info.name as BackendName, "wasm");
});

test("a synchronous read on webgpu under Node fails with a message that says what to do", async () => {
  const { guardSyncReads, SYNC_READ_MESSAGE } = await import("../src/runtime/backend.js");
  const cpuResident = new Float32Array([1, 2]);
  const backend = {
    readSync(dataId: unknown) {
      if (dataId === "cpu") return cpuResident;
      // What tfjs-backend-webgpu does for a GPU tensor: draw through an OffscreenCanvas.
      return new (globalThis as unknown as { OffscreenCanvas: new (w: number, h: number) => unknown }).OffscreenCanvas(256, 256);
    },
  };
  guardSyncReads(backend);
  guardSyncReads(backend); // idempotent
  assert.equal(backend.readSync("cpu"), cpuResident);
  assert.throws(
    () => backend.readSync("gpu"),
    (e: Error) => e.message === SYNC_READ_MESSAGE,
  );
  assert.match(SYNC_READ_MESSAGE, /await tensor\.data\(\)/);
});
