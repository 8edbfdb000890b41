import { z } from 'zod'
import { type AuditAppendInput, createAuditLog } from '../audit/index.ts'
import { HubError } from '../errors.ts'
import type { MetadataStore } from '../metadata/store.ts'
import { type Role, RoleSchema } from '../principal.ts'
import { generateApiKey, hashSecret } from './api-key-format.ts'

const AttributeValues = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]))

/** What creating a key takes; the admin API body and the CLI both go through it. */
export const CreateApiKeyInputSchema = z.object({
  role: RoleSchema,
  attributes: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/), AttributeValues)
    .default({})
    .describe('Row-policy attributes, e.g. {"territories":["ACM-T01"]}'),
  expiresInSec: z
    .number()
    .int()
    .positive()
    .max(5 * 366 * 86_400)
    .optional()
    .describe('Lifetime in seconds; omitted = no expiry'),
  label: z.string().max(200).optional(),
})
/** Who changes a key, for its audit record (the HTTP route passes the principal and request). */
export type KeyActor = Pick<
  AuditAppendInput,
  'subject' | 'credentialId' | 'requestId' | 'clientIp' | 'channel'
>

export type CreateApiKeyInput = z.input<typeof CreateApiKeyInputSchema> & {
  tenant: string
  createdBy?: string
  actor?: KeyActor
}

/** A key as it may be shown: never its hash; the secret only once, at creation. */
export interface ApiKeyInfo {
  id: string
  tenant: string
  role: Role
  attributes: Record<string, string[]>
  label: string | null
  createdBy: string | null
  createdAt: string
  expiresAt: string | null
  revokedAt: string | null
  lastUsedAt: string | null
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** The whole key (`nl2q_<id>_<secret>`): shown once, stored only as a hash. */
  secret: string
}

export interface ApiKeyRow {
  id: string
  tenant: string
  secret_hash: string
  role: string
  attributes: string
  label: string | null
  created_by: string | null
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  last_used_at: string | null
}

export function toInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    tenant: row.tenant,
    role: RoleSchema.parse(row.role),
    attributes: JSON.parse(row.attributes) as Record<string, string[]>,
    label: row.label,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  }
}

export async function createApiKey(
  metadata: MetadataStore,
  input: CreateApiKeyInput,
): Promise<CreatedApiKey> {
  const parsed = CreateApiKeyInputSchema.safeParse(input)
  if (!parsed.success) {
    throw new HubError(
      'VALIDATION_FAILED',
      `Invalid API key: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    )
  }
  const { role, attributes, expiresInSec, label } = parsed.data
  if (!(await metadata.knex('tenants').where({ id: input.tenant }).whereNull('removed_at').first('id'))) {
    throw new HubError('NOT_FOUND', `No tenant '${input.tenant}'`)
  }
  const { id, secret, key } = generateApiKey()
  const now = new Date()
  const row: ApiKeyRow = {
    id,
    tenant: input.tenant,
    secret_hash: hashSecret(secret),
    role,
    attributes: JSON.stringify(attributes),
    label: label ?? null,
    created_by: input.createdBy ?? null,
    created_at: now.toISOString(),
    expires_at: expiresInSec ? new Date(now.getTime() + expiresInSec * 1000).toISOString() : null,
    revoked_at: null,
    last_used_at: null,
  }
  await metadata.knex('api_keys').insert(row)
  try {
    await createAuditLog(metadata).append(input.tenant, {
      subject: input.createdBy ?? null,
      ...input.actor,
      action: 'key.created',
      resource: `api_key:${id}`,
      outcome: 'success',
      detail: { role, label: row.label, expiresAt: row.expires_at },
    })
  } catch (err) {
    // A key without its audit record must not exist: take it back, report AUDIT_UNAVAILABLE.
    await metadata.knex('api_keys').where({ id }).delete()
    throw err
  }
  return { ...toInfo(row), secret: key }
}

export async function listApiKeys(metadata: MetadataStore, tenant: string): Promise<ApiKeyInfo[]> {
  const rows = (await metadata.knex('api_keys').where({ tenant }).orderBy('created_at')) as ApiKeyRow[]
  return rows.map(toInfo)
}

/** Any tenant's key by id: for the operator CLI only (an API must go through its tenant). */
export async function getApiKey(metadata: MetadataStore, id: string): Promise<ApiKeyInfo | null> {
  const row = (await metadata.knex('api_keys').where({ id }).first()) as ApiKeyRow | undefined
  return row ? toInfo(row) : null
}

/**
 * Revoke a key of `tenant`; another tenant's id is NOT_FOUND, as if it did not exist. Idempotent.
 * Both outcomes are audited in `tenant`'s chain. The revocation stands even if its audit record
 * cannot be written (the caller then gets AUDIT_UNAVAILABLE).
 */
export async function revokeApiKey(
  metadata: MetadataStore,
  tenant: string,
  id: string,
  actor: KeyActor = {},
): Promise<ApiKeyInfo> {
  const now = new Date().toISOString()
  await metadata.knex('api_keys').where({ id, tenant }).whereNull('revoked_at').update({ revoked_at: now })
  const row = (await metadata.knex('api_keys').where({ id, tenant }).first()) as ApiKeyRow | undefined
  const event = { ...actor, action: 'key.revoked', resource: `api_key:${id.slice(0, 64)}` }
  const audit = createAuditLog(metadata)
  if (!row) {
    await audit.append(tenant, { ...event, outcome: 'failure', detail: { reason: 'not_found' } })
    throw new HubError('NOT_FOUND', 'No such API key in this tenant')
  }
  await audit.append(tenant, { ...event, outcome: 'success' })
  return toInfo(row)
}
