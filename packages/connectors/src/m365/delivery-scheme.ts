import { HubError } from '@nl2q/core'
import { registerDelivery } from '../delivery/index.ts'
import { appGraphClient } from './app-graph.ts'
import { M365Config } from './config.ts'
import { openM365Delivery } from './delivery.ts'

/** The settings an `m365:` destination reads from the exporting connector's config. */
export const M365DeliverySettings = M365Config.pick({
  directory: true,
  client_id: true,
  graph_url: true,
  login_url: true,
  ca_file: true,
  chunk_kib: true,
})

/**
 * `m365:` destinations. The exporting connector's tenant scope supplies the app settings (`directory`,
 * `client_id`, optional `graph_url`, `login_url`, `ca_file`, `chunk_kib`) and its secrets
 * `client_secret` or `client_certificate`.
 */
registerDelivery('m365:', async (url, scope) => {
  const parsed = M365DeliverySettings.safeParse(
    Object.fromEntries(Object.entries(scope.config).filter(([, v]) => v !== undefined && v !== null)),
  )
  if (!parsed.success)
    throw new HubError(
      'CONFIG_INVALID',
      `Invalid m365 delivery settings — ${parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`,
    )
  const settings = parsed.data
  const client = await appGraphClient({ ...M365Config.parse({}), ...settings }, scope.secrets)
  return openM365Delivery(url.href, client, { chunkBytes: settings.chunk_kib * 1024 })
})
