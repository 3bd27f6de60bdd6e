// Lints the Dockerfile with dockerfile-utils and fails on any finding (the tool itself always
// exits 0, so its output is what counts).
import { execFileSync } from 'node:child_process'

const out = execFileSync(process.execPath, [new URL('../node_modules/dockerfile-utils/bin/dockerfile-utils', import.meta.url).pathname, 'lint', 'Dockerfile'], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname })
if (out.trim() !== '') {
  process.stderr.write(`Dockerfile lint findings:\n${out}`)
  process.exit(1)
}
console.log('Dockerfile: no lint findings')
