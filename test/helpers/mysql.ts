// The helpers live in the package (it must not import from /test); kept here for the end-to-end tests.
export { createTestDatabase, TEST_MYSQL_URL } from '@nl2q/core/testing'
