// The helper lives in the package (it must not import from /test); kept here for the end-to-end tests.
export { createSelectOnlyUser } from '@nl2q/core/testing'
