#!/usr/bin/env bash
# Runs on the lent machine (see bundle.sh): unpacks node, puts the bundled Redis first on the
# PATH, runs the benchmark with redis-benchmark --threads 4 and --shards 1,2,4,8, then the CPU
# per thread comparison (issue 11: Redis, Redis with io-threads 8, FlashKV at several
# --io-threads/--shards) and copies the results to $OUT. BENCH_ARGS and CPU_ARGS override the
# two runs' options (e.g. "--quick" to try them).
set -euo pipefail
cd "$(dirname "$0")/../../.device"
mkdir -p bin
if command -v xz > /dev/null; then xz -dc node.xz > bin/node
else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open("node.xz"), open("bin/node", "wb"))'; fi
chmod +x bin/node
export PATH="$PWD/bin:$PATH" LD_LIBRARY_PATH="$PWD/lib"
echo "node $(node --version); $(redis-server --version); $(nproc) CPUs; redis-server at $(command -v redis-server)"
# shellcheck disable=SC2086
node --expose-gc dist/bench/run.js ${BENCH_ARGS:---threads 4 --shards 1,2,4,8 --repeat 1 --requests 200000}
# shellcheck disable=SC2086
node --expose-gc dist/bench/run.js --cpu ${CPU_ARGS:---threads 4 --redis-io-threads 8 --cpu-servers "flashkv-1:--shards 1,flashkv-4:--shards 4,flashkv-io2s4:--io-threads 2 --shards 4,flashkv-io4s4:--io-threads 4 --shards 4,flashkv-io4s8:--io-threads 4 --shards 8,flashkv-io8s8:--io-threads 8 --shards 8"}
if [ -n "${OUT:-}" ]; then cp bench/results/* "$OUT"/; fi
