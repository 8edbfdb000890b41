// Where exported files go: one interface, one implementation per URL scheme (sftp://, m365://, file://).
export {
  type DeliveredFile,
  type Delivery,
  type DeliveryFactory,
  type DeliveryFile,
  openDelivery,
  registerDelivery,
} from './destination.ts'
