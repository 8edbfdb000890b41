import { readFileSync } from 'node:fs'

/**
 * The per-stage table of docs/architecture.md (Throughput) from a hub CPU profile
 * (`NL2Q_BENCH_PROFILE=dir pnpm bench throughput`): each sample goes to the innermost frame of its
 * stack that a stage rule matches; start-up (module loading) and idle are left out of the shares.
 *
 *   npx tsx bench/profile-stages.ts <file.cpuprofile> [requests served]
 */
interface CallFrame {
  functionName: string
  url: string
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const STAGES: [string, (f: CallFrame) => boolean][] = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['idle', (f) => f.functionName === '(idle)'],
  ['start-up (module loading)', (f) => /modules\/(cjs|esm)|cjs-module-lexer|tsx@/.test(f.url)],
  ['logging (pino)', (f) => /pino|sonic-boom|thread-stream/.test(f.url)],
  ['metrics (prom-client)', (f) => /prom-client/.test(f.url)],
  ['rate limit', (f) => /rate-limit\/|rate-limiter-flexible/.test(f.url)],
  [
    'audit: chain hash, SQLite commit, checkpoint walk',
    (f) =>
      /audit\/(sqlite-writer|mysql-writer|append-queue|canonical|verify)|canonical-json|better-sqlite3/.test(
        f.url,
      ),
  ],
  ['audit: prepare + append', (f) => /audit\/(record|audit-log|request-scope)/.test(f.url)],
  ['auth: key read, secret hash, principal', (f) => /auth\/|hot-read|tenants\/registry/.test(f.url)],
  ['plan cache', (f) => /plan-cache|engine\/nl/.test(f.url)],
  [
    'result cache, cached answer, JSON text, warnings',
    (f) => /result-cache|json-text|single-flight|data-range|engine\//.test(f.url),
  ],
  ['hub facade', (f) => /hub\/hub\.ts/.test(f.url)],
  ['body read + zod validation', (f) => /zod|validator/.test(f.url)],
  ['route handler', (f) => /service\/routes\//.test(f.url)],
  ['our middleware', (f) => /service\/middleware|service\/app\.ts|client-ip|service\/errors/.test(f.url)],
  ['Hono routing + context', (f) => /\/hono@/.test(f.url)],
  [
    'HTTP server + sockets',
    (f) =>
      /hono\+node-server|node:_http|node:http|node:net|stream_base|node:internal\/streams|undici|socketaddress|abort_controller/.test(
        f.url,
      ) || f.functionName === 'writev',
  ],
]

const [file, requests] = process.argv.slice(2)
if (!file) throw new Error('usage: profile-stages.ts <file.cpuprofile> [requests]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const stageOf = new Map<number, string>()
function classify(id: number): string {
  let stage = stageOf.get(id)
  if (stage !== undefined) return stage
  stage = 'other'
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const frame = byId.get(cur)?.callFrame
    const rule = frame && STAGES.find(([, test]) => test(frame))
    if (rule) {
      stage = rule[0]
      break
    }
  }
  stageOf.set(id, stage)
  return stage
}

const totals = new Map<string, number>()
profile.samples.forEach((id, i) => {
  const stage = classify(id)
  totals.set(stage, (totals.get(stage) ?? 0) + (profile.timeDeltas[i] ?? 0))
})
const counted = (stage: string) => stage !== 'idle' && !stage.startsWith('start-up')
const busy = [...totals].filter(([s]) => counted(s)).reduce((sum, [, us]) => sum + us, 0)
const n = Number(requests ?? 0)
for (const [stage, us] of [...totals].sort((a, b) => b[1] - a[1])) {
  const share = counted(stage) ? `${((100 * us) / busy).toFixed(1)} %` : ''
  const per = n > 0 && share ? `${(us / n).toFixed(0)} µs/request` : ''
  console.log(`${stage.padEnd(52)} ${(us / 1000).toFixed(0).padStart(7)} ms ${share.padStart(8)}  ${per}`)
}
console.log(`busy ${(busy / 1000).toFixed(0)} ms${n > 0 ? `, ${(busy / n).toFixed(0)} µs per request` : ''}`)
