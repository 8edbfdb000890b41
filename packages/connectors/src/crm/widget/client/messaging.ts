// postMessage with the host page: out only to an allow-listed parent origin, in only from one.
import * as z from 'zod/mini'
import { originAllowed } from '../origins.ts'

/** The host tells the widget that the rep opened another HCP, with a new one-time embed token. */
export const HostMessageSchema = z.object({
  type: z.literal('nl2q:context'),
  hcp: z.string().check(z.minLength(1), z.maxLength(32)),
  token: z.string().check(z.minLength(20), z.maxLength(4096)),
})
export type HostMessage = z.infer<typeof HostMessageSchema>

/** The framing page's origin, when the browser tells it (Chromium: ancestorOrigins). */
function parentOrigin(): string | null {
  if (window.parent === window) return null
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins
  if (ancestors && ancestors.length > 0) return ancestors.item(0)
  try {
    return document.referrer ? new URL(document.referrer).origin : null
  } catch {
    return null
  }
}

export function hostChannel(allowed: readonly string[], onContext: (m: HostMessage) => void) {
  const parent = parentOrigin()
  // An exact origin, never '*': a parent outside the allow-list is never written to.
  const target = parent !== null && originAllowed(parent, allowed) ? parent : null
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || !originAllowed(event.origin, allowed)) return
    const parsed = HostMessageSchema.safeParse(event.data)
    if (parsed.success) onContext(parsed.data)
  })
  return {
    target,
    post(message: { type: 'nl2q:insight' } & Record<string, unknown>) {
      if (target !== null) window.parent.postMessage(message, target)
    },
  }
}
