/**
 * A protocol-faithful Microsoft Graph + Entra token endpoint on loopback over HTTPS, for tests:
 * client credentials (secret or certificate assertion), `transitiveMemberOf` with `@odata.nextLink`
 * paging, `checkMemberGroups`, and drive upload sessions (create, chunk PUT with Content-Range,
 * `nextExpectedRanges`, status, cancel, conflict behaviour). Faults are injected per route: a status
 * (429 with Retry-After, 401, 403, 5xx) a given number of times, or a dropped connection mid-chunk.
 */
import { createHash, randomBytes, randomUUID, X509Certificate } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { importX509, jwtVerify } from 'jose'
import { makeTestPki } from './tls-certs.ts'

export type Route = 'token' | 'memberOf' | 'checkMemberGroups' | 'createSession' | 'chunk' | 'item'

interface Fault {
  route: Route
  status: number
  retryAfter?: number
  times: number
}

interface App {
  directory: string
  secret?: string
  certPem?: string
}

interface Session {
  id: string
  key: string
  name: string
  conflict: string
  parts: Buffer[]
  received: number
  total: number | undefined
  expires: Date
}

interface Item {
  id: string
  name: string
  content: Buffer
  modified: string
}

export interface LoggedRequest {
  route: Route | 'other'
  method: string
  path: string
  status: number
  /** Whether an Authorization header came with it. */
  authorized: boolean
  at: number
}

const CHUNK_UNIT = 320 * 1024

export interface GraphEmulator {
  /** `https://localhost:<port>`: Graph and login both live here. */
  url: string
  /** `https://127.0.0.1:<port>`: where upload sessions point (another host, as SharePoint is). */
  uploadOrigin: string
  caPem: string
  registerApp(clientId: string, app: App): void
  /** Group memberships (transitive) of a user object id. */
  setMemberships(oid: string, groupIds: string[]): void
  /** Largest page `transitiveMemberOf` returns, whatever `$top` asks. */
  pageSize: number
  /** The next `times` requests to `route` answer `status` (429/503 with Retry-After when given). */
  inject(route: Route, status: number, options?: { times?: number; retryAfter?: number }): void
  /** The `n`-th chunk PUT from now (1 = the next) loses its connection before it is stored. */
  dropChunk(n: number): void
  /** Stop answering: every request's connection is destroyed (Graph down). */
  down: boolean
  requests: LoggedRequest[]
  items: Map<string, Item>
  item(path: string): Item | undefined
  close(): Promise<void>
}

function graphError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  const body = JSON.stringify({
    error: { code, message, innerError: { 'request-id': randomUUID(), date: new Date().toISOString() } },
  })
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body)
}

async function readBody(req: IncomingMessage, limit = 70 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new Error('body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

const driveItem = (item: Item, base: string) => ({
  '@odata.context': `${base}/v1.0/$metadata#driveItem`,
  id: item.id,
  name: item.name,
  size: item.content.length,
  lastModifiedDateTime: item.modified,
  file: {
    mimeType: 'application/octet-stream',
    hashes: { sha256Hash: createHash('sha256').update(item.content).digest('hex').toUpperCase() },
  },
})

/** `/v1.0/(sites/{s}/)drives/{d}/root:/a/b.csv:(/action)` → drive key, item path, action. */
function parseDrivePath(path: string): { key: string; name: string; action: string } | undefined {
  const m = /^\/v1\.0\/((?:sites\/[^/]+\/)?drives\/[^/]+)\/root:\/(.+?):(?:\/([A-Za-z]+))?$/.exec(path)
  if (!m?.[1] || !m[2]) return undefined
  const drive = m[1].replace(/^sites\/[^/]+\//, '')
  const segments = m[2].split('/').map((s) => decodeURIComponent(s))
  return {
    key: `${decodeURIComponent(drive)}/${segments.join('/')}`,
    name: segments.at(-1) ?? '',
    action: m[3] ?? '',
  }
}

export async function startGraphEmulator(): Promise<GraphEmulator> {
  const pki = makeTestPki()
  const apps = new Map<string, App>()
  const tokens = new Map<string, { clientId: string; exp: number }>()
  const memberships = new Map<string, string[]>()
  const sessions = new Map<string, Session>()
  const items = new Map<string, Item>()
  const faults: Fault[] = []
  let dropAt = 0
  let chunkCount = 0
  let port = 0

  const emulator: GraphEmulator = {
    url: '',
    uploadOrigin: '',
    caPem: pki.caPem,
    registerApp: (id, app) => apps.set(id, app),
    setMemberships: (oid, ids) => memberships.set(oid, ids),
    pageSize: 100,
    inject: (route, status, o = {}) =>
      faults.push({
        route,
        status,
        times: o.times ?? 1,
        ...(o.retryAfter !== undefined ? { retryAfter: o.retryAfter } : {}),
      }),
    dropChunk(n) {
      dropAt = chunkCount + n
    },
    down: false,
    requests: [],
    items,
    item: (path) => items.get(path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }

  const base = () => `https://localhost:${port}`

  function takeFault(route: Route): Fault | undefined {
    const i = faults.findIndex((f) => f.route === route)
    if (i < 0) return undefined
    const f = faults[i] as Fault
    f.times -= 1
    if (f.times <= 0) faults.splice(i, 1)
    return f
  }

  function answerFault(res: ServerResponse, f: Fault): void {
    const codes: Record<number, string> = {
      401: 'InvalidAuthenticationToken',
      403: 'Authorization_RequestDenied',
      429: 'TooManyRequests',
      500: 'generalException',
      502: 'badGateway',
      503: 'serviceNotAvailable',
      504: 'gatewayTimeout',
    }
    graphError(res, f.status, codes[f.status] ?? 'generalException', `injected ${f.status}`, {
      ...(f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {}),
    })
  }

  /** A valid bearer token of a registered app, or an answered 401. */
  function authorize(req: IncomingMessage, res: ServerResponse): boolean {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
    const t = m?.[1] ? tokens.get(m[1]) : undefined
    if (!t || t.exp < Date.now()) {
      graphError(
        res,
        401,
        'InvalidAuthenticationToken',
        m ? 'Access token has expired or is not yet valid.' : 'Access token is empty.',
        {
          'WWW-Authenticate':
            'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"',
        },
      )
      return false
    }
    return true
  }

  async function token(req: IncomingMessage, res: ServerResponse, directory: string): Promise<void> {
    const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'))
    const oauthError = (status: number, error: string, description: string): void => {
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error, error_description: description }))
    }
    if (form.get('grant_type') !== 'client_credentials')
      return oauthError(400, 'unsupported_grant_type', 'AADSTS70003')
    if (!form.get('scope')?.endsWith('/.default'))
      return oauthError(400, 'invalid_scope', 'AADSTS1002012: scope must end in /.default')
    const clientId = form.get('client_id') ?? ''
    const app = apps.get(clientId)
    if (!app || app.directory !== directory)
      return oauthError(400, 'unauthorized_client', 'AADSTS700016: application not found in the directory')
    const assertion = form.get('client_assertion')
    if (assertion) {
      if (
        form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' ||
        !app.certPem
      )
        return oauthError(401, 'invalid_client', 'AADSTS700027: client assertion not accepted')
      try {
        const cert = new X509Certificate(app.certPem)
        const { protectedHeader } = await jwtVerify(assertion, await importX509(app.certPem, 'PS256'), {
          algorithms: ['PS256', 'RS256'],
          issuer: clientId,
          subject: clientId,
          audience: `${base()}/${directory}/oauth2/v2.0/token`,
          requiredClaims: ['exp', 'jti', 'nbf'],
        })
        if (protectedHeader['x5t#S256'] !== createHash('sha256').update(cert.raw).digest('base64url'))
          return oauthError(401, 'invalid_client', 'AADSTS700027: unknown certificate thumbprint')
      } catch {
        return oauthError(401, 'invalid_client', 'AADSTS700027: client assertion failed signature validation')
      }
    } else if (!app.secret || form.get('client_secret') !== app.secret) {
      return oauthError(401, 'invalid_client', 'AADSTS7000215: invalid client secret provided')
    }
    const value = randomBytes(24).toString('base64url')
    tokens.set(value, { clientId, exp: Date.now() + 3_600_000 })
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: value }),
      )
  }

  function memberOf(res: ServerResponse, url: URL, oid: string): void {
    const all = memberships.get(oid)
    if (!all) {
      graphError(res, 404, 'Request_ResourceNotFound', `Resource '${oid}' does not exist.`)
      return
    }
    const top = Math.min(Number(url.searchParams.get('$top') ?? 100) || 100, 999, emulator.pageSize)
    const skip = Number(url.searchParams.get('$skiptoken')?.replace(/^X/, '') ?? 0)
    const page = all.slice(skip, skip + top)
    const next = skip + top < all.length
    const nextUrl = new URL(url.pathname, base())
    nextUrl.searchParams.set('$select', 'id')
    nextUrl.searchParams.set('$top', String(top))
    nextUrl.searchParams.set('$skiptoken', `X${skip + top}`)
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        '@odata.context': `${base()}/v1.0/$metadata#directoryObjects(id)`,
        ...(next ? { '@odata.nextLink': nextUrl.href } : {}),
        value: page.map((id) => ({ '@odata.type': '#microsoft.graph.group', id })),
      }),
    )
  }

  async function checkMember(req: IncomingMessage, res: ServerResponse, oid: string): Promise<void> {
    const all = memberships.get(oid)
    if (!all) return graphError(res, 404, 'Request_ResourceNotFound', `Resource '${oid}' does not exist.`)
    let ids: unknown
    try {
      ids = (JSON.parse((await readBody(req, 64 * 1024)).toString('utf8')) as { groupIds?: unknown }).groupIds
    } catch {
      return graphError(res, 400, 'BadRequest', 'Unable to read JSON request payload.')
    }
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 20)
      return graphError(res, 400, 'Request_BadRequest', 'groupIds must hold 1 to 20 ids.')
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ value: ids.filter((id) => all.includes(String(id))) }))
  }

  function commit(session: Session): { status: number; item: Item } | undefined {
    const existing = items.get(session.key)
    if (existing && session.conflict === 'fail') return undefined
    const item: Item = {
      id: existing?.id ?? randomUUID().replaceAll('-', '').toUpperCase(),
      name: session.name,
      content: Buffer.concat(session.parts),
      modified: new Date().toISOString(),
    }
    items.set(session.key, item)
    return { status: existing ? 200 : 201, item }
  }

  const sessionStatus = (s: Session) => ({
    expirationDateTime: s.expires.toISOString(),
    nextExpectedRanges: [`${s.received}-${s.total === undefined ? '' : s.total - 1}`],
  })

  async function chunk(req: IncomingMessage, res: ServerResponse, s: Session): Promise<void> {
    if (req.headers.authorization)
      return graphError(
        res,
        401,
        'unauthenticated',
        'Upload URLs are pre-authenticated: do not send Authorization.',
      )
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''))
    if (!m) return graphError(res, 400, 'invalidRequest', 'Content-Range is required: bytes a-b/total')
    const [from, to, total] = [Number(m[1]), Number(m[2]), Number(m[3])]
    chunkCount += 1
    if (dropAt > 0 && chunkCount === dropAt) {
      dropAt = 0
      req.socket.destroy() // the connection drops mid-chunk: nothing of it is stored
      return
    }
    const body = await readBody(req)
    if (body.length !== to - from + 1 || to < from || to >= total)
      return graphError(res, 400, 'invalidRange', 'The body does not match Content-Range.')
    if (s.total !== undefined && s.total !== total)
      return graphError(res, 400, 'invalidRange', 'The total size changed.')
    if (from !== s.received)
      return graphError(res, 416, 'invalidRange', `Expected the fragment starting at ${s.received}.`)
    const last = to === total - 1
    if (!last && body.length % CHUNK_UNIT !== 0)
      return graphError(res, 400, 'invalidRange', 'Fragments must be a multiple of 320 KiB.')
    s.total = total
    s.parts.push(body)
    s.received = to + 1
    if (!last) {
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify(sessionStatus(s)))
      return
    }
    sessions.delete(s.id)
    const done = commit(s)
    if (!done) return graphError(res, 409, 'nameAlreadyExists', 'The specified item name already exists.')
    res
      .writeHead(done.status, { 'content-type': 'application/json' })
      .end(JSON.stringify(driveItem(done.item, base())))
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<Route | 'other'> {
    const url = new URL(req.url ?? '/', base())
    const path = url.pathname
    const method = req.method ?? 'GET'
    let route: Route | 'other' = 'other'
    const tokenMatch = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path)
    const memberMatch = /^\/v1\.0\/users\/([^/]+)\/transitiveMemberOf(?:\/microsoft\.graph\.group)?$/.exec(
      path,
    )
    const checkMatch = /^\/v1\.0\/users\/([^/]+)\/checkMemberGroups$/.exec(path)
    const uploadMatch = /^\/upload\/([A-Za-z0-9-]+)$/.exec(path)
    const drive = parseDrivePath(path)
    if (tokenMatch) route = 'token'
    else if (memberMatch) route = 'memberOf'
    else if (checkMatch) route = 'checkMemberGroups'
    else if (uploadMatch) route = 'chunk'
    else if (drive?.action === 'createUploadSession') route = 'createSession'
    else if (drive) route = 'item'
    const fault = route === 'other' ? undefined : takeFault(route)
    if (fault) {
      answerFault(res, fault)
      return route
    }
    if (tokenMatch?.[1] && method === 'POST') {
      await token(req, res, decodeURIComponent(tokenMatch[1]))
      return route
    }
    if (uploadMatch?.[1]) {
      // Upload URLs are on 127.0.0.1 only (SharePoint's host), never on Graph's.
      if (req.headers.host?.startsWith('localhost'))
        graphError(res, 404, 'itemNotFound', 'No such upload session here.')
      const s = sessions.get(uploadMatch[1])
      if (!s) graphError(res, 404, 'itemNotFound', 'The upload session was not found.')
      else if (method === 'PUT') await chunk(req, res, s)
      else if (method === 'GET')
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sessionStatus(s)))
      else if (method === 'DELETE') {
        sessions.delete(s.id)
        res.writeHead(204).end()
      } else graphError(res, 405, 'invalidRequest', 'Method not allowed.')
      return route
    }
    if (!authorize(req, res)) return route
    if (memberMatch?.[1] && method === 'GET') memberOf(res, url, decodeURIComponent(memberMatch[1]))
    else if (checkMatch?.[1] && method === 'POST')
      await checkMember(req, res, decodeURIComponent(checkMatch[1]))
    else if (drive && drive.action === 'createUploadSession' && method === 'POST') {
      let conflict = 'replace'
      try {
        const body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8') || '{}') as {
          item?: Record<string, unknown>
        }
        conflict = String(body.item?.['@microsoft.graph.conflictBehavior'] ?? 'replace')
      } catch {
        graphError(res, 400, 'BadRequest', 'Unable to read JSON request payload.')
        return route
      }
      if (conflict === 'fail' && items.has(drive.key)) {
        graphError(res, 409, 'nameAlreadyExists', 'The specified item name already exists.')
        return route
      }
      const id = randomUUID()
      const s: Session = {
        id,
        key: drive.key,
        name: drive.name,
        conflict,
        parts: [],
        received: 0,
        total: undefined,
        expires: new Date(Date.now() + 3_600_000),
      }
      sessions.set(id, s)
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ uploadUrl: `https://127.0.0.1:${port}/upload/${id}`, ...sessionStatus(s) }))
    } else if (drive && drive.action === 'content' && method === 'PUT') {
      const content = await readBody(req)
      const conflict = url.searchParams.get('@microsoft.graph.conflictBehavior') ?? 'replace'
      const done = commit({
        id: '',
        key: drive.key,
        name: drive.name,
        conflict,
        parts: [content],
        received: 0,
        total: content.length,
        expires: new Date(),
      })
      if (!done) graphError(res, 409, 'nameAlreadyExists', 'The specified item name already exists.')
      else
        res
          .writeHead(done.status, { 'content-type': 'application/json' })
          .end(JSON.stringify(driveItem(done.item, base())))
    } else if (drive && drive.action === '' && method === 'GET') {
      const item = items.get(drive.key)
      if (!item) graphError(res, 404, 'itemNotFound', 'The resource could not be found.')
      else
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(driveItem(item, base())))
    } else graphError(res, 400, 'BadRequest', `Unsupported request: ${method} ${path}`)
    return route
  }

  const server: Server = createServer({ key: pki.keyPem, cert: pki.certPem }, (req, res) => {
    if (emulator.down) {
      req.socket.destroy()
      return
    }
    const at = Date.now()
    handle(req, res)
      .then((route) => {
        emulator.requests.push({
          route,
          method: req.method ?? '',
          path: req.url ?? '',
          status: res.statusCode,
          authorized: Boolean(req.headers.authorization),
          at,
        })
      })
      .catch(() => {
        if (!res.headersSent) graphError(res, 500, 'generalException', 'emulator fault')
        else res.destroy()
      })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
  emulator.url = `https://localhost:${port}`
  emulator.uploadOrigin = `https://127.0.0.1:${port}`
  return emulator
}
