import { constants, createWriteStream } from 'node:fs'
import { access, link, mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { HubError } from '@nl2q/core'
import {
  assertPlainName,
  type DeliveredFile,
  type Delivery,
  type DeliveryFile,
  type PutOptions,
} from './destination.ts'
import { meter } from './meter.ts'

/** The `file://` delivery (a local or mounted directory): `.part`, fsync, then rename or link. */
export async function openFileDelivery(url: URL): Promise<Delivery> {
  if (url.host) throw new HubError('VALIDATION_FAILED', 'a file:// URL names a local directory (file:///dir)')
  const dir = fileURLToPath(url)
  await mkdir(dir, { recursive: true })
  const exists = async (name: string) => {
    assertPlainName(name)
    return access(join(dir, name), constants.F_OK).then(
      () => true,
      () => false,
    )
  }
  async function put(file: DeliveryFile, options: PutOptions = {}): Promise<DeliveredFile> {
    assertPlainName(file.name)
    const final = join(dir, file.name)
    const part = `${final}.part`
    if (file.conflict === 'fail' && (await exists(file.name)))
      throw new HubError('CONFLICT', `${file.name} already exists in ${dir}`)
    const m = meter()
    try {
      await pipeline(file.body, m, createWriteStream(part, { flags: 'w', mode: 0o640 }), {
        ...(options.signal ? { signal: options.signal } : {}),
      })
      // the bytes reach the disk before the name does
      const fh = await open(part, 'r+')
      try {
        await fh.sync()
      } finally {
        await fh.close()
      }
      if ((await stat(part)).size !== m.bytes) throw new HubError('SERVICE_UNAVAILABLE', `${part} is short`)
      const staged = { name: file.name, bytes: m.bytes, sha256: m.digest() }
      await options.beforeCommit?.(staged)
      if (file.conflict === 'fail') {
        // link() fails if the name exists: no window in which another writer's file is replaced.
        await link(part, final).catch((cause: NodeJS.ErrnoException) => {
          throw cause.code === 'EEXIST'
            ? new HubError('CONFLICT', `${file.name} already exists in ${dir}`, { cause })
            : cause
        })
        await rm(part, { force: true })
      } else await rename(part, final)
      return staged
    } catch (cause) {
      await rm(part, { force: true })
      if (cause instanceof HubError) throw cause
      throw new HubError('SERVICE_UNAVAILABLE', `writing ${file.name} to ${dir} failed`, { cause })
    }
  }
  return { url: url.href, put, exists, close: async () => undefined }
}
