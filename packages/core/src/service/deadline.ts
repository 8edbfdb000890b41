/** Resolve with `fn`'s result, or with `onTimeout()` once `ms` passed (the work is not awaited further). */
export async function withDeadline<T>(ms: number, fn: () => Promise<T>, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms)
    timer.unref()
  })
  try {
    return await Promise.race([fn(), late])
  } finally {
    clearTimeout(timer)
  }
}

/** How long a health probe waits for any one dependency. */
export const HEALTH_DEADLINE_MS = 2000
