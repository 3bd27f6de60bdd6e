#!/usr/bin/env bash
# Packs what `npm run bench` needs into .device/ (git-ignored) for a lent 16-core machine,
# which has no Node, no Redis and no network: this box's node binary (xz), redis-server and
# redis-benchmark with the shared libraries the target may lack, the built dist/, the
# production node_modules and package.json. Then, with the device tool:
#   run  command: bash scripts/device/run.sh   carry: [".device"]
# Issue 4's 16-core table: redis-benchmark --threads 4, FlashKV --shards 1, 2, 4 and 8.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build --silent
rm -rf .device
mkdir -p .device/bin .device/lib .device/node_modules
xz -T0 -6 -c "$(command -v node)" > .device/node.xz
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
# Production dependencies only (pino, prom-client and theirs).
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  rel="${dir#"$PWD"/}"
  mkdir -p ".device/$(dirname "$rel")"
  cp -r "$dir" ".device/$rel"
done
du -sh .device
