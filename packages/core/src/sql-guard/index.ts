export { type GuardedSql, type GuardOptions, guardSql } from './guard.ts'
