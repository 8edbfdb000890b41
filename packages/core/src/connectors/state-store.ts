import type { Knex } from 'knex'
import { HubError } from '../errors.ts'

/** The metadata table behind every connector's state (migration 005-connectors). */
export const STATE_TABLE = 'connector_state'
/** The key/value part of the state lives in this pseudo-table. */
const KV = ''
const NAME = /^[a-z][a-z0-9_]{0,62}$/

/** Rows of one small table of one connector for one tenant, keyed by id, stored as JSON. */
export interface StateTable<T> {
  get(id: string): Promise<T | undefined>
  /** Insert a new row; CONFLICT when the id exists. */
  insert(id: string, value: T): Promise<void>
  /** Insert or replace. */
  put(id: string, value: T): Promise<void>
  delete(id: string): Promise<boolean>
  /** Rows in id order, at most `limit` (default 1000), after `after` when given. */
  list(options?: { limit?: number; after?: string }): Promise<{ id: string; value: T }[]>
}

/** A connector's own state for one tenant: watermarks, cursors, delivery receipts, small tables. */
export interface ConnectorState {
  get<T = unknown>(key: string): Promise<T | undefined>
  set(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<boolean>
  table<T = unknown>(name: string): StateTable<T>
  /**
   * Read (never write) a table another connector keeps for the same tenant, if this connector
   * declared it in `reads` (e.g. BOAST reading the Power BI connector's saved questions).
   */
  peer<T = unknown>(connector: string, name: string): Pick<StateTable<T>, 'get' | 'list'>
}

interface Row {
  id: string
  value_json: string
}

function checkId(id: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 191)
    throw new HubError('BAD_REQUEST', 'A state key is 1–191 characters')
  return id
}

/**
 * State namespaced to (connector, tenant): both are fixed here, every query carries them, so a
 * connector holding this object cannot name another tenant's rows.
 */
export function connectorState(
  knex: Knex,
  connector: string,
  tenant: string,
  reads: readonly { connector: string; table: string }[] = [],
): ConnectorState {
  return stateOf(knex, connector, tenant, reads)
}

function stateOf(
  knex: Knex,
  connector: string,
  tenant: string,
  reads: readonly { connector: string; table: string }[],
): ConnectorState {
  const rows = (tbl: string) => knex(STATE_TABLE).where({ connector, tenant, tbl })
  function table<T>(tbl: string): StateTable<T> {
    const put = async (id: string, value: T) => {
      const now = new Date().toISOString()
      await knex(STATE_TABLE)
        .insert({
          connector,
          tenant,
          tbl,
          id: checkId(id),
          value_json: JSON.stringify(value),
          updated_at: now,
        })
        .onConflict(['connector', 'tenant', 'tbl', 'id'])
        .merge(['value_json', 'updated_at'])
    }
    return {
      async get(id) {
        const row = (await rows(tbl)
          .andWhere({ id: checkId(id) })
          .first('value_json')) as Row | undefined
        return row ? (JSON.parse(row.value_json) as T) : undefined
      },
      async insert(id, value) {
        try {
          await knex(STATE_TABLE).insert({
            connector,
            tenant,
            tbl,
            id: checkId(id),
            value_json: JSON.stringify(value),
            updated_at: new Date().toISOString(),
          })
        } catch (cause) {
          if (await rows(tbl).andWhere({ id }).first('id'))
            throw new HubError('CONFLICT', `'${id}' already exists`, { cause })
          throw cause
        }
      },
      put,
      async delete(id) {
        return (
          (await rows(tbl)
            .andWhere({ id: checkId(id) })
            .delete()) > 0
        )
      },
      async list(options = {}) {
        const q = rows(tbl)
          .orderBy('id')
          .limit(Math.min(Math.max(options.limit ?? 1000, 1), 10_000))
          .select('id', 'value_json')
        if (options.after !== undefined) q.andWhere('id', '>', options.after)
        return ((await q) as Row[]).map((r) => ({ id: r.id, value: JSON.parse(r.value_json) as T }))
      },
    }
  }
  const kv = table<unknown>(KV)
  return {
    get: <T>(key: string) => kv.get(key) as Promise<T | undefined>,
    set: (key, value) => kv.put(key, value),
    delete: (key) => kv.delete(key),
    table<T>(name: string) {
      if (!NAME.test(name)) throw new HubError('BAD_REQUEST', `'${name}' is not a state table name`)
      return table<T>(name)
    },
    peer<T>(owner: string, name: string) {
      if (!reads.some((r) => r.connector === owner && r.table === name))
        throw new HubError(
          'FORBIDDEN',
          `The ${connector} connector did not declare reading ${owner}'s '${name}'`,
        )
      if (!NAME.test(name)) throw new HubError('BAD_REQUEST', `'${name}' is not a state table name`)
      const t = stateOf(knex, owner, tenant, []).table<T>(name)
      return { get: (id) => t.get(id), list: (o) => t.list(o) }
    },
  }
}
