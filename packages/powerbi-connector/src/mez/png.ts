import { crc32, deflateSync } from 'node:zlib'

/** A minimal PNG encoder (RGBA, 8 bits per channel) on node:zlib, for the connector's icons. */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(typed) >>> 0)
  return Buffer.concat([length, typed, crc])
}

export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // colour type RGBA
  // compression, filter and interlace methods stay 0
  const raw = Buffer.alloc((width * 4 + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0 // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** Width and height from a PNG's IHDR (throws if it is not a PNG). */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(png)
  if (b.readUInt32BE(0) !== 0x89504e47 || b.toString('ascii', 12, 16) !== 'IHDR') throw new Error('not a PNG')
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) }
}

/**
 * The NL2Q icon at `size` px: a blue rounded square with a white "Q" (ring and tail), drawn with
 * 4×4 supersampling so small sizes stay smooth.
 */
export function drawIcon(size: number): Buffer {
  const rgba = new Uint8Array(size * size * 4)
  const S = 4
  const inside = (x: number, y: number): [number, number] => {
    // Coordinates in 0..1.
    const r = 0.2
    const cx = Math.min(Math.max(x, r), 1 - r)
    const cy = Math.min(Math.max(y, r), 1 - r)
    const bg = Math.hypot(x - cx, y - cy) <= r ? 1 : 0
    const d = Math.hypot(x - 0.47, y - 0.47)
    const ring = d >= 0.2 && d <= 0.31 ? 1 : 0
    // Tail: a thick segment from (0.56,0.56) to (0.78,0.78).
    const t = Math.max(0, Math.min(1, (x - 0.56 + (y - 0.56)) / (2 * 0.22)))
    const px = 0.56 + t * 0.22
    const tail = Math.hypot(x - px, y - px) <= 0.065 ? 1 : 0
    return [bg, Math.max(ring, tail) * bg]
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let bg = 0
      let fg = 0
      for (let sy = 0; sy < S; sy++)
        for (let sx = 0; sx < S; sx++) {
          const [b, f] = inside((x + (sx + 0.5) / S) / size, (y + (sy + 0.5) / S) / size)
          bg += b
          fg += f
        }
      bg /= S * S
      fg /= S * S
      const i = (y * size + x) * 4
      const blue = [0x1f, 0x5f, 0xbf]
      const white = [0xff, 0xff, 0xff]
      const mix = bg > 0 ? fg / bg : 0
      for (let k = 0; k < 3; k++)
        rgba[i + k] = Math.round((blue[k] as number) * (1 - mix) + (white[k] as number) * mix)
      rgba[i + 3] = Math.round(bg * 255)
    }
  }
  return encodePng(size, size, rgba)
}

export const ICON_SIZES = [16, 20, 24, 32, 40, 48, 64] as const
