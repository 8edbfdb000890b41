export type ParsedAuthorization =
  | { scheme: 'none' }
  | { scheme: 'bearer'; token: string }
  | { scheme: 'basic'; password: string }
  | { scheme: 'malformed' | 'other' }

/** Parse an `Authorization` header (RFC 9110 §11.6.2); Basic's user name is ignored. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (header === undefined || header.trim() === '') return { scheme: 'none' }
  const m = /^([A-Za-z]+) +(\S+) *$/.exec(header)
  if (!m) return { scheme: 'malformed' }
  const scheme = m[1]!.toLowerCase()
  const value = m[2]!
  if (scheme === 'bearer') return { scheme: 'bearer', token: value }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon < 0 ? { scheme: 'malformed' } : { scheme: 'basic', password: decoded.slice(colon + 1) }
  }
  return { scheme: 'other' }
}

/** Query parameters that would carry a credential; they are refused, never read. */
export const QUERY_CREDENTIAL_PARAMS = ['access_token', 'api_key', 'apikey', 'api-key', 'token', 'jwt']

export function queryCredentialParam(url: string): string | null {
  // no query string, no parameter: spares parsing the URL on nearly every request
  if (!url.includes('?')) return null
  const params = new URL(url).searchParams
  return QUERY_CREDENTIAL_PARAMS.find((p) => params.has(p)) ?? null
}
