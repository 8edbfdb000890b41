/** Re-exported because service/server.ts imports it from here; new code should import from audit/. */
export { createAuditLog } from '../audit/index.ts'
export { API_KEY_PREFIX, parseApiKey } from './api-key-format.ts'
export {
  type ApiKeyInfo,
  type CreateApiKeyInput,
  CreateApiKeyInputSchema,
  type CreatedApiKey,
  createApiKey,
  getApiKey,
  type KeyActor,
  listApiKeys,
  revokeApiKey,
} from './api-keys.ts'
export {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthFailure,
  type AuthOutcome,
  createAuthenticator,
  type TenantLookup,
} from './authenticator.ts'
export {
  type ClientIpOptions,
  clientIpMiddleware,
  resolveClientIp,
  trustedProxyMatcher,
} from './client-ip.ts'
export { parseAuthorization, QUERY_CREDENTIAL_PARAMS } from './credentials.ts'
export { type AnonymousLimiter, type AuthenticateOptions, authenticate, requireRole } from './middleware.ts'
