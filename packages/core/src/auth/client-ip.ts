import { BlockList, isIP } from 'node:net'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import { HubError } from '../errors.ts'

const unmap = (ip: string): string => (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip)

/** A matcher for `HUB_TRUSTED_PROXIES`: addresses and CIDR ranges, IPv4 and IPv6. */
export function trustedProxyMatcher(entries: string[]): (ip: string) => boolean {
  // Nothing trusted (the default): BlockList.check would build a SocketAddress per request to say no.
  if (entries.length === 0) return () => false
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/')
    const family = isIP(address)
    if (!family) throw new HubError('CONFIG_INVALID', `HUB_TRUSTED_PROXIES: '${entry}' is not an IP or CIDR`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return (ip) => {
    const family = isIP(ip)
    return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6')
  }
}

/**
 * The client address: the socket peer, unless the peer is a trusted proxy — then X-Forwarded-For
 * is walked from the right, skipping trusted hops, and the first untrusted address is the client.
 * A header from an untrusted peer is ignored entirely, so it cannot be used to pick a new IP budget.
 */
export function resolveClientIp(
  peer: string | undefined,
  forwardedFor: string | undefined,
  isTrusted: (ip: string) => boolean,
): string {
  if (!peer) return 'unknown'
  let client = unmap(peer)
  if (!isTrusted(client) || !forwardedFor) return client
  const hops = forwardedFor.split(',').map((h) => unmap(h.trim()))
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!
    if (!isIP(hop)) break
    client = hop
    if (!isTrusted(hop)) break
  }
  return client
}

export interface ClientIpOptions {
  trustedProxies: string[]
  /** The socket peer; defaults to @hono/node-server's getConnInfo. */
  peer?: (c: Context) => string | undefined
}

function socketPeer(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address
  } catch {
    return undefined
  }
}

/** Set `c.var.clientIp` under the trusted-proxy rule. */
export function clientIpMiddleware(options: ClientIpOptions): MiddlewareHandler {
  const isTrusted = trustedProxyMatcher(options.trustedProxies)
  const peer = options.peer ?? socketPeer
  return async function clientIp(c, next) {
    c.set('clientIp', resolveClientIp(peer(c), c.req.header('x-forwarded-for'), isTrusted))
    await next()
  }
}
