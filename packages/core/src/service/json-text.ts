const texts = new WeakMap<object, string>()

/**
 * JSON text of a response body. A frozen body is one the hub shares between requests (a cached
 * answer, hub/hub.ts): its text is built once and kept as long as the answer is.
 */
export function jsonText(value: object): string {
  if (!Object.isFrozen(value)) return JSON.stringify(value)
  let text = texts.get(value)
  if (text === undefined) {
    text = JSON.stringify(value)
    texts.set(value, text)
  }
  return text
}
