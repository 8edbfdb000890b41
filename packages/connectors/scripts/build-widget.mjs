// Bundle the CRM widget's browser code (TypeScript + uPlot + CSS) into assets/widget/ with esbuild:
// one content-hashed script, one stylesheet and manifest.json naming them. Part of `pnpm run build`.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'assets', 'widget')

/**
 * Builds into a private directory and renames the files into place (the manifest last), so a hub
 * or a test reading the bundle while another process rebuilds it never sees a missing file.
 */
export async function buildWidget() {
  mkdirSync(out, { recursive: true })
  const tmp = join(out, `.build-${process.pid}-${Date.now()}`)
  try {
    const result = await build({
      entryPoints: [join(root, 'src/crm/widget/client/main.ts')],
      bundle: true,
      minify: true,
      format: 'iife',
      target: ['es2020', 'chrome100', 'safari15', 'firefox100'],
      platform: 'browser',
      outdir: tmp,
      entryNames: 'widget.[hash]',
      metafile: true,
      legalComments: 'eof',
      logLevel: 'warning',
    })
    const files = Object.keys(result.metafile.outputs).map((p) => basename(p))
    const js = files.find((f) => f.endsWith('.js'))
    const css = files.find((f) => f.endsWith('.css'))
    if (!js || !css) throw new Error(`the widget build wrote ${files.join(', ')}`)
    for (const f of files) renameSync(join(tmp, f), join(out, f))
    writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify({ js, css }, null, 2)}\n`)
    renameSync(join(tmp, 'manifest.json'), join(out, 'manifest.json'))
    // bundles of earlier sources (other hashes) go; other builds' private directories stay
    for (const f of readdirSync(out))
      if (!f.startsWith('.build-') && ![js, css, 'manifest.json'].includes(f))
        rmSync(join(out, f), { force: true })
    return { js, css, dir: out }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { js, css } = await buildWidget()
  process.stdout.write(`crm widget: ${js}, ${css}\n`)
}
