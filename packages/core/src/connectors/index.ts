export {
  type Connector,
  type ConnectorContext,
  defineConnector,
  type HealthCheck,
  type SecurityMiddleware,
} from './contract.ts'
export { DEFAULT_CONNECTORS, loadConnectors } from './loader.ts'
