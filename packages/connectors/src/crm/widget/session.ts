import { createHash, randomBytes } from 'node:crypto'
import type { ConnectorState, Principal } from '@nl2q/core'
import { HubError } from '@nl2q/core'
import type { Context } from 'hono'
import { z } from 'zod'
import type { UserMapping, WidgetConfig } from './config.ts'
import { HcpCardSchema } from './hcp-data.ts'

/** Widget session tokens: `nw1.<tenant>.<32 random bytes>`; only their SHA-256 is stored. */
const TOKEN = /^nw1\.([a-z][a-z0-9-]{1,62})\.([A-Za-z0-9_-]{43})$/
const SESSIONS = 'widget_sessions'
const JTIS = 'widget_jti'
/** Expired rows removed per new session: bounded work, and the tables stay small. */
const PRUNE_BATCH = 50
/** How long a spent embed token's id outlives the token (clock skew between replicas). */
export const JTI_KEEP_MS = 10 * 60_000
/** …when one new session in eight prunes (the tables hold at most ~8 × 50 expired rows per burst). */
const PRUNE_CHANCE = 1 / 8

const SessionSchema = z.object({
  user: z.string(),
  role: z.enum(['viewer', 'analyst']),
  territories: z.array(z.string()),
  hcp: z.string(),
  /** The HCP as the user saw it when the session was opened (name, territory). */
  card: HcpCardSchema.optional(),
  via: z.enum(['canvas', 'embed']),
  expiresAt: z.number(),
})
export type WidgetSession = z.infer<typeof SessionSchema>

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex')

/**
 * A principal that may read nothing, naming the tenant a credential claims before it is verified:
 * the connector's doors (secrets, state, config) are bound per principal, and verifying a Canvas
 * request or a session needs the tenant's own secret or state first. It has no role, so the hub
 * refuses it every read; it is replaced by the verified principal or the request fails.
 */
export function claimTenant(c: Context, tenant: string): void {
  c.set('principal', {
    tenant,
    subject: 'crm-widget:unverified',
    roles: [],
    attributes: {},
    credential: {
      kind: 'jwt',
      id: 'crm-widget:unverified',
      issuer: 'nl2q-widget',
      expiresAt: null,
      scopes: [],
    },
  })
}

/**
 * Withdraw an unverified claim (verification failed): the core's refusal audit then records the
 * refusal in the hub's own chain, as for any credential it cannot verify, rather than in the chain
 * of whatever tenant the request named — which need not exist.
 */
export function dropClaim(c: Context): void {
  if (c.get('principal')?.subject === 'crm-widget:unverified')
    c.set('principal', undefined as unknown as Principal)
}

/** Run `verify` under a claim on `tenant`; on failure the claim is withdrawn. */
export async function asClaimed<T>(c: Context, tenant: string, verify: () => Promise<T>): Promise<T> {
  claimTenant(c, tenant)
  try {
    return await verify()
  } catch (err) {
    dropClaim(c)
    throw err
  }
}

/** The CRM user's mapping, or FORBIDDEN: an unmapped user gets nothing (fail closed). */
export function mappingOf(
  config: WidgetConfig,
  ...names: (string | undefined)[]
): { user: string; mapping: UserMapping } {
  for (const name of names) {
    const mapping = name === undefined ? undefined : config.users[name]
    if (name !== undefined && mapping) return { user: name, mapping }
  }
  throw new HubError(
    'FORBIDDEN',
    'This CRM user is not mapped to the hub: ask an administrator to add them',
    {
      details: { reason: 'crm_user_unmapped' },
    },
  )
}

/** The principal a session reads as: the mapped role and territories, never more. */
export function sessionPrincipal(tenant: string, session: WidgetSession, id: string): Principal {
  return {
    tenant,
    subject: `crm:${session.user}`,
    roles: [session.role],
    attributes: session.territories.length > 0 ? { territories: session.territories } : {},
    credential: {
      kind: 'jwt',
      id: `crm-widget:${id.slice(0, 16)}`,
      issuer: 'nl2q-widget',
      expiresAt: new Date(session.expiresAt).toISOString(),
      scopes: ['crm-widget'],
    },
  }
}

export function sessionStore(state: ConnectorState) {
  const sessions = state.table<WidgetSession>(SESSIONS)
  const jtis = state.table<{ expiresAt: number }>(JTIS)

  async function prune(): Promise<void> {
    const now = Date.now()
    for (const table of [sessions, jtis] as const) {
      for (const row of await table.list({ limit: PRUNE_BATCH }))
        if (row.value.expiresAt < now) await table.delete(row.id)
    }
  }

  return {
    async create(tenant: string, session: WidgetSession): Promise<{ token: string; id: string }> {
      // expired rows go now and then: bounded work, amortised over the sessions opened
      if (Math.random() < PRUNE_CHANCE) await prune()
      const secret = randomBytes(32).toString('base64url')
      const id = hashOf(secret)
      await sessions.insert(id, session)
      return { token: `nw1.${tenant}.${secret}`, id }
    },
    /**
     * Record a one-time token's id; a second use anywhere (any replica) is a replay. The id is kept
     * past the token's expiry by JTI_KEEP_MS: a replica whose clock runs ahead may prune it while a
     * replica whose clock lags still accepts the token.
     */
    async spend(jti: string, expiresAt: number): Promise<void> {
      try {
        await jtis.insert(createHash('sha256').update(jti).digest('hex'), {
          expiresAt: expiresAt + JTI_KEEP_MS,
        })
      } catch (cause) {
        if (cause instanceof HubError && cause.code === 'CONFLICT')
          throw new HubError('INVALID_TOKEN', 'This embed link was already used: open the record again', {
            cause,
          })
        throw cause
      }
    },
    async resolve(secret: string): Promise<{ id: string; session: WidgetSession }> {
      const id = hashOf(secret)
      const found = SessionSchema.safeParse(await sessions.get(id))
      if (!found.success)
        throw new HubError('INVALID_TOKEN', 'The widget session is not valid: reload the widget')
      if (found.data.expiresAt <= Date.now()) {
        await sessions.delete(id)
        throw new HubError('INVALID_TOKEN', 'The widget session has expired: reload the widget')
      }
      return { id, session: found.data }
    },
  }
}

/** `nw1.<tenant>.<secret>` → its parts, or INVALID_TOKEN. */
export function parseSessionToken(token: string | undefined): { tenant: string; secret: string } {
  const m = token === undefined ? null : TOKEN.exec(token)
  if (!m) throw new HubError('INVALID_TOKEN', 'The widget session is missing or malformed: reload the widget')
  return { tenant: m[1]!, secret: m[2]! }
}
