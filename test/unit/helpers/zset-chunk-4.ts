// Imported first by tests that need small sorted-set chunks: zset-type.ts reads
// FLASHKV_ZSET_CHUNK once, when it is first loaded.
process.env.FLASHKV_ZSET_CHUNK = '4'
