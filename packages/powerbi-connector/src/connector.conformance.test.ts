import { testConnector } from '@nl2q/core/testing'
import { createPowerBiConnector, MEZ_PATH } from './connector.ts'

testConnector({
  connector: () => createPowerBiConnector({ pageSize: 100 }),
  // The Power Query connector file holds no data: anyone may download it.
  publicPaths: [MEZ_PATH],
  dataCalls: [
    { name: 'an OData page', send: (request) => request('/odata/products?$top=5') },
    {
      name: 'a saved question answered at save time',
      send: (request) =>
        request('/v1/saved-questions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'trx_by_region', question: 'total trx by region' }),
        }),
    },
  ],
})
