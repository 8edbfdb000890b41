export {
  type AuditListQuery,
  type AuditLog,
  type AuditLogOptions,
  type AuditPage,
  createAuditLog,
  HUB_AUDIT_TENANT,
} from './audit-log.ts'
export { canonicalJson, chainHash, GENESIS_HASH, sha256Hex } from './canonical.ts'
export { CHECKPOINT_KEY_FILE, type CheckpointKey, loadCheckpointKey } from './checkpoint-key.ts'
export { type Checkpoint, checkpointMessage } from './checkpoints.ts'
export { auditEventFor } from './event-for.ts'
export type { AuditAppendInput, AuditEvent, AuditOutcome, AuditRecord } from './record.ts'
export { createRefusalFloods, type RefusalFloods, type RefusalFloodsOptions } from './refusal-floods.ts'
export { type RequestAuditScope, withRequestAuditScope } from './request-scope.ts'
export type { VerifyResult } from './verify.ts'
export type { AppendResult } from './writer.ts'
