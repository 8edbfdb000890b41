// Where exported files go: one interface, one implementation per URL scheme (sftp://, m365://, file://).
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
