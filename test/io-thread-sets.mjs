// Which integration files `npm test` runs a second time with four I/O threads. Every file runs
// with one and with four threads somewhere: `npm test` runs all of them once with the default (one
// I/O thread on a small host), then again with FLASHKV_IO_THREADS=4 all but the two lists below;
// .ci/run then runs OUTSIDE_IO_LAYER with four threads (npm run test:io-threads:rest), and
// scripts/test-node24.sh the whole suite with one and with four under Node 24.

/**
 * Files whose subject is not the connection layer (file formats and the disk, config parsing,
 * shard memory), driving one client at a time or nearly. Their four-thread run took ~10 of the
 * ~18 minutes of that pass on a 2-CPU box, and it is what put `npm test` at ~30 minutes.
 */
export const OUTSIDE_IO_LAYER = [
  'test/integration/aof.test.ts',
  'test/integration/aof-disk-errors.test.ts',
  'test/integration/rdb.test.ts',
  'test/integration/rdb-access.test.ts',
  'test/integration/rdb-bgsave.test.ts',
  'test/integration/rdb-config.test.ts',
  'test/integration/rdb-disk-errors.test.ts',
  'test/integration/config.test.ts',
  'test/integration/config-rewrite.test.ts',
  'test/integration/memory-bound.test.ts',
]

/** Files that give every server they start its own --io-threads: a second run would be the same run. */
export const PINNED_IO_THREADS = [
  'test/integration/http-rest.test.ts',
  'test/integration/metrics.test.ts',
  'test/integration/io-threads.test.ts',
  'test/integration/io-threads-rebind.test.ts',
]
