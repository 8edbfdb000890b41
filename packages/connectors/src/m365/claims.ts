import type { ClaimsContext, GrantedClaims, Role, VerifiedToken } from '@nl2q/core'
import { HubError, isHubError } from '@nl2q/core'
import { appGraphClient } from './app-graph.ts'
import type { M365Settings } from './config.ts'
import {
  checkMemberGroups,
  graphCause,
  groupsClaim,
  hasGroupOverage,
  MembershipCache,
  transitiveGroups,
} from './groups.ts'
import { GraphCallError } from './token.ts'

/** Roles and attributes of the mapped groups the user is in. */
export function grantFor(settings: M365Settings, member: Set<string>): GrantedClaims {
  const roles = new Set<Role>()
  const attributes: Record<string, string[]> = {}
  for (const [id, grant] of Object.entries(settings.groups)) {
    if (!member.has(id)) continue
    if (grant.role) roles.add(grant.role)
    for (const [k, v] of Object.entries(grant.attributes))
      attributes[k] = [...new Set([...(attributes[k] ?? []), ...(Array.isArray(v) ? v : [v])])]
  }
  return { roles: [...roles], attributes }
}

/** A sign-in waits at most this long for Graph, and retries only when told to wait ≤ 10 s. */
const LOOKUP_DEADLINE_MS = 20_000
const SIGN_IN_RETRY_AFTER_SEC = 10

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GraphCallError(`Microsoft Graph did not answer within ${ms / 1000} s`, undefined)),
      ms,
    )
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

const refuse = (message: string, cause: unknown) =>
  new HubError('FORBIDDEN', `${message}; no role was granted from Entra groups`, {
    cause,
    details: { reason: 'groups_unavailable' },
  })

/**
 * `mapClaims` of the m365 connector: for tokens of the tenant's Entra issuer, the `groups` claim
 * when it is complete, else the user's groups from Microsoft Graph (overage), cached per user for
 * `groups_ttl_sec`. Any Graph failure refuses the token (fail closed).
 */
export function createGroupsMapper(cache = new MembershipCache()) {
  return async function mapClaims(
    token: VerifiedToken,
    ctx: ClaimsContext<M365Settings>,
  ): Promise<GrantedClaims | undefined> {
    const settings = ctx.config
    if (!settings.issuer || token.issuer !== settings.issuer) return undefined
    if (Object.keys(settings.groups).length === 0) return undefined
    const claimed = groupsClaim(token.claims)
    if (claimed && !hasGroupOverage(token.claims)) return grantFor(settings, new Set(claimed))
    const oid = typeof token.claims.oid === 'string' ? token.claims.oid : token.subject
    // checkMemberGroups answers only for the ids asked: the key names them, so a new mapping asks again
    const asked =
      settings.group_lookup === 'checkMemberGroups' ? Object.keys(settings.groups).sort().join(',') : '*'
    const key = `${token.tenant}\u0000${settings.issuer}\u0000${oid}\u0000${asked}`
    const cached = cache.get(key)
    if (cached) return grantFor(settings, cached)
    const lookups = ctx.metrics.counter('group_lookups_total', 'Entra group look-ups through Graph', [
      'outcome',
    ])
    let member: Set<string>
    try {
      const client = await appGraphClient(settings, ctx.secrets, {
        maxRetryAfterSec: SIGN_IN_RETRY_AFTER_SEC,
      })
      member = await within(
        settings.group_lookup === 'checkMemberGroups'
          ? checkMemberGroups(client, oid, Object.keys(settings.groups))
          : transitiveGroups(client, oid),
        LOOKUP_DEADLINE_MS,
      )
    } catch (err) {
      lookups.inc({ outcome: 'failure' })
      ctx.logger.warn({ err, tenant: token.tenant }, 'Entra group look-up failed: token refused')
      if (isHubError(err) && err.code === 'FORBIDDEN') throw err
      if (isHubError(err)) throw refuse(`The hub cannot read Entra groups: ${err.message}`, err)
      throw refuse(`Your Entra groups could not be read from Microsoft Graph (${graphCause(err).text})`, err)
    }
    lookups.inc({ outcome: 'success' })
    cache.set(key, member, settings.groups_ttl_sec * 1000)
    return grantFor(settings, member)
  }
}
