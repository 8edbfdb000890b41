import type { Logger } from 'pino'
import type { HubConfig } from '../config/index.ts'
import type { HubWithControls } from '../hub/hub.ts'
import type { MetadataStore } from '../metadata/store.ts'
import type { Metrics } from '../metrics/registry.ts'
import type { TenantRegistry } from '../tenants/registry.ts'

/**
 * Everything a route may use, built once at start-up (`createServices`) and passed to route
 * factories. Routes reach tenant data only through `hub`.
 */
export interface Services {
  config: HubConfig
  logger: Logger
  metrics: Metrics
  metadata: MetadataStore
  tenants: TenantRegistry
  hub: HubWithControls
}
