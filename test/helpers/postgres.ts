// The helpers live in the package (it must not import from /test); kept here for the end-to-end tests.
export { createPgSelectOnlyRole, createTestPgDatabase, TEST_PG_URL } from '@nl2q/core/testing'
