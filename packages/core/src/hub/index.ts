export { type AuditSink, createHub, type HubOptions, type HubWithControls, sha256 } from './hub.ts'
export type {
  AskInput,
  AskResult,
  AuditEventInput,
  DatasetSummary,
  Hub,
  QueryResult,
  RequestContext,
  ResultColumn,
  ResultColumnType,
  Row,
  SqlInput,
} from './types.ts'
