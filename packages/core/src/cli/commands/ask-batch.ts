import { z } from 'zod'
import { IsoDateSchema } from '../../api/schemas.ts'
import { HubError, isHubError } from '../../errors.ts'

/**
 * `hub ask --batch FILE`: one question per line, either plain text or a JSON object
 * `{"id"?, "question", "asOf"?}` (the evaluation's format; other keys are ignored). Blank lines and
 * lines starting with `#` are skipped. A line that is not a question becomes a per-line
 * BAD_REQUEST answer, never a stop of the whole batch.
 */
const BatchLineSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  question: z.string().trim().min(1, 'needs a "question" string'),
  asOf: IsoDateSchema.optional(),
})

export interface BatchQuestion {
  /** The line's own id, else its 1-based line number. */
  id: string | number
  question: string
  asOf?: string
}

export type BatchLine = BatchQuestion | { id: string | number; error: HubError }

/** Every question line of a batch file, in order (blank and `#` lines left out). */
export function parseBatch(text: string): BatchLine[] {
  const out: BatchLine[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    const lineNo = i + 1
    if (line === '' || line.startsWith('#')) return
    if (!line.startsWith('{')) {
      out.push({ id: lineNo, question: line })
      return
    }
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch (cause) {
      out.push({
        id: lineNo,
        error: new HubError('BAD_REQUEST', `Line ${lineNo} starts with { but is not valid JSON`, { cause }),
      })
      return
    }
    const parsed = BatchLineSchema.safeParse(json)
    if (!parsed.success) {
      const id =
        typeof (json as { id?: unknown }).id === 'string' || typeof (json as { id?: unknown }).id === 'number'
      const issue = parsed.error.issues[0]
      out.push({
        id: id ? (json as { id: string | number }).id : lineNo,
        error: new HubError(
          'BAD_REQUEST',
          `Line ${lineNo}: ${issue?.path.join('.') || 'the line'} ${issue?.message ?? 'is not a question'}`,
        ),
      })
      return
    }
    const { id, question, asOf } = parsed.data
    out.push({ id: id ?? lineNo, question, ...(asOf ? { asOf } : {}) })
  })
  return out
}

/** A refusal (the question was understood as one the hub will not answer): 422 codes. */
export function isRefusal(err: unknown): boolean {
  return isHubError(err) && err.status === 422
}
