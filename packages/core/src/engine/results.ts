/**
 * What the engine returns for a read; the hub facade passes these on (SQL redacted by role). The
 * shapes are inferred from the data API's schemas (`api/schemas.ts`, one source for HTTP, OpenAPI
 * and MCP); this module names them for the engine and the audit so neither imports the hub.
 */
export type {
  AskInput,
  AskResult,
  DatasetSummary,
  QueryResult,
  ResultColumn,
  ResultColumnType,
  Row,
  SqlInput,
} from '../api/schemas.ts'
