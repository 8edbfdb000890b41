import { HubError } from '../errors.ts'

/** Throw the guard's one client-facing error; the message says what is not allowed and how to fix it. */
export function reject(message: string, cause?: unknown): never {
  throw new HubError('SQL_REJECTED', message, cause === undefined ? {} : { cause })
}
