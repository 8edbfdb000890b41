import type { OpenAPIHono } from '@hono/zod-openapi'
import type { RouteContext } from '@nl2q/core'
import { HubError, toHubError } from '@nl2q/core'
import type { Context, MiddlewareHandler } from 'hono'
import { z } from 'zod'
import { AskBodySchema, askAboutHcp } from './ask.ts'
import { ASSET_PREFIX, widgetAssets } from './assets.ts'
import { canvasOrgOf, verifyCanvasRequest } from './canvas.ts'
import { TenantSchema, type WidgetConfig } from './config.ts'
import { EMBED_KEY_SECRET, EMBED_MAX_TTL_SECONDS, mintEmbedToken, verifyEmbedToken } from './embed-token.ts'
import { findHcp, hcpOverview } from './hcp-data.ts'
import { newNonce, setWidgetHeaders, widgetPolicy } from './headers.ts'
import { type Boot, errorPage, widgetPage } from './page.ts'
import {
  asClaimed,
  claimTenant,
  dropClaim,
  mappingOf,
  parseSessionToken,
  sessionPrincipal,
  sessionStore,
  type WidgetSession,
} from './session.ts'

/** Every widget read and event is audited on this channel. */
export const WIDGET_CHANNEL = 'crm-widget'
/** The connector secret holding the Canvas connected app's consumer secret. */
export const CANVAS_SECRET = 'canvas_consumer_secret'

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by the widget session middleware on /crm/widget/hcp and /crm/widget/ask. */
    widgetSession: WidgetSession
  }
}

const EmbedBodySchema = z
  .object({
    hcp: z.string().trim().min(1).max(32),
    user: z.string().trim().min(1).max(128),
    ttl: z.coerce.number().int().min(10).max(EMBED_MAX_TTL_SECONDS).default(120),
  })
  .strict()
const ExchangeBodySchema = z.object({ tenant: TenantSchema, token: z.string().min(20).max(4096) }).strict()

async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json'))
    throw new HubError('UNSUPPORTED_MEDIA_TYPE', 'Send Content-Type: application/json')
  let raw: unknown
  try {
    raw = await c.req.json()
  } catch (cause) {
    throw new HubError('BAD_REQUEST', 'The body is not JSON', { cause })
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success)
    throw new HubError('VALIDATION_FAILED', 'The request body is not valid', {
      details: { errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    })
  return parsed.data
}

/** Title of the error page, by code: what the rep can do about it. */
const TITLES: Record<string, string> = {
  INVALID_TOKEN: 'This link or session is not valid',
  FORBIDDEN: 'Not available to you',
  CONFIG_INVALID: 'The widget is not set up for this organisation',
}

export function widgetRoutes<C extends WidgetConfig>(app: OpenAPIHono, ctx: RouteContext<C>): void {
  const hubOf = (c: Context) => ctx.hub.for(c, { channel: WIDGET_CHANNEL })

  /** Bind a new session to the verified user and HCP; reads as that user, audited. */
  async function openSession(
    c: Context,
    tenant: string,
    config: C,
    claim: { user: string; mapping: { role: 'viewer' | 'analyst'; territories: string[] }; hcp: string },
    via: 'canvas' | 'embed',
  ) {
    const expiresAt = Date.now() + config.session_ttl_seconds * 1000
    const draft: WidgetSession = {
      user: claim.user,
      role: claim.mapping.role,
      territories: claim.mapping.territories,
      hcp: claim.hcp,
      via,
      expiresAt,
    }
    c.set('principal', sessionPrincipal(tenant, draft, 'pending'))
    const card = await findHcp(hubOf(c), claim.hcp)
    const session = { ...draft, hcp: card.hcpId, card }
    const { token, id } = await sessionStore(ctx.state.for(c)).create(tenant, session)
    c.set('principal', sessionPrincipal(tenant, session, id))
    await ctx.audit.for(c, { channel: WIDGET_CHANNEL }).append({
      action: 'crm.widget.session',
      resource: `hcp:${card.hcpId}`,
      outcome: 'success',
      detail: { via, user: claim.user, expiresAt: new Date(expiresAt).toISOString() },
    })
    // The first screen comes with the session: one round trip less before the chart.
    const overview = await hcpOverview(hubOf(c), ctx.state.for(c), card, config.as_of)
    return { token, expiresAt: new Date(expiresAt).toISOString(), hcp: card.hcpId, overview }
  }

  /** The frame policy of a tenant (the hub default for a tenant the request could not name). */
  async function framePolicy(c: Context, nonce: string | null): Promise<string> {
    const ancestors = c.get('principal')
      ? (await ctx.config.for(c)).frame_ancestors
      : ctx.config.defaults.frame_ancestors
    return widgetPolicy(nonce, ancestors)
  }

  async function renderError(c: Context, err: unknown): Promise<Response> {
    const e = toHubError(err)
    if (e.status >= 500) ctx.logger.error({ err: e.cause ?? err, code: e.code }, 'crm widget failed')
    c.set('problem', e)
    const csp = await framePolicy(c, null).catch(() => widgetPolicy(null, []))
    setWidgetHeaders(c, csp)
    const detail =
      e.status >= 500 && e.code !== 'CONFIG_INVALID'
        ? 'The hub could not answer: try again shortly.'
        : e.message
    return c.html(
      errorPage(TITLES[e.code] ?? 'The widget cannot open', detail, e.code, c.get('requestId')),
      e.status as 400,
    )
  }

  app.get(`${ASSET_PREFIX}:file`, (c) => {
    const file = widgetAssets().files.get(c.req.param('file'))
    if (!file) throw new HubError('NOT_FOUND', 'No such widget asset')
    setWidgetHeaders(c, null, 'public, max-age=31536000, immutable')
    return c.body(new Uint8Array(file.body), 200, { 'content-type': file.type })
  })

  // The page of an embed link: `?tenant=` picks only the framing policy; the token in the fragment
  // (never sent to the server) names the tenant again and must agree when it is exchanged.
  app.get('/crm/widget', async (c) => {
    try {
      const tenant = TenantSchema.safeParse(c.req.query('tenant'))
      if (!tenant.success) throw new HubError('BAD_REQUEST', 'The widget link lacks its tenant')
      const config = await asClaimed(c, tenant.data, () => ctx.config.for(c))
      dropClaim(c) // the page reads nothing of the tenant's but its framing policy
      const nonce = newNonce()
      setWidgetHeaders(c, widgetPolicy(nonce, config.frame_ancestors))
      const boot: Boot = { tenant: tenant.data, origins: config.message_origins ?? config.frame_ancestors }
      return c.html(widgetPage(boot, nonce))
    } catch (err) {
      return renderError(c, err)
    }
  })

  // Salesforce Canvas: POSTs signed_request to the canvas app URL.
  app.post('/crm/canvas', async (c) => {
    try {
      const form = await c.req.parseBody().catch((cause) => {
        throw new HubError('BAD_REQUEST', 'Send the Canvas form (signed_request)', { cause })
      })
      const signed = form.signed_request
      if (typeof signed !== 'string' || signed.length > 64_000)
        throw new HubError('BAD_REQUEST', 'The Canvas request lacks signed_request')
      const claimed = canvasOrgOf(signed)
      const org = claimed.context.organization.organizationId
      const tenant = [...ctx.config.defaults.canvas_orgs].find(
        ([id]) => id.slice(0, 15) === org.slice(0, 15),
      )?.[1]
      if (!tenant) throw new HubError('FORBIDDEN', 'This Salesforce organisation is not connected to the hub')
      claimTenant(c, tenant)
      const secret = await ctx.secrets.for(c).require(CANVAS_SECRET)
      const config = await ctx.config.for(c)
      const envelope = verifyCanvasRequest(signed, secret, { maxAgeSeconds: config.canvas_max_age_seconds })
      const { user: userFacts, organization: _o, environment } = envelope.context
      const mapped = mappingOf(config, userFacts.userId, userFacts.userName)
      const param = environment?.parameters?.hcp
      const hcp = typeof param === 'string' ? param : environment?.record?.Id
      if (!hcp)
        throw new HubError(
          'BAD_REQUEST',
          'The Canvas app was opened without an HCP (parameter hcp or a record)',
        )
      const session = await openSession(c, tenant, config, { ...mapped, hcp }, 'canvas')
      const nonce = newNonce()
      setWidgetHeaders(c, widgetPolicy(nonce, config.frame_ancestors))
      const boot: Boot = {
        tenant,
        origins: config.message_origins ?? config.frame_ancestors,
        session: { token: session.token, expiresAt: session.expiresAt },
        overview: session.overview,
      }
      return c.html(widgetPage(boot, nonce))
    } catch (err) {
      return renderError(c, err)
    }
  })

  // The page's exchange of a one-time embed token for a session.
  app.post('/crm/widget/session', async (c) => {
    setWidgetHeaders(c, null)
    const body = await jsonBody(c, ExchangeBodySchema)
    // The tenant is proven by its key's signature; until then a refusal is the hub's, not the tenant's.
    const claims = await asClaimed(c, body.tenant, async () => {
      const secret = await ctx.secrets.for(c).get(EMBED_KEY_SECRET)
      if (!secret) throw new HubError('INVALID_TOKEN', 'Embed links are not set up for this organisation')
      return verifyEmbedToken(body.tenant, secret, body.token)
    })
    const config = await ctx.config.for(c)
    await sessionStore(ctx.state.for(c)).spend(claims.jti, claims.exp * 1000)
    const mapped = mappingOf(config, claims.sub)
    const session = await openSession(c, body.tenant, config, { ...mapped, hcp: claims.hcp }, 'embed')
    return c.json({
      session: session.token,
      expiresAt: session.expiresAt,
      hcp: session.hcp,
      overview: session.overview,
    })
  })

  /** Widget API calls carry the session: verified here, then the shared per-credential rate limit. */
  const session: MiddlewareHandler = async function widgetSession(c, next) {
    setWidgetHeaders(c, null)
    const header = c.req.header('authorization') ?? ''
    const { tenant, secret } = parseSessionToken(header.startsWith('Bearer ') ? header.slice(7) : undefined)
    const { id, session } = await asClaimed(c, tenant, () => sessionStore(ctx.state.for(c)).resolve(secret))
    c.set('principal', sessionPrincipal(tenant, session, id))
    c.set('widgetSession', session)
    await next()
  }

  app.get('/crm/widget/hcp', session, ctx.security.rateLimit, async (c) => {
    const s = c.get('widgetSession')
    const config = await ctx.config.for(c)
    const hub = hubOf(c)
    const card = s.card ?? (await findHcp(hub, s.hcp))
    return c.json(await hcpOverview(hub, ctx.state.for(c), card, config.as_of))
  })

  app.post('/crm/widget/ask', session, ctx.security.rateLimit, async (c) => {
    const { question } = await jsonBody(c, AskBodySchema)
    const config = await ctx.config.for(c)
    return c.json(await askAboutHcp(hubOf(c), c.get('widgetSession').hcp, question, config.as_of))
  })

  // An integration (Veeva, a Lightning component's server side) asks for a signed embed link.
  // /v1/* is behind the shared authenticate + rate limit already.
  app.post('/v1/embed', ctx.security.requireRole('integration', 'admin'), async (c) => {
    const body = await jsonBody(c, EmbedBodySchema)
    const tenant = c.get('principal').tenant
    const config = await ctx.config.for(c)
    mappingOf(config, body.user) // refuse now rather than hand out a link that cannot open
    const secret = await ctx.secrets.for(c).require(EMBED_KEY_SECRET)
    const minted = await mintEmbedToken(tenant, secret, {
      user: body.user,
      hcp: body.hcp,
      ttlSeconds: body.ttl,
    })
    const base = ctx.hub.info.publicUrl ?? new URL(c.req.url).origin
    await ctx.audit.for(c, { channel: WIDGET_CHANNEL }).append({
      action: 'crm.widget.embed',
      resource: `hcp:${body.hcp}`,
      outcome: 'success',
      detail: { user: body.user, expiresAt: minted.expiresAt.toISOString() },
    })
    c.header('Cache-Control', 'no-store')
    return c.json({
      url: `${base.replace(/\/$/, '')}/crm/widget?tenant=${encodeURIComponent(tenant)}#token=${minted.token}`,
      expiresAt: minted.expiresAt.toISOString(),
    })
  })
}
