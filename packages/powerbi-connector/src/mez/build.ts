import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { strToU8, zipSync } from 'fflate'
import { drawIcon, ICON_SIZES } from './png.ts'

/** The Power Query connector sources (packages/powerbi-connector/connector). */
export const CONNECTOR_DIR = fileURLToPath(new URL('../../connector/', import.meta.url))

export interface MezFile {
  name: string
  data: Uint8Array
}

const CONTENT_TYPES = `<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="pq" ContentType="application/x-ms-m"/>
  <Default Extension="pqm" ContentType="application/x-ms-m"/>
  <Default Extension="resx" ContentType="application/xml"/>
  <Default Extension="png" ContentType="image/png"/>
</Types>
`

/** What goes into NL2Q.mez: the section document, its modules, resources and icons (not tests). */
export function MEZ_FILES(dir = CONNECTOR_DIR): MezFile[] {
  const files: MezFile[] = []
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.query.pq')) continue
    if (/\.(pq|pqm|resx)$/.test(name))
      files.push({ name, data: new Uint8Array(readFileSync(join(dir, name))) })
  }
  for (const size of ICON_SIZES) files.push({ name: `NL2Q${size}.png`, data: new Uint8Array(drawIcon(size)) })
  files.push({ name: '[Content_Types].xml', data: strToU8(CONTENT_TYPES) })
  return files
}

/**
 * NL2Q.mez: a zip of the connector files at its root, the layout Power BI Desktop and the gateway
 * load from `[Documents]\Power BI Desktop\Custom Connectors`. Deterministic (fixed timestamps).
 */
export function buildMez(dir = CONNECTOR_DIR): Uint8Array {
  const entries: Record<string, [Uint8Array, { mtime: Date; level: 0 | 6 }]> = {}
  const mtime = new Date('2024-01-01T00:00:00Z')
  for (const f of MEZ_FILES(dir))
    entries[f.name] = [f.data, { mtime, level: f.name.endsWith('.png') ? 0 : 6 }]
  return zipSync(entries)
}
