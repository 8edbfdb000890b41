import { createHmac, randomBytes } from 'node:crypto'
import { createLocalJWKSet, type JWK, jwtVerify } from 'jose'
import { SfApiError } from './store.ts'

/** A connected app: JWT bearer (certificate's public key) and client credentials (secret). */
export interface ConnectedApp {
  clientId: string
  clientSecret: string
  /** The public half of the app's certificate, as a JWK. */
  publicJwk: JWK
  /** The user that JWT bearer assertions may name as `sub` (and client credentials run as). */
  username: string
}

export interface Session {
  token: string
  expired: boolean
  issuedAt: number
}

const oauthError = (error: string, description: string) =>
  Object.assign(new SfApiError(400, error, description), { oauth: { error, error_description: description } })

/** The token endpoint: `grant_type` jwt-bearer or client_credentials; never password. */
export async function issueToken(
  app: ConnectedApp,
  form: URLSearchParams,
  audience: string,
  instanceUrl: string,
  sessions: Map<string, Session>,
): Promise<Record<string, string>> {
  const grant = form.get('grant_type')
  if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    const assertion = form.get('assertion') ?? ''
    try {
      const { payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: [app.publicJwk] }), {
        issuer: app.clientId,
        audience,
        subject: app.username,
        algorithms: ['RS256'],
        maxTokenAge: '5m',
      })
      if (!payload.exp) throw new Error('exp missing')
    } catch (cause) {
      throw oauthError('invalid_grant', `invalid assertion: ${(cause as Error).message}`)
    }
  } else if (grant === 'client_credentials') {
    if (form.get('client_id') !== app.clientId || form.get('client_secret') !== app.clientSecret)
      throw oauthError('invalid_client', 'invalid client credentials')
  } else {
    throw oauthError('unsupported_grant_type', 'grant type not supported')
  }
  const token = `00D000000000001!${randomBytes(24).toString('base64url')}`
  const issuedAt = Date.now()
  sessions.set(token, { token, expired: false, issuedAt })
  const id = `${audience}/id/00D000000000001EAA/005000000000001AAA`
  return {
    access_token: token,
    instance_url: instanceUrl,
    id,
    token_type: 'Bearer',
    issued_at: String(issuedAt),
    scope: 'api',
    signature: createHmac('sha256', app.clientSecret).update(`${id}${issuedAt}`).digest('base64'),
  }
}
