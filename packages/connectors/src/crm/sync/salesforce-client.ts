import { HubError } from '@nl2q/core'
import { importPKCS8, SignJWT } from 'jose'
import { Connection, OAuth2 } from 'jsforce'
import { HttpApi } from 'jsforce/lib/http-api.js'
import pRetry, { AbortError } from 'p-retry'
import type { CrmConfig } from '../config.ts'

/** Usage of the org's daily API allowance, from the last `Sforce-Limit-Info` header. */
export interface ApiUsage {
  used: number
  limit: number
}

export interface SfResponse<T> {
  body: T
  headers: Record<string, string | undefined>
}

export interface ClientCredentials {
  /** PEM (PKCS#8) of the connected app's certificate key, for JWT bearer. */
  privateKey?: string
  clientSecret?: string
}

export interface ClientStats {
  calls: number
  retries: number
  refreshes: number
  throttled: number
  usage: ApiUsage | undefined
}

const RETRYABLE_NET =
  /ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED|UND_ERR_SOCKET|premature close|socket hang up|aborted/i

/**
 * jsforce's Connection is the session and transport. Every call goes through `request`, which
 * (1) refreshes the token once on a 401 and replays the request once, (2) retries 5xx,
 * REQUEST_LIMIT_EXCEEDED and connection resets with exponential backoff (p-retry), and (3) reads
 * `Sforce-Limit-Info`: above slow_above of the allowance calls are spaced out, above stop_above
 * the client refuses further calls (RATE_LIMITED) so a run stops where it can resume.
 */
export class SalesforceClient {
  readonly conn: Connection
  readonly stats: ClientStats = { calls: 0, retries: 0, refreshes: 0, throttled: 0, usage: undefined }
  private readonly oauth: OAuth2

  constructor(
    private readonly config: CrmConfig,
    private readonly credentials: ClientCredentials,
    private readonly signal?: AbortSignal,
  ) {
    if (!config.client_id)
      throw new HubError('CONFIG_INVALID', 'The crm connector needs HUB_CRM_CLIENT_ID (the connected app)')
    this.oauth = new OAuth2({
      loginUrl: config.login_url,
      clientId: config.client_id,
      ...(config.auth === 'client_credentials' ? { clientSecret: credentials.clientSecret } : {}),
      redirectUri: `${config.login_url}/services/oauth2/success`,
    })
    // No oauth2 on the connection: jsforce would install its own refresh loop; `request` refreshes once.
    this.conn = new Connection({ version: config.api_version })
  }

  get version(): string {
    return this.config.api_version
  }

  /** Get a token by the configured flow (never username/password). */
  async authenticate(): Promise<void> {
    let token: { access_token: string; instance_url: string }
    try {
      if (this.config.auth === 'private_key') {
        if (!this.credentials.privateKey || !this.config.username)
          throw new HubError('CONFIG_INVALID', 'JWT bearer needs the private_key secret and HUB_CRM_USERNAME')
        const key = await importPKCS8(this.credentials.privateKey, 'RS256')
        const assertion = await new SignJWT({})
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer(this.config.client_id as string)
          .setSubject(this.config.username)
          .setAudience(this.config.login_url)
          .setIssuedAt()
          .setExpirationTime('3m')
          .sign(key)
        token = (await this.oauth.requestToken({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
        })) as typeof token
      } else {
        if (!this.credentials.clientSecret)
          throw new HubError('CONFIG_INVALID', 'Client credentials need the client_secret secret')
        token = (await this.oauth.requestToken({ grant_type: 'client_credentials' })) as typeof token
      }
    } catch (cause) {
      if (cause instanceof HubError) throw cause
      throw new HubError('SERVICE_UNAVAILABLE', 'Salesforce refused the token request', { cause })
    }
    this.conn.accessToken = token.access_token
    this.conn.instanceUrl = token.instance_url
  }

  /** The limit check before a call: sleep when slow, refuse when past the stop line. */
  private async pace(): Promise<void> {
    const usage = this.stats.usage
    if (!usage || usage.limit <= 0) return
    const share = usage.used / usage.limit
    if (share > this.config.stop_above)
      throw new HubError(
        'RATE_LIMITED',
        `Salesforce API usage is ${usage.used}/${usage.limit}, above ${this.config.stop_above * 100}%: stopping (the run resumes later)`,
      )
    if (share > this.config.slow_above) {
      this.stats.throttled += 1
      await sleep(this.config.slow_delay_ms, this.signal)
    }
  }

  /**
   * One REST call (path relative to `/services/data/vXX.X`, or absolute from `/services`).
   * `text` returns the raw body (CSV pages) instead of parsed JSON.
   */
  async request<T>(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    options: { body?: unknown; text?: boolean; contentType?: string; headers?: Record<string, string> } = {},
  ): Promise<SfResponse<T>> {
    if (!this.conn.accessToken) await this.authenticate()
    let refreshed = false
    return pRetry(
      async () => {
        this.signal?.throwIfAborted()
        await this.pace()
        try {
          return await this.once<T>(method, path, options)
        } catch (err) {
          if (!isSessionError(err)) throw err
          // Refresh on a 401 exactly once per request; a second 401 is not retried.
          const refused = () =>
            new AbortError(
              new HubError('UNAUTHENTICATED', 'Salesforce refused the refreshed session', { cause: err }),
            )
          if (refreshed) throw refused()
          refreshed = true
          this.stats.refreshes += 1
          await this.authenticate()
          try {
            return await this.once<T>(method, path, options)
          } catch (again) {
            if (isSessionError(again)) throw refused()
            throw again
          }
        }
      },
      {
        retries: this.config.max_retries,
        minTimeout: this.config.retry_base_ms,
        factor: 2,
        randomize: true,
        ...(this.signal ? { signal: this.signal } : {}),
        shouldRetry: (err) => isRetryable(err),
        onFailedAttempt: () => {
          this.stats.retries += 1
        },
      },
    ).catch((err: unknown) => {
      if (err instanceof HubError) throw err
      const e = err as { errorCode?: string; status?: number; message?: string }
      throw new HubError(
        e.errorCode === 'REQUEST_LIMIT_EXCEEDED' ? 'RATE_LIMITED' : 'SERVICE_UNAVAILABLE',
        `Salesforce ${method} ${path.split('?')[0]} failed: ${e.errorCode ?? 'network error'}`,
        { cause: err },
      )
    })
  }

  private async once<T>(
    method: string,
    path: string,
    options: { body?: unknown; text?: boolean; contentType?: string; headers?: Record<string, string> },
  ): Promise<SfResponse<T>> {
    const url = path.startsWith('/services/')
      ? `${this.conn.instanceUrl}${path}`
      : `${this.conn.instanceUrl}/services/data/v${this.version}${path}`
    const api = new HttpApi(this.conn, {
      responseType: options.text ? 'text/plain' : undefined,
      retry: { maxRetries: 0 },
    })
    let status = 0
    let headers: Record<string, string | undefined> = {}
    api.on('response', (res: { statusCode: number; headers: Record<string, string | undefined> }) => {
      status = res.statusCode
      headers = res.headers
      const m = /api-usage=(\d+)\/(\d+)/.exec(res.headers['sforce-limit-info'] ?? '')
      if (m) this.stats.usage = { used: Number(m[1]), limit: Number(m[2]) }
    })
    this.stats.calls += 1
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body)
    let timer: NodeJS.Timeout | undefined
    // jsforce does not pass a body stream's error on (a connection reset mid-body would hang the
    // call): a watchdog turns a response that stops arriving into a retryable reset.
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            Object.assign(new Error('ECONNRESET: no complete response in time'), { code: 'ECONNRESET' }),
          ),
        this.config.request_timeout_ms,
      )
    })
    try {
      const result = (await Promise.race([
        watchdog,
        api.request({
          method: method as 'GET',
          url,
          ...(body === undefined ? {} : { body }),
          headers: {
            ...(body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
            ...(options.text ? { accept: 'text/csv' } : {}),
            ...options.headers,
          },
        }),
      ])) as T
      return { body: result, headers }
    } catch (err) {
      throw Object.assign(err as object, { status })
    } finally {
      clearTimeout(timer)
    }
  }
}

function isSessionError(err: unknown): boolean {
  const e = err as { errorCode?: string; status?: number }
  return e.status === 401 || e.errorCode === 'INVALID_SESSION_ID'
}

function isRetryable(err: unknown): boolean {
  const e = err as { errorCode?: string; status?: number; message?: string; code?: string; name?: string }
  if (e.errorCode === 'REQUEST_LIMIT_EXCEEDED') return true
  if (typeof e.status === 'number' && e.status >= 500) return true
  if (e.status && e.status > 0 && e.status < 500) return false
  return RETRYABLE_NET.test(`${e.code ?? ''} ${e.name ?? ''} ${e.message ?? ''}`)
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}
