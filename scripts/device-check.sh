#!/usr/bin/env bash
# The device check: one prepared run that measures the kit on a GPU machine which has Python and
# CUDA but no Node and no network, on webgpu and on wasm side by side, and writes
# $OUT/device-check.json and $OUT/device-check.md (speed-up webgpu/wasm per workload).
#
# Here (with node_modules):   bash scripts/device-check.sh            # build the bundle, pack it
#                             bash scripts/device-check.sh --local    # ... and run it here on wasm (webgpu is reported unavailable)
# On the device (the checkout copied there with device-bundle/ in it), the one command is:
#
#   bash device-bundle/unpack.sh device-bundle device-bundle/node_modules/webgpu && export PATH=/tmp/nodebin:$PATH VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json && bash device-bundle/run.sh
#
# (it is also written to device-bundle/COMMAND). The run keeps to a budget of 420 s (DEVICE_BUDGET_S),
# each workload on each backend in its own process with its own limit, and prints progress.
#
# What goes into device-bundle/ (ignored by git, under 64 MiB with the pack):
#   the benchmark entries bundled by esbuild (scripts/device-run.ts, bench-matmul, bench-lm,
#   bench-evaluator, bench-align-phases, and scripts/bench-hub.ts when it exists), the webgpu package's
#   index.js and package.json (dawn.node travels xz-compressed), the wasm binaries of
#   @tensorflow/tfjs-backend-wasm, the data files the benchmarks read, and what
#   ../shared/device/pack.sh adds (node.xz, dawn.node.xz, the Vulkan/GL loader packages, unpack.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${DEVICE_BUNDLE:-device-bundle}
pack=${DEVICE_PACK:-../shared/device/pack.sh}
local_run=0
[ "${1:-}" = "--local" ] && local_run=1

[ -x node_modules/.bin/esbuild ] || { echo "device-check: esbuild is missing; run npm ci" >&2; exit 1; }
[ -f node_modules/webgpu/index.js ] || { echo "device-check: the optional package webgpu is not installed (npm ci installs it where it can)" >&2; exit 1; }
[ -f node_modules/@tensorflow/tfjs-backend-webgpu/package.json ] || { echo "device-check: @tensorflow/tfjs-backend-webgpu is not installed" >&2; exit 1; }
[ -f "$pack" ] || { echo "device-check: $pack not found (set DEVICE_PACK)" >&2; exit 1; }

entries=(scripts/device-run.ts scripts/bench-matmul.ts scripts/bench-lm.ts scripts/bench-evaluator.ts scripts/bench-align-phases.ts)
if [ -f scripts/bench-hub.ts ]; then
  entries+=(scripts/bench-hub.ts)
else
  echo "device-check: scripts/bench-hub.ts does not exist yet; the GPT-2-small / DeBERTa-v3-large shapes are skipped"
fi

# Keep what pack.sh made before (node.xz, dawn.node.xz, gl/): it takes a while to make.
mkdir -p "$bundle"
find "$bundle" -maxdepth 1 -type f \( -name '*.mjs' -o -name 'run.sh' -o -name 'COMMAND' \) -delete
rm -rf "$bundle/node_modules" "$bundle/data"

echo "device-check: bundling ${#entries[@]} entries into $bundle/"
# One ES module per entry, shared code in chunks; webgpu stays outside (it loads dawn.node by path).
node_modules/.bin/esbuild "${entries[@]}" --bundle --platform=node --format=esm --target=node20 \
  --splitting --minify --outdir="$bundle" --out-extension:.js=.mjs --entry-names='[name]' --chunk-names='chunk-[hash]' \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --log-level=warning \
  --banner:js="import { createRequire as __fulcraCreateRequire } from 'node:module'; import { fileURLToPath as __fulcraPath } from 'node:url'; import { dirname as __fulcraDir } from 'node:path'; const require = __fulcraCreateRequire(import.meta.url); const __filename = __fulcraPath(import.meta.url); const __dirname = __fulcraDir(__filename);"

# Packages resolved at run time from the bundle's folder.
mkdir -p "$bundle/node_modules/webgpu" "$bundle/node_modules/@tensorflow/tfjs-backend-wasm/dist"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$bundle/node_modules/webgpu/"
cp node_modules/@tensorflow/tfjs-backend-wasm/package.json "$bundle/node_modules/@tensorflow/tfjs-backend-wasm/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$bundle/node_modules/@tensorflow/tfjs-backend-wasm/dist/"
# For the --local run: this machine's dawn.node, found where unpack.sh puts it on the device.
if [ "$local_run" = 1 ]; then
  mkdir -p "$bundle/node_modules/webgpu/dist/linux-x64"
  cp node_modules/webgpu/dist/linux-x64/dawn.node "$bundle/node_modules/webgpu/dist/linux-x64/"
fi

# The data the benchmarks read (never committed: the bundle folder is ignored by git).
raw=${FULCRA_DATA_DIR:-data/raw}
for f in data/trustworthy_data.jsonl data/saferlhf/train_questions.jsonl model_outputs/harmless_test_openai_gpt-4.jsonl model_outputs/harmless_test_openai_gpt-35-turbo.jsonl; do
  [ -f "$raw/$f" ] || { echo "device-check: $raw/$f is missing; run: node bin/fulcra.js data fetch --from ../shared/data/fulcra" >&2; exit 1; }
  mkdir -p "$bundle/data/raw/$(dirname "$f")"
  cp "$raw/$f" "$bundle/data/raw/$f"
done

cat > "$bundle/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the device check from the bundle (after unpack.sh). Results go to $OUT (default ./device-check-out).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export FULCRA_DATA_DIR="$here/data/raw" FULCRA_RUNS_DIR=${FULCRA_RUNS_DIR:-/tmp/fulcra-runs} FULCRA_QUIET=1
out=${OUT:-$PWD/device-check-out}
mkdir -p "$out"
node "$here/device-run.mjs" --out "$out" --budget-seconds "${DEVICE_BUDGET_S:-420}" "$@" 2>&1 | tee "$out/device-check.log"
RUN
chmod +x "$bundle/run.sh"
command="bash $bundle/unpack.sh $bundle $bundle/node_modules/webgpu && export PATH=/tmp/nodebin:\$PATH VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json && bash $bundle/run.sh"
echo "$command" > "$bundle/COMMAND"

if [ "$local_run" = 1 ]; then
  echo "device-check: running the bundle here with $(command -v node) ($(node --version))"
  OUT=${OUT:-/tmp/fulcra-device-check} DEVICE_BUDGET_S=${DEVICE_BUDGET_S:-300} bash "$bundle/run.sh" ${DEVICE_RUN_ARGS:-}
  rm -rf "$bundle/node_modules/webgpu/dist"
fi

echo "device-check: packing (node, dawn.node, Vulkan/GL loader) with $pack"
bash "$pack" "$bundle" node_modules/webgpu
size=$(du -sm "$bundle" | cut -f1)
echo "device-check: $bundle is ${size} MiB (limit 64 MiB with the rest of the checkout)"
[ "$size" -lt 64 ] || { echo "device-check: the bundle is too large" >&2; exit 1; }
echo "device-check: ready. On the device, from the checkout's root, run:"
echo "  $command"
