// Shared set-up of the BOAST suites: a demo hub with the boast connector, its settings and secrets.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { parse } from 'csv-parse/sync'
import boastConnector from '../packages/connectors/src/boast/index.ts'
import { setTenantSettings } from '../packages/core/src/connectors/config-section.ts'
import { secretAdmin } from '../packages/core/src/connectors/secret-store.ts'
import { secretBoxFor } from '../packages/core/src/secrets/index.ts'
import type { Sshd } from './emulators/sshd/sshd.ts'
import { createTestHub, type TestHub } from './helpers/hub.ts'

export const boast = () => ({ ...boastConnector })

export async function boastHub(sshd: Sshd, env: Record<string, string> = {}): Promise<TestHub> {
  const hub = await createTestHub({
    connectors: [boast()],
    env: { HUB_BOAST_RETRY_BASE_MS: '300', HUB_BOAST_SFTP_OP_TIMEOUT_MS: '6000', ...env },
  })
  const knex = hub.services.metadata.knex
  for (const tenant of ['acme', 'globex']) {
    await setTenantSettings(knex, boast(), {}, tenant, { sftp_host_key_sha256: sshd.hostKeySha256 })
    await setSecret(hub, tenant, 'sftp_private_key', sshd.clientKey)
  }
  return hub
}

export function setSecret(hub: TestHub, tenant: string, name: string, value: string) {
  return secretAdmin(hub.services.metadata.knex, secretBoxFor(hub.services.config)).set(
    'boast',
    tenant,
    name,
    value,
  )
}

export function setSettings(hub: TestHub, tenant: string, values: Record<string, string>) {
  return setTenantSettings(hub.services.metadata.knex, boast(), {}, tenant, values)
}

export function runJob(hub: TestHub, job: string, input: unknown, tenant = 'acme') {
  return hub.jobs.run({ connector: 'boast', job, tenant, input, trigger: 'cli' })
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** The files of a directory of the SFTP chroot, sorted. */
export const ls = (dir: string) => readdirSync(dir).sort()

/** A delivered export read back: manifest, the data's hash, and the parsed CSV. */
export function readExport(dir: string, file: string) {
  const bytes = readFileSync(join(dir, file))
  const manifest = JSON.parse(readFileSync(join(dir, `${file}.manifest.json`), 'utf8'))
  const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')
  const records = parse(text, { delimiter: manifest.format.delimiter }) as string[][]
  return { bytes, manifest, text, header: records[0] ?? [], rows: records.slice(1) }
}
