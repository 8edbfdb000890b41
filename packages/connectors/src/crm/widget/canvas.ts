import { createHmac, timingSafeEqual } from 'node:crypto'
import { HubError } from '@nl2q/core'
import { z } from 'zod'

/**
 * The parts of a Salesforce Canvas signed request the widget reads. Salesforce sends more (the OAuth
 * token, links, dimensions); unknown members are ignored, and the OAuth token is never kept.
 */
const EnvelopeSchema = z.object({
  algorithm: z.string(),
  issuedAt: z.number().int(),
  userId: z.string().min(1).max(64),
  context: z.object({
    user: z.object({ userId: z.string().min(1).max(64), userName: z.string().max(128).optional() }),
    organization: z.object({ organizationId: z.string().min(15).max(18) }),
    environment: z
      .object({
        parameters: z.record(z.string(), z.unknown()).optional(),
        record: z.object({ Id: z.string().max(18).optional() }).optional(),
      })
      .optional(),
  }),
})
export type CanvasEnvelope = z.infer<typeof EnvelopeSchema>

const B64 = /^[A-Za-z0-9+/_-]+={0,2}$/

/** Salesforce sends standard base64; the examples use base64url: both decode the same. */
function decode(part: string): Buffer {
  if (!B64.test(part)) throw bad('is not base64')
  return Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
}

const bad = (why: string, cause?: unknown) =>
  new HubError('INVALID_TOKEN', `The Canvas signed request ${why}`, cause === undefined ? {} : { cause })

/** Split and decode without trusting anything: which org is it from (to pick the tenant's secret). */
export function canvasOrgOf(signedRequest: string): CanvasEnvelope {
  const [sig, payload, extra] = signedRequest.split('.')
  if (!sig || !payload || extra !== undefined) throw bad('is not <signature>.<envelope>')
  let json: unknown
  try {
    json = JSON.parse(decode(payload).toString('utf8'))
  } catch (cause) {
    if (cause instanceof HubError) throw cause
    throw bad('envelope is not JSON', cause)
  }
  const parsed = EnvelopeSchema.safeParse(json)
  if (!parsed.success) throw bad('envelope lacks the user, organization or issuedAt', parsed.error)
  return parsed.data
}

/**
 * Verify `signed_request` with the connected app's consumer secret: HMAC-SHA256 over the encoded
 * envelope, compared in constant time, algorithm HMACSHA256, `issuedAt` (seconds) within `maxAgeSeconds`
 * of now (and not in the future beyond a minute of clock skew).
 */
export function verifyCanvasRequest(
  signedRequest: string,
  consumerSecret: string,
  options: { maxAgeSeconds: number; now?: number },
): CanvasEnvelope {
  const envelope = canvasOrgOf(signedRequest)
  const [sig, payload] = signedRequest.split('.') as [string, string]
  const expected = createHmac('sha256', consumerSecret).update(payload).digest()
  const given = decode(sig)
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw bad('signature does not match')
  if (envelope.algorithm.toUpperCase() !== 'HMACSHA256')
    throw bad(`algorithm '${envelope.algorithm.slice(0, 20)}' is not HMACSHA256`)
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  // Salesforce has sent issuedAt in seconds; a value in milliseconds is read as such.
  const issued = envelope.issuedAt > 1e11 ? Math.floor(envelope.issuedAt / 1000) : envelope.issuedAt
  if (now - issued > options.maxAgeSeconds) throw bad('has expired: open the record again')
  if (issued - now > 60) throw bad('is dated in the future')
  return envelope
}

/** Sign an envelope as Salesforce does (tests, the emulator and the bench use it). */
export function signCanvasRequest(envelope: unknown, consumerSecret: string): string {
  const payload = Buffer.from(JSON.stringify(envelope)).toString('base64')
  const sig = createHmac('sha256', consumerSecret).update(payload).digest('base64')
  return `${sig}.${payload}`
}
