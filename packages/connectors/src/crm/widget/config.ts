import { z } from 'zod'

export { originAllowed } from './origins.ts'

/**
 * An origin a host page may frame the widget from and exchange messages with: `https://host`,
 * `https://*.host` (one label or more) or `http://127.0.0.1:port` / `http://localhost:port` (loopback
 * only; anything else must be https).
 */
const ORIGIN_PATTERN =
  /^(https:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+(:\d{1,5})?|http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?)$/

const csv = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

const OriginListSchema = z
  .string()
  .default('')
  .transform(csv)
  .pipe(
    z.array(
      z
        .string()
        .regex(ORIGIN_PATTERN, 'each origin is https://host, https://*.host or a loopback http origin'),
    ),
  )

/** What a CRM user maps to: a hub role and the territories a row policy scopes them to. */
const UserMappingSchema = z
  .object({
    role: z.enum(['viewer', 'analyst']).default('viewer'),
    territories: z.array(z.string().min(1).max(64)).max(200).default([]),
  })
  .strict()
export type UserMapping = z.infer<typeof UserMappingSchema>

const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' })
        return z.NEVER
      }
    })
    .pipe(schema)

/** `00D…=acme,00D…=globex`: which Salesforce org belongs to which tenant (a hub-wide mapping). */
const OrgMapSchema = z
  .string()
  .default('')
  .transform(csv)
  .pipe(
    z.array(
      z.string().regex(/^00D[A-Za-z0-9]{12,15}=[a-z][a-z0-9-]{1,62}$/, 'each entry is <org id>=<tenant>'),
    ),
  )
  .transform((pairs) => new Map(pairs.map((p) => p.split('=') as [string, string])))

/**
 * The widget's part of the crm connector's config (`HUB_CRM_<KEY>` or `hub connector config crm
 * --tenant t key=value`); the sync's config spreads it in.
 */
export const widgetConfigShape = {
  /** Origins allowed to frame the widget (CSP frame-ancestors) and to talk to it by postMessage. */
  frame_ancestors: OriginListSchema,
  /** Origins the widget exchanges postMessages with (default: frame_ancestors). */
  message_origins: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : csv(v)))
    .pipe(
      z
        .array(
          z
            .string()
            .regex(ORIGIN_PATTERN, 'each origin is https://host, https://*.host or a loopback http origin'),
        )
        .optional(),
    ),
  /** Salesforce org id → tenant, for Canvas (only the hub-wide HUB_CRM_CANVAS_ORGS is consulted). */
  canvas_orgs: OrgMapSchema,
  /** CRM user (Salesforce user id, user name or the embed's `user`) → role and territories. */
  users: json(z.record(z.string().min(1).max(128), UserMappingSchema)),
  /** How old a Canvas signed request may be (its `issuedAt`). */
  canvas_max_age_seconds: z.coerce.number().int().min(10).max(900).default(300),
  /** Life of a widget session (at most 10 minutes). */
  session_ttl_seconds: z.coerce.number().int().min(30).max(600).default(600),
  /** Reference date of relative periods in the ask box (default: today). */
  as_of: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
}

/** The hub's tenant id rule (tenants/registry.ts). */
export const TenantSchema = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'not a tenant id')

export const WidgetConfigSchema = z.object(widgetConfigShape)
export type WidgetConfig = z.output<typeof WidgetConfigSchema>
