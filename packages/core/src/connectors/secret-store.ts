import type { Knex } from 'knex'
import { HubError } from '../errors.ts'
import type { SecretBox } from '../secrets/index.ts'
import { secretContext } from '../secrets/index.ts'

/** Sealed connector credentials (migration 005-connectors); the value column is never plaintext. */
export const SECRETS_TABLE = 'connector_secrets'
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/

/** What a connector sees of its credentials for one tenant: read by name, never listed or written. */
export interface ConnectorSecrets {
  get(name: string): Promise<string | undefined>
  /** The value, or CONFIG_INVALID naming the missing secret and the command that sets it. */
  require(name: string): Promise<string>
}

const rowId = (connector: string, tenant: string, name: string) => `${connector}:${tenant}:${name}`
const contextOf = (id: string) => secretContext(SECRETS_TABLE, 'value', id)

/** Read side, bound to (connector, tenant): the only way a connector reaches a secret. */
export function connectorSecrets(
  knex: Knex,
  box: SecretBox,
  connector: string,
  tenant: string,
): ConnectorSecrets {
  const get = async (name: string) => {
    const id = rowId(connector, tenant, name)
    const row = (await knex(SECRETS_TABLE).where({ id, connector, tenant }).first('value')) as
      | { value: string }
      | undefined
    return row ? box.open(row.value, contextOf(id)) : undefined
  }
  return {
    get,
    async require(name) {
      const value = await get(name)
      if (value === undefined)
        throw new HubError(
          'CONFIG_INVALID',
          `The ${connector} connector has no secret '${name}' for this tenant ` +
            `(hub connector secret set ${connector} --tenant <id> ${name}=@file)`,
        )
      return value
    },
  }
}

/** Operator side (admin CLI): write or delete; the names are listable, the values never. */
export function secretAdmin(knex: Knex, box: SecretBox) {
  return {
    async set(connector: string, tenant: string, name: string, value: string): Promise<void> {
      if (!SECRET_NAME.test(name)) throw new HubError('BAD_REQUEST', `'${name}' is not a secret name`)
      const id = rowId(connector, tenant, name)
      await knex(SECRETS_TABLE)
        .insert({
          id,
          connector,
          tenant,
          name,
          value: box.seal(value, contextOf(id)),
          updated_at: new Date().toISOString(),
        })
        .onConflict('id')
        .merge(['value', 'updated_at'])
    },
    async remove(connector: string, tenant: string, name: string): Promise<boolean> {
      return (
        (await knex(SECRETS_TABLE)
          .where({ id: rowId(connector, tenant, name) })
          .delete()) > 0
      )
    },
    async names(connector: string, tenant: string): Promise<{ name: string; updatedAt: string }[]> {
      const rows = (await knex(SECRETS_TABLE)
        .where({ connector, tenant })
        .orderBy('name')
        .select('name', 'updated_at')) as { name: string; updated_at: string }[]
      return rows.map((r) => ({ name: r.name, updatedAt: r.updated_at }))
    },
  }
}
