import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { createApiKey, getApiKey, type KeyActor, listApiKeys, revokeApiKey } from '../../auth/api-keys.ts'
import { loadConfig } from '../../config/index.ts'
import { HubError } from '../../errors.ts'
import { type MetadataStore, openMetadataStore } from '../../metadata/store.ts'
import { localPrincipal, ROLES, type Role } from '../../principal.ts'

async function withStore<T>(fn: (metadata: MetadataStore) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  try {
    await metadata.migrate()
    return await fn(metadata)
  } finally {
    await metadata.close()
  }
}

const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }

/** `30d`, `12h`, `90m`, `3600s`, `2w` → seconds. */
export function parseDuration(value: string): number {
  const m = /^(\d{1,6})([smhdw])$/.exec(value.trim())
  if (!m) throw new InvalidArgumentError('use a number and a unit: 30d, 12h, 90m, 3600s, 2w')
  return Number(m[1]) * UNIT_SEC[m[2]!]!
}

/** Repeated `--attr territories=ACM-T01 --attr territories=ACM-T02` (or `=A,B`) → { territories: [...] }. */
function collectAttr(value: string, previous: Record<string, string[]>): Record<string, string[]> {
  const eq = value.indexOf('=')
  if (eq <= 0) throw new InvalidArgumentError('use key=value')
  const key = value.slice(0, eq).trim()
  const values = value
    .slice(eq + 1)
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
  return { ...previous, [key]: [...(previous[key] ?? []), ...values] }
}

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`)
  }
  return value as Role
}

const operator = (tenant: string): KeyActor => ({
  subject: localPrincipal(tenant).subject,
  credentialId: 'local',
  channel: 'cli',
})

export function register(program: Command): void {
  const key = program.command('key').description('Manage API keys (the secret is shown once, at creation)')
  key
    .command('create')
    .description('Create an API key for a tenant and print it once')
    .requiredOption('--tenant <id>', 'the tenant the key belongs to')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .option('--attr <key=value>', 'row-policy attribute, repeatable (territories=ACM-T01)', collectAttr, {})
    .option('--expires <duration>', 'lifetime, e.g. 30d, 12h (default: no expiry)', parseDuration)
    .option('--label <text>', 'a note for admins')
    .option('--json', 'JSON output')
    .action(
      async (opts: {
        tenant: string
        role: Role
        attr: Record<string, string[]>
        expires?: number
        label?: string
        json?: boolean
      }) => {
        await withStore(async (metadata) => {
          const created = await createApiKey(metadata, {
            tenant: opts.tenant,
            role: opts.role,
            attributes: opts.attr,
            expiresInSec: opts.expires,
            label: opts.label,
            createdBy: localPrincipal(opts.tenant).subject,
            actor: operator(opts.tenant),
          })
          if (opts.json) process.stdout.write(`${JSON.stringify(created)}\n`)
          else
            process.stdout.write(
              `${created.secret}\n\nkey ${created.id} (${created.role}) for tenant ${created.tenant}` +
                `${created.expiresAt ? `, expires ${created.expiresAt}` : ''}.\n` +
                'This is the only time the key is shown; store it now.\n',
            )
        })
      },
    )
  key
    .command('list')
    .description("List a tenant's API keys (never their secrets)")
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--json', 'JSON output')
    .action(async (opts: { tenant: string; json?: boolean }) => {
      const keys = await withStore((metadata) => listApiKeys(metadata, opts.tenant))
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(keys)}\n`)
        return
      }
      for (const k of keys) {
        const state = k.revokedAt
          ? `revoked ${k.revokedAt}`
          : k.expiresAt
            ? `expires ${k.expiresAt}`
            : 'active'
        process.stdout.write(
          `${k.id}\t${k.role}\t${state}\tlast used ${k.lastUsedAt ?? 'never'}\t${k.label ?? ''}\n`,
        )
      }
    })
  key
    .command('revoke <key-id>')
    .description('Revoke an API key; it fails from the next request on')
    .action(async (id: string) => {
      await withStore(async (metadata) => {
        const found = await getApiKey(metadata, id)
        if (!found) throw new HubError('NOT_FOUND', `No API key '${id}'`)
        const revoked = await revokeApiKey(metadata, found.tenant, id, operator(found.tenant))
        process.stdout.write(`key ${id} of tenant ${revoked.tenant} revoked at ${revoked.revokedAt}\n`)
      })
    })
}
