// Bundle the CRM widget's browser code (TypeScript + uPlot + CSS) into assets/widget/ with esbuild:
// one content-hashed script, one stylesheet and manifest.json naming them. Part of `pnpm run build`.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'assets', 'widget')

export async function buildWidget() {
  mkdirSync(out, { recursive: true })
  for (const f of readdirSync(out)) rmSync(join(out, f))
  const result = await build({
    entryPoints: [join(root, 'src/crm/widget/client/main.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020', 'chrome100', 'safari15', 'firefox100'],
    platform: 'browser',
    outdir: out,
    entryNames: 'widget.[hash]',
    metafile: true,
    legalComments: 'eof',
    logLevel: 'warning',
  })
  const files = Object.keys(result.metafile.outputs).map((p) => basename(p))
  const js = files.find((f) => f.endsWith('.js'))
  const css = files.find((f) => f.endsWith('.css'))
  if (!js || !css) throw new Error(`the widget build wrote ${files.join(', ')}`)
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify({ js, css }, null, 2)}\n`)
  return { js, css, dir: out }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { js, css } = await buildWidget()
  process.stdout.write(`crm widget: ${js}, ${css}\n`)
}
