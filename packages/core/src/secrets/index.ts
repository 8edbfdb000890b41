export {
  generateKey,
  type KeyRing,
  keyRingOf,
  loadKeyRing,
  readKeyFile,
  SECRET_KEY_FILE,
  writeKeyFile,
} from './key-ring.ts'
export { createSecretBox, type SecretBox, secretBoxFor } from './secret-box.ts'
export { type SecretKey, SecretKeySchema, secretKeyOf } from './secret-key.ts'
export { resealStoredSecrets, secretContext } from './stored-secrets.ts'
