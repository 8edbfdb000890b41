/**
 * Identifier formats of the demo. Every identifier carries the tenant's prefix (or, in the
 * fixed-width CRM ids, its first three characters) so a row that leaks across tenants shows.
 */

import { HubError } from '../errors.ts'

/** `ACM`, `GLX`, …: 2–6 upper-case letters or digits, starting with a letter. */
export const PREFIX_PATTERN = /^[A-Z][A-Z0-9]{1,5}$/

export function assertPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix))
    throw new HubError('VALIDATION_FAILED', 'A demo prefix is 2–6 upper-case letters or digits, e.g. ACM')
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0')

export const territoryId = (prefix: string, n: number): string => `${prefix}-T${pad(n, 2)}`
export const repId = (prefix: string, n: number): string => `${prefix}-R${pad(n, 3)}`
export const hcpId = (prefix: string, n: number): string => `${prefix}-H${pad(n, 5)}`
export const productId = (prefix: string, n: number): string => `${prefix}-P${n}`

/** The Luhn check digit of an NPI, computed over the card-issuer prefix 80840 as CMS specifies. */
export function npiCheckDigit(base9: string): number {
  const digits = `80840${base9}`
  let sum = 0
  // Walking right to left, double every other digit starting with the rightmost (the check digit is appended after).
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return (10 - (sum % 10)) % 10
}

/**
 * A unique, random-looking sequence of ids from a counter: n ↦ (n·mult + add) mod size is a bijection
 * on [0, size) when mult is coprime with size, so distinct counters never collide.
 */
export interface Scramble {
  mult: number
  add: number
}

/** 10-digit NPI: `1` + 8 scrambled digits + Luhn check digit; unique for n < 10^8. */
export function npi(n: number, s: Scramble): string {
  const base9 = String(100_000_000 + ((n * s.mult + s.add) % 100_000_000))
  return `${base9}${npiCheckDigit(base9)}`
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'
const SF_BODY_SIZE = 62 ** 8

/** Salesforce's 3-character case-safe suffix: which of each 5 characters are upper-case. */
export function salesforceSuffix(id15: string): string {
  let out = ''
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0
    for (let j = 0; j < 5; j++) {
      const ch = id15.charCodeAt(chunk * 5 + j)
      if (ch >= 65 && ch <= 90) flags |= 1 << j
    }
    out += SUFFIX_ALPHABET[flags]
  }
  return out
}

/** The first three characters of the prefix, padded with `0`: the tenant tag inside CRM ids. */
export const crmTag = (prefix: string): string => prefix.slice(0, 3).padEnd(3, '0')

/**
 * An 18-character Salesforce-style id: key prefix (e.g. `001` Account) + tenant tag + `0` + 8 base62
 * characters from the scrambled counter + case-safe suffix. Case-insensitively unique, so it is safe
 * under MySQL's `_ci` collations.
 */
export function salesforceId(keyPrefix: string, tag: string, n: number, s: Scramble): string {
  let v = (n * s.mult + s.add) % SF_BODY_SIZE
  let body = ''
  for (let i = 0; i < 8; i++) {
    body = BASE62[v % 62] + body
    v = Math.floor(v / 62)
  }
  const id15 = `${keyPrefix}${tag}0${body}`
  return id15 + salesforceSuffix(id15)
}

/**
 * A scramble valid for both NPIs (size 10^8) and Salesforce bodies (size 62^8): mult is coprime with 2, 5
 * and 31, and below 2^31 so that n·mult stays an exact double for n up to 4 million.
 */
export function scrambleFrom(u32a: number, u32b: number): Scramble {
  let mult = (u32a & 0x7fffffff) | 1
  while (mult % 5 === 0 || mult % 31 === 0) mult += 2
  return { mult, add: u32b % 100_000_000 }
}
