// The OData full-read benchmark lives with its connector; the root runner calls it by name.
export { run } from '../packages/powerbi-connector/bench/odata.ts'
