// @nl2q/core/testing: the shared connector conformance suite and throw-away test databases (imports vitest; tests only).
export { type ConnectorTestOptions, type DataCall, testConnector } from './connector-conformance.ts'
export {
  createPgSelectOnlyRole,
  createSelectOnlyUser,
  createTestDatabase,
  createTestPgDatabase,
  TEST_MYSQL_URL,
  TEST_PG_URL,
} from './test-databases.ts'
