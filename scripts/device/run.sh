#!/usr/bin/env bash
# Runs on the lent machine (see bundle.sh): unpacks node, puts the bundled Redis first on the
# PATH, runs the CPU per thread comparison of issue 11 (Redis, Redis with io-threads 8, FlashKV
# at several --io-threads/--shards, redis-benchmark --threads 4), then, when BENCH_ARGS is set,
# the throughput benchmark with those options (e.g. "--threads 4 --shards 1,4,8 --modes c50,c50-P16
# --no-memory"), and copies the results and the log to $OUT. CPU_ARGS overrides the first run's
# options ("--quick" to try it), CPU_SERVERS its FlashKV servers ("name:flags,name:flags"; a
# FLASHKV_X=v among the flags sets that variable for that server). The CPU run comes first: a lease is short (15 minutes of device
# time all told), and it is what the issue's target is read from. flashkv-io4s4-nospin is the
# target's shape with --spin-us 0: where every thread has a core the threads spin before they
# sleep (config.ts), and that CPU counts in µs per command; the pair tells the spin from the work.
# AOF_ARGS set: issue 15's appendonly comparison (bench/aof.ts) after it.
set -euo pipefail
cd "$(dirname "$0")/../../.device"
mkdir -p bin
if command -v xz > /dev/null; then xz -dc node.xz > bin/node
else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open("node.xz"), open("bin/node", "wb"))'; fi
chmod +x bin/node
export PATH="$PWD/bin:$PATH" LD_LIBRARY_PATH="$PWD/lib" FLASHKV_BENCH_COMMIT="$(cat commit)"
echo "node $(node --version); $(redis-server --version); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo)"
# shellcheck disable=SC2086
node --expose-gc dist/bench/run.js --cpu ${CPU_ARGS:---threads 4 --redis-io-threads 8 --requests 200000 --pipe-requests 1000000} \
  --cpu-servers "${CPU_SERVERS:-flashkv-1:--shards 1,flashkv-4:--shards 4,flashkv-io2s4:--io-threads 2 --shards 4,flashkv-io4s4:--io-threads 4 --shards 4,flashkv-io4s4-nospin:--io-threads 4 --shards 4 --spin-us 0,flashkv-io4s8:--io-threads 4 --shards 8,flashkv-io8s8:--io-threads 8 --shards 8}"
if [ -n "${OUT:-}" ]; then cp bench/results/* "$OUT"/; fi
if [ -n "${AOF_ARGS:-}" ]; then
  # Issue 15's SET with appendfsync everysec/always beside Redis (bench/aof.ts), where the load
  # generator does not take a core from the servers; e.g. AOF_ARGS="--shards 1 --repeat 2".
  # shellcheck disable=SC2086
  node dist/bench/aof.js $AOF_ARGS
  if [ -n "${OUT:-}" ]; then cp bench/results/* "$OUT"/; fi
fi
if [ -n "${BENCH_ARGS:-}" ]; then
  # shellcheck disable=SC2086
  node --expose-gc dist/bench/run.js $BENCH_ARGS
  if [ -n "${OUT:-}" ]; then cp bench/results/* "$OUT"/; fi
fi
