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
  return Object.assign(t, {
    get bytes() {
      return bytes
    },
    digest: () => hash.digest('hex'),
  })
}
