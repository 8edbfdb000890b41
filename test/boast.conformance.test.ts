import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll } from 'vitest'
import { exportJob } from '../packages/connectors/src/boast/index.ts'
import { testConnector } from '../packages/core/src/testing/index.ts'
import { boast } from './boast-helpers.ts'

// The BOAST connector runs the shared suite (narrow context, tenant isolation, audited jobs). Its
// export job delivers to a file:// directory here; the poll job needs an SFTP inbox and is run
// against a real sshd in boast-inbound.test.ts.
const dir = mkdtempSync(join(tmpdir(), 'nl2q-boast-conformance-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

testConnector({
  connector: () => {
    return { ...boast(), jobs: { export: exportJob } }
  },
  jobInputs: {
    export: { question: 'total trx by month in 2024', to: pathToFileURL(dir).href, asOf: '2025-01-15' },
  },
})
