import { HubError } from '../../errors.ts'

/** Refusals carry suggestions a caller can show ("Try: Total TRx by region last year"). */
export function unanswerable(message: string, suggestions: string[] = [], words?: string[]): HubError {
  return new HubError('UNANSWERABLE', message, { details: { suggestions, ...(words ? { words } : {}) } })
}

export function unknownField(message: string, suggestions: string[] = []): HubError {
  return new HubError('UNKNOWN_FIELD', message, { details: { suggestions } })
}

export function ambiguous(message: string, suggestions: string[] = []): HubError {
  return new HubError('AMBIGUOUS', message, { details: { suggestions } })
}

export function readOnly(word: string): HubError {
  return new HubError(
    'READ_ONLY',
    `The hub only reads data; it will not ${word.toLowerCase()} anything. Ask a question about the data instead.`,
    { details: { suggestions: [] } },
  )
}

/** A refusal without suggestions yet gets the engine's example questions attached. */
export function withSuggestions(err: unknown, suggestions: string[]): unknown {
  if (!(err instanceof HubError)) return err
  const existing = err.details?.suggestions
  if (Array.isArray(existing) && existing.length > 0) return err
  if (!['UNANSWERABLE', 'UNKNOWN_FIELD', 'AMBIGUOUS', 'UNPLACEABLE_WORDS'].includes(err.code)) return err
  return new HubError(err.code, err.message, { details: { ...err.details, suggestions } })
}
