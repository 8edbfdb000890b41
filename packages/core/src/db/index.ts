export {
  type ColumnInfo,
  type ColumnType,
  classifyType,
  type ForeignKeyInfo,
  HUB_TABLE_PREFIX,
  introspect,
  type SchemaInfo,
  type TableInfo,
} from './introspect.ts'
export { type DataSource, type OpenOptions, openDataSource, ping } from './knex.ts'
export { type DataSourceConfig, type Dialect, parseDataSourceUrl, redactUrl } from './url.ts'
