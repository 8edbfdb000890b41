import { testConnector } from '@nl2q/core/testing'
import { m365Connector } from './index.ts'

// m365 mounts no routes and runs no jobs: the suite checks its setup, config section and isolation.
testConnector({ connector: () => ({ ...m365Connector }) })
