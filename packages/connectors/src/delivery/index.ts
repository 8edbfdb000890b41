// Where exported files go: one interface, one implementation per URL scheme (sftp://, m365://, file://).
import { registerDelivery } from './destination.ts'
import { openFileDelivery } from './file.ts'
import { openSftpDelivery } from './sftp.ts'

registerDelivery('sftp:', openSftpDelivery)
registerDelivery('file:', (url) => openFileDelivery(url))

export {
  assertPlainName,
  type DeliveredFile,
  type Delivery,
  type DeliveryFactory,
  type DeliveryFile,
  openDelivery,
  type PutOptions,
  registerDelivery,
} from './destination.ts'
export { meter } from './meter.ts'
export {
  connectSftp,
  hostKeyFingerprint,
  SFTP_KEY_SECRET,
  SFTP_PASSPHRASE_SECRET,
  type SftpSettings,
  SftpSettingsSchema,
  type SftpTarget,
  sftpTarget,
} from './sftp.ts'
