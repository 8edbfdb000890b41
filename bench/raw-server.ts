/**
 * The baseline of `pnpm bench throughput`: a bare node:http + mysql2 server that answers
 * `POST {question}` by running the SQL the hub compiles for that question (read from the JSON file
 * NL2Q_RAW_QUERIES, `{ [question]: { sql, bindings } }`) on a pool of NL2Q_RAW_POOL connections
 * to NL2Q_RAW_DB, and returns the rows as JSON. No auth, audit, logging or cache: the ceiling of
 * "the same SQL over HTTP" on this machine. Prints `listening on http://…` once it listens.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import mysql from 'mysql2/promise'

const queries = JSON.parse(readFileSync(process.env.NL2Q_RAW_QUERIES ?? '', 'utf8')) as Record<
  string,
  { sql: string; bindings: unknown[] }
>
const pool = mysql.createPool({
  uri: process.env.NL2Q_RAW_DB,
  connectionLimit: Number(process.env.NL2Q_RAW_POOL ?? 8),
  dateStrings: true,
  decimalNumbers: true,
})

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const q = queries[(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { question: string }).question]
    if (!q) {
      res.writeHead(404).end()
      return
    }
    pool.query({ sql: q.sql, values: q.bindings, rowsAsArray: true }).then(
      ([rows]) => {
        const body = JSON.stringify({ rows })
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      },
      (err: unknown) => {
        res.writeHead(500).end(String(err))
      },
    )
  })
})
server.listen(0, '127.0.0.1', () => {
  const a = server.address()
  process.stdout.write(`listening on http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}\n`)
})
process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  void pool.end()
})
