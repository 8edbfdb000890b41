export {
  createPharmaSchema,
  dropPharmaSchema,
  PHARMA_TABLE_NAMES,
  PHARMA_TABLES,
  type TableDef,
} from './schema.ts'
export {
  demoSeedDate,
  MAX_SCALE,
  MIN_SCALE,
  type PharmaTable,
  type SeedOptions,
  type SeedResult,
  seedPharma,
} from './seed.ts'
export { DEMO_TENANTS, type DemoTenant } from './tenants.ts'
