import { defineConfig } from 'vitest/config'

/**
 * Tests run the TypeScript sources, never a stale dist/: workspace packages export their sources
 * under the `nl2q-source` condition, which vite resolves here and every Node process the suite starts
 * (test workers, the CLI spawned through tsx, connectors resolved by name) gets from NODE_OPTIONS.
 */
const SOURCE = '--conditions=nl2q-source'
if (!process.env.NODE_OPTIONS?.includes(SOURCE))
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${SOURCE}`.trim()

/**
 * The demo data's calendar ends at the last complete week before its seed date (today by default).
 * Suites that ask about fixed periods ("Q4 2024") seed with this fixed date, which keeps the
 * generated calendar unmoved (2023-01-07 … 2024-12-28); test/demo-calendar.test.ts seeds with other
 * dates and with today.
 */
process.env.NL2Q_DEMO_SEED_DATE ??= '2025-01-01'

export default defineConfig({
  resolve: { conditions: ['nl2q-source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['nl2q-source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
