import type { Knex } from 'knex'
import type { SecretBox } from './secret-box.ts'

/** Additional data binding a sealed value to its row and column: `tenants.db_url:acme`. */
export const secretContext = (table: string, column: string, id: string): string => `${table}.${column}:${id}`

/** Every secret column of the metadata store (connector credentials join this list). */
const STORED_SECRETS = [{ table: 'tenants', id: 'id', column: 'db_url' }] as const

/**
 * Seal every stored secret that is plaintext (written before encryption) and, unless
 * `plaintextOnly`, re-seal every value sealed with another key than the current one. Row by row,
 * each update conditional on the value read, so a crash or a concurrent writer loses nothing: every
 * row names its own key, and a second run carries on where the first stopped.
 */
export async function resealStoredSecrets(
  knex: Knex,
  box: SecretBox,
  opts: { plaintextOnly?: boolean } = {},
): Promise<{ resealed: number; remaining: number }> {
  let resealed = 0
  let remaining = 0
  const current = box.currentKeyId()
  for (const s of STORED_SECRETS) {
    const rows = (await knex(s.table).select(s.id, s.column).whereNot(s.column, '')) as Record<
      string,
      string
    >[]
    for (const row of rows) {
      const id = String(row[s.id])
      const stored = String(row[s.column])
      const keyId = box.keyIdOf(stored)
      if (keyId === current || (opts.plaintextOnly && keyId !== null)) continue
      const context = secretContext(s.table, s.column, id)
      const sealed = box.seal(box.open(stored, context), context)
      const n = await knex(s.table)
        .where({ [s.id]: id, [s.column]: stored })
        .update({ [s.column]: sealed })
      if (n === 1) resealed += 1
      else remaining += 1
    }
  }
  return { resealed, remaining }
}
