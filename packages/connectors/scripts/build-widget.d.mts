/** Bundle the CRM widget into packages/connectors/assets/widget/ (content-hashed names in manifest.json). */
export function buildWidget(): Promise<{ js: string; css: string; dir: string }>
