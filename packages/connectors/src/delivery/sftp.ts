import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { HubError, isHubError } from '@nl2q/core'
import type SftpClient from 'ssh2-sftp-client'
import { z } from 'zod'
import {
  assertPlainName,
  type DeliveredFile,
  type Delivery,
  type DeliveryFactory,
  type DeliveryFile,
  type PutOptions,
} from './destination.ts'
import { meter } from './meter.ts'

/** The tenant's SFTP settings (connector config) — the host key is pinned, never learnt. */
export const SftpSettingsSchema = z.object({
  /** OpenSSH's `SHA256:<base64>` of the server's host key (`ssh-keygen -lf key.pub`). */
  sftp_host_key_sha256: z
    .string()
    .regex(/^(SHA256:)?[A-Za-z0-9+/]{43}=?$/, 'an OpenSSH SHA256 fingerprint')
    .optional(),
  sftp_connect_timeout_ms: z.coerce.number().int().positive().default(15_000),
  /** No answer to an operation (or to keepalives) for this long ends the connection. */
  sftp_op_timeout_ms: z.coerce.number().int().positive().default(30_000),
})
export type SftpSettings = z.output<typeof SftpSettingsSchema>

/** Secrets of the connector that hold the client's ed25519 key (OpenSSH format) and its passphrase. */
export const SFTP_KEY_SECRET = 'sftp_private_key'
export const SFTP_PASSPHRASE_SECRET = 'sftp_key_passphrase'

/** `SHA256:…` of a raw host key blob, as OpenSSH prints it (base64 without padding). */
export function hostKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

const normalise = (fp: string) => (fp.startsWith('SHA256:') ? fp : `SHA256:${fp}`).replace(/=+$/, '')

function transient(message: string, cause: unknown): HubError {
  return new HubError('SERVICE_UNAVAILABLE', message, { cause })
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HubError('TIMEOUT', `SFTP ${what} took longer than ${ms} ms`)), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

export interface SftpTarget {
  host: string
  port: number
  username: string
  dir: string
  privateKey: string
  passphrase?: string
  settings: SftpSettings
}

/** Parse `sftp://user@host:port/dir` and the tenant's key and settings into a connect target. */
export async function sftpTarget(url: URL, scope: Parameters<DeliveryFactory>[1]): Promise<SftpTarget> {
  if (url.protocol !== 'sftp:') throw new HubError('VALIDATION_FAILED', 'not an sftp:// URL')
  if (url.password)
    throw new HubError('VALIDATION_FAILED', 'an sftp:// URL carries no password; keys live in secrets')
  if (!url.hostname) throw new HubError('VALIDATION_FAILED', 'an sftp:// URL needs a host')
  const parsed = SftpSettingsSchema.safeParse(scope.config)
  if (!parsed.success)
    throw new HubError(
      'CONFIG_INVALID',
      `boast SFTP settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    )
  const privateKey = await scope.secrets.get(SFTP_KEY_SECRET)
  if (!privateKey)
    throw new HubError(
      'CONFIG_INVALID',
      `no SFTP key: hub connector secret set boast --tenant <id> ${SFTP_KEY_SECRET}=@key`,
    )
  const passphrase = await scope.secrets.get(SFTP_PASSPHRASE_SECRET)
  const username = decodeURIComponent(url.username) || (scope.config.SFTP_USER as string | undefined) || ''
  if (!username) throw new HubError('VALIDATION_FAILED', 'an sftp:// URL needs a user (sftp://user@host/dir)')
  const dir = decodeURIComponent(url.pathname).replace(/\/+$/, '') || '.'
  if (dir.split('/').includes('..')) throw new HubError('VALIDATION_FAILED', 'no .. in an sftp:// path')
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 22,
    username,
    dir,
    privateKey,
    ...(passphrase ? { passphrase } : {}),
    settings: parsed.data,
  }
}

/** Connect with the pinned host key; an unknown or changed key is refused before authenticating. */
export async function connectSftp(target: SftpTarget): Promise<SftpClient> {
  const pinned = target.settings.sftp_host_key_sha256
  if (!pinned)
    throw new HubError(
      'CONFIG_INVALID',
      `no pinned host key for ${target.host}:${target.port}: set sftp_host_key_sha256 in the boast connector config ` +
        '(ssh-keyscan the server, then ssh-keygen -lf; never trusted on first use)',
    )
  const { default: Client } = await import('ssh2-sftp-client')
  const client = new Client('boast')
  let seen: string | undefined
  try {
    await client.connect({
      host: target.host,
      port: target.port,
      username: target.username,
      privateKey: target.privateKey,
      ...(target.passphrase ? { passphrase: target.passphrase } : {}),
      readyTimeout: target.settings.sftp_connect_timeout_ms,
      keepaliveInterval: Math.max(1000, Math.floor(target.settings.sftp_op_timeout_ms / 3)),
      keepaliveCountMax: 3,
      retries: 0,
      hostVerifier: (key: Buffer) => {
        seen = hostKeyFingerprint(key)
        return seen === normalise(pinned)
      },
    } as SftpClient.ConnectOptions)
  } catch (cause) {
    await client.end().catch(() => undefined)
    if (seen !== undefined && seen !== normalise(pinned))
      throw new HubError(
        'FORBIDDEN',
        `host key of ${target.host}:${target.port} is ${seen}, not the pinned ${normalise(pinned)}: refused ` +
          '(if the server was re-keyed, check out of band and update sftp_host_key_sha256)',
        { cause },
      )
    const text = cause instanceof Error ? cause.message : String(cause)
    if (/authentication/i.test(text))
      throw new HubError('FORBIDDEN', `SFTP login as ${target.username} refused by ${target.host}`, { cause })
    throw transient(`cannot reach SFTP server ${target.host}:${target.port}`, cause)
  }
  // Every SFTP write waits for its status reply: with Nagle's algorithm on, each small request or
  // reply can sit behind the peer's delayed ACK (~40 ms on Linux), which paced uploads at a few
  // writes per round trip. ssh2 leaves the socket's default; interactive OpenSSH sets the same.
  ;(client as unknown as { client: { setNoDelay(on: boolean): void } }).client.setNoDelay(true)
  return client
}

/** The `sftp://` delivery: write `<name>.part`, verify its size, posix-rename it to `<name>`. */
export async function openSftpDelivery(url: URL, scope: Parameters<DeliveryFactory>[1]): Promise<Delivery> {
  const target = await sftpTarget(url, scope)
  const client = await connectSftp(target)
  const op = target.settings.sftp_op_timeout_ms
  const path = (name: string) => `${target.dir}/${name}`
  const shown = `sftp://${target.username}@${target.host}:${target.port}${target.dir}`
  const fail = (what: string, cause: unknown) =>
    isHubError(cause) ? cause : transient(`SFTP ${what} failed on ${shown}`, cause)
  // A dropped connection must fail the transfer at once: ssh2 leaves pending writes unanswered.
  const lost = new AbortController()
  const onLost = (err?: unknown) => {
    if (!lost.signal.aborted) lost.abort(transient(`SFTP connection to ${shown} lost`, err))
  }
  const onClose = () => onLost()
  client.on('close', onClose)
  client.on('end', onClose)
  client.on('error', onLost)

  async function exists(name: string): Promise<boolean> {
    assertPlainName(name)
    try {
      return (await withTimeout(client.exists(path(name)), op, 'stat')) === '-'
    } catch (cause) {
      throw fail(`stat of ${name}`, cause)
    }
  }

  async function put(file: DeliveryFile, options: PutOptions = {}): Promise<DeliveredFile> {
    assertPlainName(file.name)
    const part = `${path(file.name)}.part`
    if (file.conflict === 'fail' && (await exists(file.name)))
      throw new HubError('CONFLICT', `${file.name} already exists on ${shown}`)
    const m = meter()
    try {
      // flags 'w': an earlier attempt's part is truncated, never appended to.
      const ws = client.createWriteStream(part, { flags: 'w', mode: 0o640 })
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
      lost.signal.throwIfAborted()
      const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal
      await pipeline(file.body, m, ws, { signal })
      await withTimeout(closed, op, 'close')
      const stat = await withTimeout(client.stat(part), op, 'stat')
      if (stat.size !== m.bytes)
        throw transient(`${file.name}.part holds ${stat.size} bytes, ${m.bytes} were sent`, undefined)
      const staged = { name: file.name, bytes: m.bytes, sha256: m.digest() }
      await options.beforeCommit?.(staged)
      // posix-rename@openssh.com replaces atomically; a plain SFTP rename would refuse an existing name.
      await withTimeout(client.posixRename(part, path(file.name)), op, 'rename')
      return staged
    } catch (err) {
      // an abort because the connection dropped reports the drop, not the abort
      const cause = lost.signal.aborted && !options.signal?.aborted ? lost.signal.reason : err
      if (!lost.signal.aborted)
        await withTimeout(client.delete(part, true), 2000, 'cleanup').catch(() => undefined)
      throw fail(`upload of ${file.name}`, cause)
    }
  }

  return {
    url: shown,
    put,
    exists,
    async close() {
      client.removeListener('close', onClose)
      client.removeListener('end', onClose)
      client.removeListener('error', onLost)
      await client.end().catch(() => undefined)
    },
  }
}
