import { createHash } from 'node:crypto'
import { z } from 'zod'

/** An AES-256 key and its id: the first 16 hex of SHA-256(key), which names it without revealing it. */
export interface SecretKey {
  id: string
  key: Buffer
}

/** 32 bytes, written as 64 hex characters or as base64 / base64url. */
export const SecretKeySchema = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const bytes = /^[0-9a-fA-F]{64}$/.test(s)
      ? Buffer.from(s, 'hex')
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(s)
        ? Buffer.from(s, 'base64')
        : null
    if (bytes?.length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'must be 32 bytes written as 64 hex or 44 base64 characters' })
      return z.NEVER
    }
    return bytes
  })

export function secretKeyOf(key: Buffer): SecretKey {
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key }
}
