import type { DataSource } from '../db/index.ts'

/**
 * A pooled connection of the data source within a caller's deadline (`race` rejects when it passes
 * or the caller aborts). A connection that arrives after that goes straight back to the pool.
 */
export async function acquireWithin<C>(ds: DataSource, race: <T>(p: Promise<T>) => Promise<T>): Promise<C> {
  const acquiring = ds.knex.client.acquireConnection() as Promise<C>
  try {
    return await race(acquiring)
  } catch (err) {
    acquiring.then((c) => ds.knex.client.releaseConnection(c)).catch(() => {})
    throw err
  }
}
