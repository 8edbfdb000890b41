import { run as fullRead } from '../packages/powerbi-connector/bench/odata.ts'
import { pharmaOnMysql } from './lib.ts'

/**
 * The OData full-read benchmark lives with its connector; the root runner provides its database:
 * NL2Q_BENCH_DB, or the pharma demo at scale 20 on the benchmark MariaDB (seeded when missing,
 * about a minute).
 */
export async function run(): Promise<void> {
  await fullRead(process.env.NL2Q_BENCH_DB ?? (await pharmaOnMysql('nl2q_bench_s20', 20)))
}
