import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { envSection, parseSection } from './config-section.ts'
import { defineConnector } from './contract.ts'

const connector = defineConnector({
  name: 'demo',
  config: z.object({
    frame_ancestors: z.string().optional(),
    PAGE_SIZE: z.coerce.number().int().positive().default(10),
    legacy: z.string().optional(),
  }),
  configEnv: { legacy: 'OLD_DEMO_LEGACY' },
})

describe('connector config sections', () => {
  it('reads HUB_<NAME>_<KEY> upper-cased whatever case the key is written in, or the declared name', () => {
    const raw = envSection(connector, {
      HUB_DEMO_FRAME_ANCESTORS: 'https://a.example',
      HUB_DEMO_PAGE_SIZE: '25',
      OLD_DEMO_LEGACY: 'x',
      HUB_DEMO_frame_ancestors: 'ignored',
    })
    expect(raw).toEqual({ frame_ancestors: 'https://a.example', PAGE_SIZE: '25', legacy: 'x' })
    expect(parseSection(connector, raw)).toEqual({
      frame_ancestors: 'https://a.example',
      PAGE_SIZE: 25,
      legacy: 'x',
    })
  })

  it('names a bad value by its variable from env and by its key from tenant settings', () => {
    expect(() => parseSection(connector, { PAGE_SIZE: '-1' })).toThrow(/HUB_DEMO_PAGE_SIZE/)
    expect(() => parseSection(connector, { PAGE_SIZE: '-1' }, 'tenant')).toThrow(/PAGE_SIZE: /)
  })
})
