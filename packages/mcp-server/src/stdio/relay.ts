import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server'
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio'
import { HubError, type Principal, PrincipalSchema } from '@nl2q/core'
import type { Logger } from 'pino'
import { z } from 'zod'
import { readStdioCredential, stdioCredentialSource } from './credentials.ts'

const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion'
/** Params that a 2026-07-28 request mirrors in the Mcp-Name header. */
const NAME_PARAM: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
}

interface Message {
  jsonrpc?: string
  id?: string | number | null
  method?: string
  params?: Record<string, unknown> & { _meta?: Record<string, unknown>; requestId?: unknown }
  result?: Record<string, unknown>
}

/** Header-safe form of a name: as is when plain printable ASCII, else the spec's base64 sentinel. */
function headerValue(value: string): string {
  return /^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$/.test(value)
    ? value
    : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`
}

/** The JSON-RPC messages of one HTTP answer, as they arrive (an SSE stream is forwarded event by event). */
async function* messagesOf(res: Response): AsyncGenerator<Message> {
  const type = res.headers.get('content-type') ?? ''
  if (!res.body) return
  if (!type.includes('text/event-stream')) {
    const text = await res.text()
    if (!text.trim()) return
    const body = JSON.parse(text) as unknown
    for (const m of Array.isArray(body) ? body : [body]) yield m as Message
    return
  }
  let buffer = ''
  for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk.replaceAll('\r\n', '\n')
    let end = buffer.indexOf('\n\n')
    while (end >= 0) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n')
      buffer = buffer.slice(end + 2)
      if (data.trim()) yield JSON.parse(data) as Message
      end = buffer.indexOf('\n\n')
    }
  }
}

export interface RelayOptions {
  /** Base URL of a running hub (NL2Q_URL); MCP goes to `<url>/mcp`. */
  url: string
  apiKey: string
  logger: Logger
  /** Default: this process's stdin and stdout. */
  transport?: Transport
}

/** Verify the key against the remote hub (`GET /v1/me`): the hub's own authentication decides. */
async function whoAmI(base: URL, apiKey: string): Promise<Principal> {
  const res = await fetch(new URL('/v1/me', base), { headers: { authorization: `Bearer ${apiKey}` } })
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null
  if (res.ok) return PrincipalSchema.parse(body)
  throw new HubError(
    'UNAUTHENTICATED',
    `The hub at ${base.origin} refused the key: ${String(body?.detail ?? res.status)}`,
    {
      status: res.status,
    },
  )
}

/**
 * stdio ⇄ a running hub's `/mcp`: every message from the assistant is POSTed with the key; JSON and
 * SSE answers (progress included) are written back as they arrive. The remote hub authenticates,
 * rate-limits and audits each request. A 2025 client's negotiated version is sent as
 * MCP-Protocol-Version; a 2026-07-28 client's per-request envelope sets the headers it requires.
 * Cancelling aborts the in-flight POST and forwards the notification.
 */
export async function relayStdioToHub(
  options: RelayOptions,
): Promise<{ principal: Principal; close(): Promise<void> }> {
  const base = new URL(options.url)
  const endpoint = new URL('mcp', base.href.endsWith('/') ? base : new URL(`${base.href}/`))
  const principal = await whoAmI(base, options.apiKey)
  const transport = options.transport ?? new StdioServerTransport()
  const inFlight = new Map<string, AbortController>()
  let negotiated: string | undefined

  const post = async (message: Message): Promise<void> => {
    const meta = message.params?._meta
    const modern =
      typeof meta?.[PROTOCOL_VERSION_META] === 'string' ? String(meta[PROTOCOL_VERSION_META]) : undefined
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.apiKey}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    }
    const version = modern ?? negotiated
    if (version) headers['mcp-protocol-version'] = version
    if (modern && message.method) {
      headers['mcp-method'] = message.method
      const param = NAME_PARAM[message.method]
      const name = param ? message.params?.[param] : undefined
      if (typeof name === 'string') headers['mcp-name'] = headerValue(name)
    }
    const isRequest = message.id !== undefined && message.id !== null && message.method !== undefined
    const key = JSON.stringify(message.id)
    const abort = new AbortController()
    if (isRequest) inFlight.set(key, abort)
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(message),
        signal: abort.signal,
      })
      if (!isRequest) {
        await res.body?.cancel()
        return
      }
      if (!res.ok && !(res.headers.get('content-type') ?? '').includes('json')) {
        throw new HubError('SERVICE_UNAVAILABLE', `The hub answered HTTP ${res.status}`)
      }
      if (!res.ok && (res.headers.get('content-type') ?? '').includes('problem+json')) {
        const problem = (await res.json()) as { code?: string; detail?: string }
        await transport.send({
          jsonrpc: '2.0',
          id: message.id as string | number,
          error: { code: -32000, message: `${problem.code ?? res.status}: ${problem.detail ?? 'refused'}` },
        })
        return
      }
      for await (const answer of messagesOf(res)) {
        if (message.method === 'initialize' && typeof answer.result?.protocolVersion === 'string')
          negotiated = answer.result.protocolVersion
        await transport.send({
          ...answer,
          ...(answer.id === null ? { id: message.id } : {}),
        } as JSONRPCMessage)
      }
    } catch (err) {
      if (abort.signal.aborted) return
      options.logger.warn({ err, method: message.method }, 'MCP relay request failed')
      if (isRequest) {
        await transport.send({
          jsonrpc: '2.0',
          id: message.id as string | number,
          error: { code: -32603, message: 'The hub could not be reached; try again' },
        })
      }
    } finally {
      if (isRequest) inFlight.delete(key)
    }
  }

  transport.onmessage = (raw: JSONRPCMessage) => {
    const message = raw as Message
    if (message.method === 'notifications/cancelled') {
      inFlight.get(JSON.stringify(message.params?.requestId))?.abort()
    }
    // Answers to server→client requests have no place in a stateless exchange: drop them.
    if (message.method === undefined) return
    void post(message)
  }
  transport.onerror = (err) => options.logger.warn({ err }, 'MCP stdio error')
  await transport.start()
  options.logger.info({ hub: base.origin, tenant: principal.tenant }, 'MCP stdio relay ready')
  return {
    principal,
    async close() {
      for (const controller of inFlight.values()) controller.abort()
      await transport.close()
    },
  }
}

/**
 * `NL2Q_URL` mode of `nl2q-mcp`: the same credentials as the embedded mode (NL2Q_API_KEY, or
 * NL2Q_TENANT + NL2Q_KEY_FILE), relayed to a running hub instead of an in-process one.
 */
export async function serveRemoteOverStdio(options: {
  env: NodeJS.ProcessEnv
  logger: Logger
  transport?: Transport
}): Promise<{ principal: Principal; close(): Promise<void> }> {
  const url = z.url({ protocol: /^https?$/ }).safeParse(options.env.NL2Q_URL)
  if (!url.success) throw new HubError('CONFIG_INVALID', 'NL2Q_URL must be the http(s) URL of a running hub')
  const credential = readStdioCredential(stdioCredentialSource(options.env))
  const relay = await relayStdioToHub({
    url: url.data,
    apiKey: credential.apiKey,
    logger: options.logger,
    ...(options.transport ? { transport: options.transport } : {}),
  })
  if (credential.expectedTenant !== undefined && relay.principal.tenant !== credential.expectedTenant) {
    await relay.close()
    throw new HubError('FORBIDDEN', 'The key in NL2Q_KEY_FILE belongs to another tenant than NL2Q_TENANT')
  }
  return relay
}
