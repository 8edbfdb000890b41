// @nl2q/powerbi-connector public API. The hub loads the default export by name.
import connector from './connector.ts'

export default connector
export { createPowerBiConnector, MEZ_PATH, ODATA_PREFIX, type PowerBiConnectorOptions } from './connector.ts'
export { buildMez, MEZ_FILES, type MezFile } from './mez/build.ts'
export type { EntityProperty, EntitySet } from './odata/entity-sets.ts'
export { metadataXml } from './odata/metadata-xml.ts'
export { parseQueryOptions, type QueryOptions } from './odata/query-options.ts'
export { countPlan, pagePlan } from './odata/read-dataset.ts'
export { type SavedQuestion, type SavedQuestionStore, savedQuestionStore } from './saved-questions/store.ts'
