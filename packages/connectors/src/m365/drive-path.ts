import { HubError } from '@nl2q/core'

/** Where an `m365://` destination points: a drive (of a site, or by id) and a folder in it. */
export interface DriveFolder {
  /** `/sites/{site}/drives/{drive}` or `/drives/{drive}`, segments percent-encoded. */
  drive: string
  /** Folder segments under the drive root (decoded). */
  folder: string[]
}

/** SharePoint refuses these in names; `..`/`.` would walk out of the folder. */
const BAD_SEGMENT = /["*:<>?\\|#%/]/
const hasControl = (s: string) => [...s].some((ch) => ch.charCodeAt(0) < 0x20)

export function checkSegment(segment: string, what: string): string {
  if (
    segment === '' ||
    segment === '.' ||
    segment === '..' ||
    segment.length > 255 ||
    BAD_SEGMENT.test(segment) ||
    hasControl(segment)
  )
    throw new HubError('VALIDATION_FAILED', `${what} is not a valid SharePoint name`)
  return segment
}

/**
 * `m365://sites/<site-id>/drives/<drive-id>/root:/NL2Q/exports/` (or `m365://drives/<drive-id>/root:/…`)
 * → the drive and the folder. Site ids keep their commas (`host,guid,guid`).
 */
export function parseDriveUrl(url: string): DriveFolder {
  const m = /^m365:\/\/(?:sites\/([^/?#]+)\/)?drives\/([^/?#]+)\/root:(\/[^?#]*)?$/.exec(url)
  if (!m?.[2])
    throw new HubError(
      'VALIDATION_FAILED',
      'an m365 destination is m365://sites/<site-id>/drives/<drive-id>/root:/<folder>/',
    )
  const decode = (s: string, what: string) => {
    try {
      return decodeURIComponent(s)
    } catch {
      throw new HubError('VALIDATION_FAILED', `${what} in the m365 destination is badly encoded`)
    }
  }
  const site = m[1] === undefined ? undefined : decode(m[1], 'the site id')
  const driveId = decode(m[2], 'the drive id')
  if (
    !/^[A-Za-z0-9!,._-]{1,200}$/.test(driveId) ||
    (site !== undefined && !/^[A-Za-z0-9,._-]{1,300}$/.test(site))
  )
    throw new HubError('VALIDATION_FAILED', 'the m365 destination names a malformed site or drive id')
  const folder = (m[3] ?? '/')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => checkSegment(decode(s, 'a folder name'), 'a folder of the m365 destination'))
  const drive = `${site === undefined ? '' : `/sites/${encodeURIComponent(site)}`}/drives/${encodeURIComponent(driveId)}`
  return { drive, folder }
}

/** The Graph path of an item by path: `/…/drives/{d}/root:/a/b/name:`. */
export function itemPath(where: DriveFolder, name: string): string {
  const segments = [...where.folder, checkSegment(name, `the file name '${name.slice(0, 80)}'`)]
  return `${where.drive}/root:/${segments.map(encodeURIComponent).join('/')}:`
}
