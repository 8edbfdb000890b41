import { createHash, createPrivateKey, randomUUID, X509Certificate } from 'node:crypto'
import { HubError } from '@nl2q/core'
import { importPKCS8, SignJWT } from 'jose'
import type { M365Settings } from './config.ts'
import type { Fetch } from './transport.ts'

export interface AppCredentials {
  directory: string
  clientId: string
  /** `client_secret` secret of the connector. */
  secret?: string
  /** `client_certificate` secret: PEM with the private key and the certificate registered on the app. */
  certificate?: string
}

/** Graph answered, but not with what we need: carries the status for the caller's message. */
export class GraphCallError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message)
    this.name = 'GraphCallError'
  }
}

async function clientAssertion(pem: string, clientId: string, audience: string): Promise<string> {
  const certPem = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0]
  if (!certPem) throw new HubError('CONFIG_INVALID', 'm365 client_certificate holds no certificate')
  const cert = new X509Certificate(certPem)
  const pkcs8 = createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }).toString()
  const key = await importPKCS8(pkcs8, 'PS256')
  const thumbprint = createHash('sha256').update(cert.raw).digest('base64url')
  return new SignJWT({})
    .setProtectedHeader({ alg: 'PS256', typ: 'JWT', 'x5t#S256': thumbprint })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime('5m')
    .sign(key)
}

interface CachedToken {
  value: string
  expiresAt: number
}

/**
 * OAuth 2.0 client credentials against the Entra token endpoint (`/{directory}/oauth2/v2.0/token`)
 * with a client secret or a certificate assertion (RFC 7523, PS256, `x5t#S256`). Tokens are reused
 * until a minute before they expire.
 */
export function createTokenSource(settings: Pick<M365Settings, 'login_url' | 'graph_url'>, fetch: Fetch) {
  const cache = new Map<string, CachedToken>()
  return async function accessToken(app: AppCredentials, signal?: AbortSignal): Promise<string> {
    const key = `${app.directory}\u0000${app.clientId}\u0000${createHash('sha256')
      .update(app.secret ?? app.certificate ?? '')
      .digest('hex')}`
    const hit = cache.get(key)
    if (hit && hit.expiresAt - 60_000 > Date.now()) return hit.value
    const endpoint = `${settings.login_url}/${encodeURIComponent(app.directory)}/oauth2/v2.0/token`
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      scope: `${settings.graph_url}/.default`,
    })
    if (app.certificate) {
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      form.set('client_assertion', await clientAssertion(app.certificate, app.clientId, endpoint))
    } else if (app.secret) {
      form.set('client_secret', app.secret)
    } else {
      throw new HubError('CONFIG_INVALID', 'm365 needs a client_secret or client_certificate secret')
    }
    let res: Response
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: signal ?? AbortSignal.timeout(30_000),
      })
    } catch (cause) {
      throw new GraphCallError(`the token endpoint is unreachable (${(cause as Error).message})`, undefined)
    }
    const body = (await res.json().catch(() => ({}))) as {
      access_token?: unknown
      expires_in?: unknown
      error?: unknown
    }
    if (!res.ok || typeof body.access_token !== 'string')
      throw new GraphCallError(
        `the token endpoint refused the app credentials (${res.status}${typeof body.error === 'string' ? ` ${body.error}` : ''})`,
        res.status,
      )
    const ttl = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600)
    cache.set(key, {
      value: body.access_token,
      expiresAt: Date.now() + (Number.isFinite(ttl) ? ttl : 3600) * 1000,
    })
    return body.access_token
  }
}
export type TokenSource = ReturnType<typeof createTokenSource>
