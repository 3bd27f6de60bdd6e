#!/usr/bin/env bash
# Runs on the lent machine (see bundle.sh): unpacks node, puts the bundled Redis first on the
# PATH, runs the benchmark with redis-benchmark --threads 4 and --shards 1,2,4,8 and copies the
# results to $OUT. BENCH_ARGS overrides the benchmark's options (e.g. "--quick" to try it).
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
if [ -n "${OUT:-}" ]; then cp bench/results/* "$OUT"/; fi
