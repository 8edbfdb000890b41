import type { Client } from '@microsoft/microsoft-graph-client'
import { HubError } from '@nl2q/core'
import type { M365Settings } from './config.ts'
import { graphClient } from './graph.ts'
import { createTokenSource, type TokenSource } from './token.ts'
import { transportFor } from './transport.ts'

/** The connector's secrets door, as much of it as the app credentials need. */
export interface SecretsReader {
  get(name: string): Promise<string | undefined>
}

const tokenSources = new Map<string, TokenSource>()

/**
 * A Graph client acting as the tenant's app registration (client credentials): `client_certificate`
 * when stored, else `client_secret`. Throws CONFIG_INVALID naming what is missing.
 */
export async function appGraphClient(
  settings: M365Settings,
  secrets: SecretsReader,
  options: { maxRetryAfterSec?: number } = {},
): Promise<Client> {
  if (!settings.directory || !settings.client_id)
    throw new HubError('CONFIG_INVALID', 'm365 needs the directory and client_id settings for this tenant')
  const [certificate, secret] = await Promise.all([
    secrets.get('client_certificate'),
    secrets.get('client_secret'),
  ])
  if (!certificate && !secret)
    throw new HubError(
      'CONFIG_INVALID',
      'm365 needs a client_secret or client_certificate secret (hub connector secret set m365 …)',
    )
  const fetch = transportFor(settings.ca_file)
  const sourceKey = `${settings.login_url}\u0000${settings.graph_url}\u0000${settings.ca_file ?? ''}`
  let tokens = tokenSources.get(sourceKey)
  if (!tokens) {
    tokens = createTokenSource(settings, fetch)
    tokenSources.set(sourceKey, tokens)
  }
  const source = tokens
  const app = {
    directory: settings.directory,
    clientId: settings.client_id,
    ...(certificate ? { certificate } : secret ? { secret } : {}),
  }
  return graphClient({
    graphUrl: settings.graph_url,
    fetch,
    accessToken: () => source(app),
    ...(options.maxRetryAfterSec !== undefined ? { maxRetryAfterSec: options.maxRetryAfterSec } : {}),
  })
}
