import type { Logger } from 'pino'
import { z } from 'zod'
import {
  type DataSource,
  type Dialect,
  openDataSource,
  parseDataSourceUrl,
  ping,
  redactUrl,
} from '../db/index.ts'
import { dataSourceUnavailable, isDataSourceDown } from '../db/unavailable.ts'
import { dedicateToReads } from '../engine/execute.ts'
import { loadOverrides } from '../engine/index.ts'
import { policyReport } from '../engine/policy-report.ts'
import { HubError } from '../errors.ts'
import { hotRow } from '../metadata/hot-read.ts'
import type { MetadataStore } from '../metadata/store.ts'
import { type SecretBox, secretContext } from '../secrets/index.ts'
import { type Engine, type OpenEngineOptions, openEngine } from './open-engine.ts'

export const TenantIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,62}$/, 'a tenant id is 2–63 characters: lower-case letters, digits and dashes')

/** Per-tenant settings stored as JSON; every field optional. */
export const TenantSettingsSchema = z
  .object({
    /** Requests per rate-limit window, per role or `default` (overrides the hub default). */
    rateLimits: z
      .partialRecord(
        z.enum(['admin', 'analyst', 'viewer', 'integration', 'default']),
        z.number().int().positive(),
      )
      .optional(),
  })
  .passthrough()
export type TenantSettings = z.infer<typeof TenantSettingsSchema>

/** What may be shown about a tenant: never its database URL. */
export interface TenantInfo {
  id: string
  dialect: Dialect
  model: string | null
  createdAt: string
}

interface TenantRow {
  id: string
  db_url: string
  model: string | null
  settings: string
  created_at: string
  removed_at: string | null
}

/** A tenant opened for queries: its read-only pool, its semantic model and its engine. */
export interface TenantRuntime {
  id: string
  ds: DataSource
  engine: Engine
  settings: TenantSettings
}

export interface TenantRegistry {
  list(): Promise<TenantInfo[]>
  exists(id: string): Promise<boolean>
  settings(id: string): Promise<TenantSettings>
  /**
   * Register a tenant. Unless `check` is false the data source is opened read-only, introspected
   * and its model built first: a tenant that cannot be served is never registered.
   */
  add(input: {
    id: string
    dbUrl: string
    model?: string | null
    settings?: TenantSettings
    check?: boolean
  }): Promise<TenantInfo & { datasets?: number }>
  /**
   * Remove a tenant: its API keys are revoked, its URL erased, its pool closed; the row stays
   * (marked removed) so the id is never reused and its audit chain is kept.
   */
  remove(id: string): Promise<{ revokedKeys: number }>
  /** Set (or with null clear) the tenant's overrides model; the next runtime() reads it. */
  setModel(id: string, model: string | null): Promise<void>
  /** Merge settings into a tenant's (e.g. per-role rate limits); returns the result. */
  updateSettings(id: string, patch: TenantSettings): Promise<TenantSettings>
  /** The data-source URL (a secret): for the operator CLI only, never for an API. */
  dbUrl(id: string): Promise<string>
  /**
   * Open (once) and return the tenant's runtime; concurrent callers share one opening. The tenant's
   * liveness is read first, unless `options.live` says this request read it already (the
   * authenticator does: auth/tenant-liveness.ts).
   */
  runtime(id: string, options?: { live?: boolean }): Promise<TenantRuntime>
  /**
   * Drop a cached runtime (after a re-seed or model change) so the next call re-reads the schema.
   * `origin: 'peer'` when another replica announced the change (it is not announced again).
   */
  invalidate(id: string, origin?: 'local' | 'peer'): Promise<void>
  /** Connections in use and idle in each opened tenant pool (for /metrics). */
  poolStats(): Promise<{ tenant: string; used: number; free: number }[]>
  /** Ping every tenant data source, or only `tenant`'s (GET /v1/admin/health). */
  health(tenant?: string): Promise<{ tenant: string; ok: boolean; error?: string }[]>
  close(): Promise<void>
}

export interface TenantRegistryOptions {
  metadata: MetadataStore
  /** Seals the data-source URLs at rest (AES-256-GCM); see `secrets/`. */
  secrets: SecretBox
  /** Relative sqlite: paths resolve against this directory (HUB_HOME). */
  baseDir: string
  logger?: Logger
  engine?: Omit<OpenEngineOptions, 'model'>
  /** Called after every invalidation (refresh, model or settings change): caches, other replicas. */
  onInvalidate?: (id: string, origin: 'local' | 'peer') => void | Promise<void>
}

const urlContext = (id: string) => secretContext('tenants', 'db_url', id)

export function createTenantRegistry(options: TenantRegistryOptions): TenantRegistry {
  const { metadata, baseDir, logger, secrets } = options
  const runtimes = new Map<string, Promise<TenantRuntime>>()
  /** The stored URL is sealed (or plaintext from before encryption, sealed at the next start). */
  const urlOf = (r: TenantRow): string => secrets.open(r.db_url, urlContext(r.id))

  function toInfo(r: TenantRow, url = urlOf(r)): TenantInfo {
    return { id: r.id, dialect: parseDataSourceUrl(url).dialect, model: r.model, createdAt: r.created_at }
  }

  const live = () => metadata.knex<TenantRow>('tenants').whereNull('removed_at')

  async function row(id: string): Promise<TenantRow> {
    const r = (await live().where({ id }).first()) as TenantRow | undefined
    if (!r) throw new HubError('NOT_FOUND', `No tenant '${id}'`)
    return r
  }

  async function open(id: string): Promise<TenantRuntime> {
    const r = await row(id)
    const ds = openDataSource(urlOf(r), { readOnly: true, baseDir })
    // The tenant pool only ever reads: its sessions stay READ ONLY (fewer round trips per query).
    dedicateToReads(ds)
    try {
      const started = performance.now()
      const engine = await openEngine(ds, { model: r.model, ...options.engine })
      logger?.info({ tenant: id, ms: Math.round(performance.now() - started) }, 'tenant opened')
      const { unreachable } = policyReport(engine.model)
      if (unreachable.length > 0)
        logger?.warn(
          { tenant: id, datasets: unreachable },
          'row policy reaches no foreign-key path to these datasets: they are withheld from every principal a rule binds (hub tenant check)',
        )
      return { id, ds, engine, settings: TenantSettingsSchema.parse(JSON.parse(r.settings)) }
    } catch (err) {
      await ds.knex.destroy()
      // A database that is down is a 503 the client may retry, not a server fault (500).
      throw isDataSourceDown(err) ? dataSourceUnavailable(err) : err
    }
  }

  /** Open the data source as a tenant would be opened, build its model, and close it again. */
  async function probe(dbUrl: string, model: string | null): Promise<number> {
    const ds = openDataSource(dbUrl, { readOnly: true, baseDir })
    try {
      const engine = await openEngine(ds, { model, ...options.engine })
      return engine.model.datasets.length
    } catch (cause) {
      if (cause instanceof HubError) throw cause
      const code = (cause as { code?: string }).code ?? 'ERROR'
      throw new HubError(
        'VALIDATION_FAILED',
        `Cannot open the data source ${redactUrl(dbUrl)} (${code}); the tenant was not added`,
        { cause },
      )
    } finally {
      await ds.knex.destroy()
    }
  }

  async function exists(id: string): Promise<boolean> {
    // on every request (runtime()): one prepared read, not the query builder
    return (
      (await hotRow(metadata.knex, 'select id from tenants where id = ? and removed_at is null', [id])) !==
      undefined
    )
  }

  async function dropRuntime(id: string): Promise<void> {
    const p = runtimes.get(id)
    runtimes.delete(id)
    if (p) await (await p.catch(() => null))?.ds.knex.destroy()
  }

  return {
    async list() {
      const rows = (await live().select().orderBy('id')) as TenantRow[]
      return rows.map((r) => toInfo(r))
    },
    exists,
    async settings(id) {
      return TenantSettingsSchema.parse(JSON.parse((await row(id)).settings))
    },
    async add(input) {
      const parsed = TenantIdSchema.safeParse(input.id)
      if (!parsed.success)
        throw new HubError(
          'VALIDATION_FAILED',
          `'${input.id}': ${parsed.error.issues[0]?.message ?? 'invalid id'}`,
        )
      const id = parsed.data
      parseDataSourceUrl(input.dbUrl, baseDir)
      const known = (await metadata.knex<TenantRow>('tenants').where({ id }).first('removed_at')) as
        | Pick<TenantRow, 'removed_at'>
        | undefined
      if (known?.removed_at) {
        throw new HubError('CONFLICT', `Tenant '${id}' was removed; a removed tenant's id is not reused`)
      }
      if (known) throw new HubError('CONFLICT', `Tenant '${id}' already exists`)
      const model = input.model ?? null
      const settings = JSON.stringify(TenantSettingsSchema.parse(input.settings ?? {}))
      let datasets: number | undefined
      if (input.check === false) {
        if (model) await loadOverrides(model)
      } else datasets = await probe(input.dbUrl, model)
      const r: TenantRow = {
        id,
        db_url: secrets.seal(input.dbUrl, urlContext(id)),
        model,
        settings,
        created_at: new Date().toISOString(),
        removed_at: null,
      }
      await metadata.knex('tenants').insert(r)
      return { ...toInfo(r, input.dbUrl), ...(datasets === undefined ? {} : { datasets }) }
    },
    async remove(id) {
      const now = new Date().toISOString()
      const revokedKeys = await metadata.knex.transaction(async (trx) => {
        const r = await trx('tenants').where({ id }).whereNull('removed_at').first('id')
        if (!r) throw new HubError('NOT_FOUND', `No tenant '${id}'`)
        const n = await trx('api_keys')
          .where({ tenant: id })
          .whereNull('revoked_at')
          .update({ revoked_at: now })
        await trx('tenants').where({ id }).update({ removed_at: now, db_url: '' })
        // Its connector credentials, settings, state and schedules go with it (audit chain and the
        // tenants row stay): nothing may run for, or read the secrets of, a removed tenant.
        for (const table of ['connector_secrets', 'connector_settings', 'connector_state', 'job_schedules'])
          await trx(table).where({ tenant: id }).del()
        return n
      })
      await this.invalidate(id)
      return { revokedKeys }
    },
    async setModel(id, model) {
      await row(id)
      await metadata.knex('tenants').where({ id }).update({ model })
      await this.invalidate(id)
    },
    async updateSettings(id, patch) {
      const current = TenantSettingsSchema.parse(JSON.parse((await row(id)).settings))
      const next = TenantSettingsSchema.parse({
        ...current,
        ...patch,
        ...(patch.rateLimits ? { rateLimits: { ...current.rateLimits, ...patch.rateLimits } } : {}),
      })
      await metadata
        .knex('tenants')
        .where({ id })
        .update({ settings: JSON.stringify(next) })
      await this.invalidate(id)
      return next
    },
    async dbUrl(id) {
      return urlOf(await row(id))
    },
    async runtime(id, opts) {
      // A tenant removed by another process (`hub tenant remove`) stops being served here too.
      if (opts?.live !== true && !(await exists(id))) {
        await dropRuntime(id)
        throw new HubError('NOT_FOUND', `No tenant '${id}'`)
      }
      let p = runtimes.get(id)
      if (!p) {
        p = open(id)
        runtimes.set(id, p)
        p.catch(() => runtimes.delete(id))
      }
      return p
    },
    async invalidate(id, origin = 'local') {
      await dropRuntime(id)
      await options.onInvalidate?.(id, origin)
    },
    async poolStats() {
      const opened = await Promise.all(
        [...runtimes.entries()].map(async ([tenant, p]) => ({ tenant, rt: await p.catch(() => null) })),
      )
      return opened.flatMap(({ tenant, rt }) => {
        const pool = (rt?.ds.knex.client as { pool?: { numUsed(): number; numFree(): number } } | undefined)
          ?.pool
        return pool ? [{ tenant, used: pool.numUsed(), free: pool.numFree() }] : []
      })
    },
    async health(tenant) {
      const query = live().select()
      const rows = (await (tenant === undefined ? query : query.where({ id: tenant }))) as TenantRow[]
      return Promise.all(
        rows.map(async (r) => {
          try {
            const rt = runtimes.get(r.id)
            if (rt) await ping((await rt).ds)
            else {
              const ds = openDataSource(urlOf(r), { readOnly: true, baseDir })
              try {
                await ping(ds)
              } finally {
                await ds.knex.destroy()
              }
            }
            return { tenant: r.id, ok: true }
          } catch (err) {
            // The message of a driver error can contain the host; report only the kind of failure.
            const code = (err as { code?: string }).code ?? 'UNREACHABLE'
            return { tenant: r.id, ok: false, error: code }
          }
        }),
      )
    },
    async close() {
      const all = [...runtimes.values()]
      runtimes.clear()
      await Promise.all(all.map(async (p) => (await p.catch(() => null))?.ds.knex.destroy()))
    },
  }
}
