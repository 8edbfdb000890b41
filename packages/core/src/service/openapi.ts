import { OpenAPIHono, type z } from '@hono/zod-openapi'
import { ProblemSchema } from '../api/schemas.ts'
import { HubError } from '../errors.ts'

/** A route group whose request validation failures become VALIDATION_FAILED problems. */
export function createRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
        throw new HubError(
          'VALIDATION_FAILED',
          `Invalid request: ${issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')}`,
          {
            details: { errors: issues },
          },
        )
      }
    },
  })
}

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
})

/** The error responses every authenticated route can give. */
export const commonErrors = {
  400: problem('Invalid request'),
  401: problem('Missing or invalid credential'),
  403: problem('The role does not allow this'),
  429: problem('Rate limit exceeded'),
  503: problem(
    'Audit trail unavailable (AUDIT_UNAVAILABLE), data source down (DATA_SOURCE_UNAVAILABLE) or too many queries of the tenant (TENANT_BUSY); see Retry-After',
  ),
  504: problem('The query (QUERY_TIMEOUT) or the request (TIMEOUT) ran past its deadline'),
}

export const refusalErrors = {
  ...commonErrors,
  422: problem('The question or SQL was refused (UNANSWERABLE, READ_ONLY, UNKNOWN_FIELD, SQL_REJECTED)'),
}

/** A JSON request body; `example` (typed by the schema) is what the API reference shows. */
export const jsonBody = <T extends z.ZodType>(
  schema: T,
  description = 'Request body',
  example?: z.input<T>,
) => ({
  body: {
    content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
    required: true,
    description,
  },
})

/** A JSON response; `example` (typed by the schema) is what the API reference shows. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string, example?: z.output<T>) => ({
  description,
  content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
})
