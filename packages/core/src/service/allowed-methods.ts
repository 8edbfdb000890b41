/**
 * The methods the app's routes answer on a path, for a 405 with `Allow` instead of a 404 when a
 * path exists under another method (`GET /v1/ask`). Built from the router's own route list the
 * first time it is asked, when every route (connectors included) is registered.
 */
export interface RouteEntry {
  method: string
  path: string
}

function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*'
      if (segment.startsWith(':')) return '[^/]+'
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('/')
  return new RegExp(`^${source}/?$`)
}

export function allowedMethods(routes: () => readonly RouteEntry[]): (pathname: string) => string[] {
  let compiled: { method: string; pattern: RegExp }[] | undefined
  return function methodsFor(pathname) {
    compiled ??= routes()
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ method: r.method, pattern: patternOf(r.path) }))
    const methods = new Set(compiled.filter((r) => r.pattern.test(pathname)).map((r) => r.method))
    if (methods.has('GET')) methods.add('HEAD')
    return [...methods].sort()
  }
}
