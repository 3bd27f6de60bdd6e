// A dependency-free SVG bar chart of ops/s per test for every server (bench/run.ts output).

interface Bar { server: string, test: string, mode: string, rps: number }

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2']

export function chartSvg (rows: readonly Bar[]): string {
  const servers = [...new Set(rows.map(r => r.server))]
  const groups = [...new Set(rows.map(r => `${r.test} ${r.mode}`))]
  const max = Math.max(1, ...rows.map(r => r.rps))
  const barW = 12
  const groupW = servers.length * barW + 16
  const h = 320
  const top = 30
  const bottom = 90
  const left = 70
  const width = left + groups.length * groupW + 20
  const y = (v: number): number => top + (h - top - bottom) * (1 - v / max)
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="sans-serif" font-size="10">\n`
  svg += `<text x="${left}" y="16" font-size="12">ops/s per test (higher is better)</text>\n`
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4
    svg += `<line x1="${left}" x2="${width - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${left - 4}" y="${y(v) + 3}" text-anchor="end">${Math.round(v / 1000)}k</text>\n`
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + 8
    servers.forEach((s, si) => {
      const r = rows.find(row => `${row.test} ${row.mode}` === g && row.server === s)
      if (r === undefined) return
      svg += `<rect x="${x0 + si * barW}" y="${y(r.rps)}" width="${barW - 2}" height="${h - bottom - y(r.rps)}" fill="${COLORS[si % COLORS.length]}"><title>${s} ${g}: ${Math.round(r.rps)}</title></rect>\n`
    })
    svg += `<text transform="translate(${x0 + 4},${h - bottom + 10}) rotate(45)">${g}</text>\n`
  })
  servers.forEach((s, si) => {
    svg += `<rect x="${left + si * 110}" y="${h - 16}" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/><text x="${left + si * 110 + 14}" y="${h - 7}">${s}</text>\n`
  })
  return svg + '</svg>\n'
}
