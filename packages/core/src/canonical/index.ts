export { canonicalHash, canonicalJson, sha256Hex } from './canonical-json.ts'
export { planHash, policyKey } from './keys.ts'
