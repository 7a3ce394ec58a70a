#!/usr/bin/env bash
# The kit's test command (`npm test`): build, put the data in place, run every test.
# Data comes from FULCRA_MIRROR (default ../shared/data/fulcra) when that folder exists,
# otherwise from the pinned URLs.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
# The layering rule of src/ (imports only go down, no circles): see .dependency-cruiser.cjs.
npm run --silent check:layers
# Format and lint (Biome, biome.json): fails on an unformatted file or a lint error; `npm run format` fixes most.
npm run --silent check:style
mirror="${FULCRA_MIRROR:-../shared/data/fulcra}"
if [ -d "$mirror" ]; then
  FULCRA_QUIET=1 node bin/fulcra.js data fetch --from "$mirror"
else
  FULCRA_QUIET=1 node bin/fulcra.js data fetch
fi
# Unit tests, notebook runs and the figure-export smoke test all report through node's test runner.
export FULCRA_QUIET=1
node --test --test-concurrency=1 dist/test/
