import { z } from 'zod'

/** One mapped Entra group: the hub role it grants and the row attributes it adds. */
const GroupGrantSchema = z.strictObject({
  role: z.enum(['admin', 'analyst', 'viewer', 'integration']).optional(),
  attributes: z.record(z.string().min(1), z.union([z.string(), z.array(z.string())])).default({}),
})
export type GroupGrant = z.output<typeof GroupGrantSchema>

/** `groups='{"<group object id>":{"role":"analyst","attributes":{"territories":"ACM-T01"}}}'`. */
const GroupsSchema = z.string().transform((text, ctx) => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object of group id → {role, attributes}' })
    return z.NEVER
  }
  const parsed = z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a group object id'), GroupGrantSchema)
    .safeParse(json)
  if (!parsed.success) {
    const first = parsed.error.issues[0]
    ctx.addIssue({
      code: 'custom',
      message: `${first?.path.join('.') || 'groups'}: ${first?.message ?? 'invalid'}`,
    })
    return z.NEVER
  }
  return parsed.data
})

const httpsUrl = z
  .url({ protocol: /^https$/, error: 'must be an https:// URL' })
  .transform((u) => u.replace(/\/+$/, ''))

/**
 * The m365 section: env `HUB_M365_<KEY>` (upper case), overlaid per tenant with
 * `hub connector config m365 --tenant t <key>=<value>`. Credentials are secrets, not settings:
 * `hub connector secret set m365 --tenant t client_secret=… | client_certificate=@cert.pem`.
 */
export const M365Config = z.object({
  /** The tenant's Entra issuer (`https://login.microsoftonline.com/<directory>/v2.0`): only its tokens are mapped. */
  issuer: z.string().min(1).optional(),
  /** The Entra directory (tenant) id the app credentials belong to. */
  directory: z
    .string()
    .regex(/^[A-Za-z0-9.-]{1,64}$/, 'a directory id or domain')
    .optional(),
  /** The app registration's client id. */
  client_id: z.string().min(1).max(64).optional(),
  groups: GroupsSchema.default({}),
  /** How overage is resolved: every transitive group (paged), or a check of the mapped ids only. */
  group_lookup: z.enum(['transitiveMemberOf', 'checkMemberGroups']).default('transitiveMemberOf'),
  /** How long a user's resolved groups are reused. */
  groups_ttl_sec: z.coerce.number().int().min(0).max(3600).default(300),
  graph_url: httpsUrl.default('https://graph.microsoft.com'),
  login_url: httpsUrl.default('https://login.microsoftonline.com'),
  /** A PEM file of CAs to trust for Graph and login besides the system's (a TLS-inspecting proxy). */
  ca_file: z.string().min(1).optional(),
  /** Upload session chunk size in KiB: a multiple of 320, at most 60 MiB as Graph requires. */
  chunk_kib: z.coerce
    .number()
    .int()
    .positive()
    .max(61_440)
    .refine((n) => n % 320 === 0, 'must be a multiple of 320 (KiB)')
    .default(3_200),
})
export type M365Settings = z.output<typeof M365Config>
