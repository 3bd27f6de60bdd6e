import { existsSync } from 'node:fs'
import { configDefaults, defineConfig } from 'vitest/config'
import { OUTSIDE_IO_LAYER, PINNED_IO_THREADS } from './test/io-thread-sets.mjs'

// A file renamed or removed would quietly change what the four-thread runs cover: refuse to start.
for (const f of [...OUTSIDE_IO_LAYER, ...PINNED_IO_THREADS]) if (!existsSync(new URL(f, import.meta.url))) throw new Error(`test/io-thread-sets.mjs names ${f}, which does not exist`)

// FLASHKV_TEST_SET: 'io-core' leaves both lists out (npm test's four-thread pass), 'io-rest' runs
// only OUTSIDE_IO_LAYER (npm run test:io-threads:rest); unset, every file.
const set = process.env.FLASHKV_TEST_SET

export default defineConfig({
  test: {
    include: set === 'io-rest' ? OUTSIDE_IO_LAYER : ['test/**/*.test.ts'],
    exclude: set === 'io-core' ? [...configDefaults.exclude, ...OUTSIDE_IO_LAYER, ...PINNED_IO_THREADS] : configDefaults.exclude,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each start their own server processes; two cores cannot run many at once.
    maxWorkers: 2,
  },
})
