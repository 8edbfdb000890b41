import { createHash } from 'node:crypto'
import { Transform } from 'node:stream'

/** A pass-through that counts the bytes and hashes them (SHA-256) on their way to a destination. */
export function meter(): Transform & { readonly bytes: number; digest(): string } {
  const hash = createHash('sha256')
  let bytes = 0
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length
      hash.update(chunk)
      done(null, chunk)
    },
  })
  // defineProperty, not Object.assign: assign would copy the getter's value (0) once.
  Object.defineProperty(t, 'bytes', { get: () => bytes })
  return Object.assign(t, { digest: () => hash.digest('hex') }) as Transform & {
    readonly bytes: number
    digest(): string
  }
}
