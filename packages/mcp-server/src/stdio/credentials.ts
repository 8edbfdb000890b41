import { readFileSync } from 'node:fs'
import { HubError } from '@nl2q/core'
import { z } from 'zod'

/** How the stdio server finds its credential: an API key, or a tenant's key file (`hub key create`). */
export const StdioEnvSchema = z
  .object({
    NL2Q_API_KEY: z.string().trim().min(1).optional(),
    NL2Q_TENANT: z.string().trim().min(1).optional(),
    NL2Q_KEY_FILE: z.string().trim().min(1).optional(),
  })
  .refine((e) => e.NL2Q_API_KEY !== undefined || e.NL2Q_KEY_FILE !== undefined, {
    message: 'set NL2Q_API_KEY, or NL2Q_TENANT and NL2Q_KEY_FILE',
  })
  .refine((e) => e.NL2Q_API_KEY === undefined || e.NL2Q_KEY_FILE === undefined, {
    message: 'set only one of NL2Q_API_KEY and NL2Q_KEY_FILE',
  })
  .refine((e) => e.NL2Q_KEY_FILE === undefined || e.NL2Q_TENANT !== undefined, {
    message: 'NL2Q_KEY_FILE needs NL2Q_TENANT (the tenant the key must belong to)',
  })

/** Where the credential comes from; the key file is read only after the hub has opened (a demo creates it). */
export interface StdioCredentialSource {
  apiKey: string | undefined
  keyFile: string | undefined
  expectedTenant: string | undefined
}

export interface StdioCredential {
  apiKey: string
  /** When set, the key must belong to this tenant (a key file for another tenant is refused). */
  expectedTenant: string | undefined
}

/** Check the environment names exactly one credential; the key's value never appears in an error. */
export function stdioCredentialSource(env: NodeJS.ProcessEnv): StdioCredentialSource {
  const parsed = StdioEnvSchema.safeParse(env)
  if (!parsed.success) {
    throw new HubError(
      'CONFIG_INVALID',
      `Invalid MCP stdio credentials — ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    )
  }
  const e = parsed.data
  return { apiKey: e.NL2Q_API_KEY, keyFile: e.NL2Q_KEY_FILE, expectedTenant: e.NL2Q_TENANT }
}

/** The key itself: NL2Q_API_KEY, or the content of NL2Q_KEY_FILE. */
export function readStdioCredential(source: StdioCredentialSource): StdioCredential {
  if (source.apiKey) return { apiKey: source.apiKey, expectedTenant: source.expectedTenant }
  let apiKey: string
  try {
    apiKey = readFileSync(source.keyFile!, 'utf8').trim()
  } catch (cause) {
    throw new HubError('CONFIG_INVALID', 'NL2Q_KEY_FILE: cannot read the file it names', { cause })
  }
  if (!apiKey) throw new HubError('CONFIG_INVALID', 'NL2Q_KEY_FILE: the file is empty')
  return { apiKey, expectedTenant: source.expectedTenant }
}
