/** A second process appending to the same audit chain (used by audit-processes.test.ts). */
import { createAuditLog } from '../packages/core/src/audit/index.ts'
import { openMetadataStore } from '../packages/core/src/metadata/store.ts'

const [url, tenant, count] = process.argv.slice(2)
const store = openMetadataStore(url!)
const log = createAuditLog(store)
try {
  for (let i = 0; i < Number(count); i += 4) {
    await Promise.all(
      [0, 1, 2, 3].map((j) =>
        log.append(tenant!, {
          action: 'data.query',
          outcome: 'success',
          subject: `child-${process.pid}`,
          rowCount: i + j,
        }),
      ),
    )
  }
} finally {
  await store.close()
}
