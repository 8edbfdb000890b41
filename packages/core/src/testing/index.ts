// @nl2q/core/testing: the shared connector conformance suite (imports vitest; tests only).
export { type ConnectorTestOptions, type DataCall, testConnector } from './connector-conformance.ts'
