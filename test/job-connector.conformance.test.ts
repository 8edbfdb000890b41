import { testConnector } from '../packages/core/src/testing/index.ts'
import jobConnector from './fixtures/job-connector.ts'

// A connector made of a job only (what CRM sync and BOAST exports will look like) runs the suite too.
testConnector({ connector: () => ({ ...jobConnector }), jobInputs: { sync: { n: 2 } } })
