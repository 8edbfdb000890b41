import { join } from 'node:path'
import type { Command } from 'commander'
import { loadConfig } from '../../config/index.ts'
import { openMetadataStore } from '../../metadata/store.ts'
import {
  createSecretBox,
  generateKey,
  keyRingOf,
  loadKeyRing,
  readKeyFile,
  resealStoredSecrets,
  SECRET_KEY_FILE,
  secretBoxFor,
  secretKeyOf,
  writeKeyFile,
} from '../../secrets/index.ts'

/**
 * `hub secrets rotate`. With the embedded key file: a new key is put first in HUB_HOME/secret.key
 * (the old ones stay in the file to decrypt), every stored secret is re-sealed row by row (each row
 * names its key), and only then are the old keys dropped — a crash at any point loses nothing and a
 * second run finishes the job. With HUB_SECRET_KEY: the operator sets the new key there and the old
 * one in HUB_SECRET_KEY_PREVIOUS; the command re-seals everything with HUB_SECRET_KEY.
 */
async function rotate(): Promise<void> {
  const config = loadConfig()
  const metadata = openMetadataStore(config.databaseUrl, config.home)
  try {
    await metadata.migrate()
    if (config.secrets.key) {
      const box = secretBoxFor(config)
      const { resealed, remaining } = await resealStoredSecrets(metadata.knex, box)
      process.stdout.write(
        `${resealed} secret(s) re-encrypted with HUB_SECRET_KEY (key ${box.currentKeyId()})` +
          `${remaining ? `; ${remaining} changed meanwhile, run again` : '; HUB_SECRET_KEY_PREVIOUS can be dropped'}\n`,
      )
      return
    }
    const path = join(config.home, SECRET_KEY_FILE)
    loadKeyRing({ home: config.home }) // creates the file on a hub that never started
    const old = readKeyFile(path)
    const next = generateKey()
    writeKeyFile(path, [next, ...old])
    const box = createSecretBox(keyRingOf(next, [...old, ...config.secrets.previous.map(secretKeyOf)], path))
    const first = await resealStoredSecrets(metadata.knex, box)
    // A second pass picks up rows another process sealed with an old key during the first.
    const second = await resealStoredSecrets(metadata.knex, box)
    const resealed = first.resealed + second.resealed
    const remaining = second.remaining
    if (remaining) {
      process.stdout.write(`${resealed} secret(s) re-encrypted; ${remaining} changed meanwhile: run again\n`)
      process.exitCode = 1
      return
    }
    writeKeyFile(path, [next])
    process.stdout.write(
      `${resealed} secret(s) re-encrypted with the new key ${next.id} in ${path}; old key(s) ${old.map((k) => k.id).join(', ')} removed\n`,
    )
  } finally {
    await metadata.close()
  }
}

export function register(program: Command): void {
  const secrets = program.command('secrets').description('Secrets stored at rest (tenant database URLs)')
  secrets
    .command('rotate')
    .description('Re-encrypt every stored secret with a new key (HUB_HOME/secret.key, or HUB_SECRET_KEY)')
    .action(rotate)
}
