// Shared by the server and the browser bundle: no imports.

/** Does `origin` match one of the allow-list's patterns (`https://*.host` = one or more labels)? */
export function originAllowed(origin: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    if (!p.includes('*')) return p === origin
    const [scheme, rest] = p.split('://*.') as [string, string]
    if (!origin.startsWith(`${scheme}://`) || !origin.endsWith(`.${rest}`)) return false
    const labels = origin.slice(scheme.length + 3, origin.length - rest.length - 1)
    return /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(labels)
  })
}
