// `npm start`: serve from dist/, building it first only when it is missing or older than the
// sources (a clone after `npm ci`). The server runs in this process, so the SIGTERM npm passes
// on reaches it: no orphaned server. Installed without devDependencies (`npm ci --omit=dev`
// from a package that ships dist/), nothing is compiled.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const main = join(root, 'dist/src/main.js')

function newest (dir) {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

const hasSources = existsSync(join(root, 'src')) && existsSync(join(root, 'tsconfig.json'))
const isStale = !existsSync(main) ||
  (hasSources && Math.max(newest(join(root, 'src')), newest(join(root, 'workers'))) > statSync(main).mtimeMs)
if (isStale) {
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  if (existsSync(tsc)) execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
  else if (!existsSync(main)) {
    process.stderr.write('flashkv: dist/ is missing and TypeScript is not installed: run `npm ci` (with devDependencies) first\n')
    process.exit(2)
  }
}
await import(main)
