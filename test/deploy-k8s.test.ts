import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Job } from 'kubernetes-models/batch/v1'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { loadConfig } from '../packages/core/src/config/index.ts'

/**
 * deploy/k8s validated offline against the Kubernetes 1.27 OpenAPI schemas as compiled to ajv
 * validators by `kubernetes-models` (Apache-2.0), plus the properties the hub relies on.
 */
const root = join(import.meta.dirname, '..')
const base = join(root, 'deploy/k8s/base')
const overlay = join(root, 'deploy/k8s/overlays/production')

type Manifest = { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, unknown>
interface Kustomization {
  resources: string[]
  patches?: { path: string }[]
  images?: { name: string; newName?: string; newTag?: string }[]
}

const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
}

function readYaml(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Manifest)
}

function validate(m: Manifest): string[] {
  const Model = models[`${m.apiVersion}/${m.kind}`]
  if (!Model) return [`no schema for ${m.apiVersion}/${m.kind}`]
  try {
    new Model(m as never).validate()
    return []
  } catch (err) {
    return [`${m.kind}/${m.metadata.name}: ${(err as Error).message}`]
  }
}

/**
 * The schemas above accept unknown fields (a misspelt `readinesProbe` would pass), so every
 * manifest is also type-checked as an object literal against kubernetes-models' interface for its
 * kind: TypeScript's excess-property check names any field the API does not have, at any depth.
 */
function unknownFields(list: Manifest[]): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  }
  const sources = new Map(
    list.map((m, i) => [
      join(root, `k8s-check-${i}.ts`),
      `import type { I${m.kind} } from 'kubernetes-models/${m.apiVersion}'\n` +
        `export const m: I${m.kind} = ${JSON.stringify(m, null, 1)}\n`,
    ]),
  )
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const readFile = host.readFile.bind(host)
  host.getSourceFile = (name, lang, ...rest) => {
    const text = sources.get(name)
    return text === undefined ? getSourceFile(name, lang, ...rest) : ts.createSourceFile(name, text, lang)
  }
  host.fileExists = (name) => sources.has(name) || fileExists(name)
  host.readFile = (name) => sources.get(name) ?? readFile(name)
  const program = ts.createProgram([...sources.keys()], options, host)
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && sources.has(d.file.fileName))
    .map((d) => {
      const i = [...sources.keys()].indexOf(d.file!.fileName)
      return `${list[i]!.kind}/${list[i]!.metadata.name}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`
    })
}

/** Strategic merge as kustomize applies it to what we patch: maps deep, `containers` by name. */
function merge(target: unknown, patch: unknown): unknown {
  if (Array.isArray(target) && Array.isArray(patch)) {
    const named = (x: unknown) => (x as { name?: string }).name
    if (!patch.every((p) => named(p))) return patch
    const out = [...target]
    for (const p of patch) {
      const i = out.findIndex((t) => named(t) === named(p))
      if (i >= 0) out[i] = merge(out[i], p)
      else out.push(p)
    }
    return out
  }
  if (target && patch && typeof target === 'object' && typeof patch === 'object') {
    const out: Record<string, unknown> = { ...(target as Record<string, unknown>) }
    for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v)
    return out
  }
  return patch
}

const kustomization = parse(readFileSync(join(base, 'kustomization.yaml'), 'utf8')) as Kustomization
const manifests = kustomization.resources.flatMap((r) => readYaml(join(base, r)))
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind)
const deployment = byKind('Deployment')[0] as unknown as InstanceType<typeof Deployment> & Manifest
const hubContainer = deployment.spec!.template.spec!.containers.find((c) => c.name === 'hub')!

describe('deploy/k8s', () => {
  it('lists every manifest file of the base in its kustomization', () => {
    const files = readdirSync(base).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    expect([...kustomization.resources].sort()).toEqual(files.sort())
  })

  it('validates every base manifest against the Kubernetes schemas', () => {
    expect(manifests.map((m) => `${m.kind}`).sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Job',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ].sort(),
    )
    expect(manifests.flatMap(validate)).toEqual([])
  })

  it('uses no field that the Kubernetes API does not define, and the check does catch one', () => {
    expect(unknownFields(manifests)).toEqual([])
    const typo = structuredClone(deployment) as unknown as Manifest & typeof deployment
    const hub = typo.spec!.template.spec!.containers[0] as unknown as Record<string, unknown>
    hub.readinesProbe = hub.readinessProbe
    expect(unknownFields([typo]).join('\n')).toMatch(/readinesProbe/)
  })

  it('validates the production overlay: each patch names a base object and the result is valid', () => {
    const k = parse(readFileSync(join(overlay, 'kustomization.yaml'), 'utf8')) as Kustomization
    expect(k.resources).toEqual(['../../base'])
    for (const { path } of k.patches ?? []) {
      for (const patch of readYaml(join(overlay, path))) {
        const target = manifests.find((m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name)
        expect(target, `${path} patches ${patch.kind}/${patch.metadata.name}`).toBeDefined()
        const merged = merge(target, patch) as Manifest
        expect(validate(merged)).toEqual([])
        expect(unknownFields([merged])).toEqual([])
      }
    }
    for (const image of k.images ?? []) expect(hubContainer.image).toMatch(new RegExp(`^${image.name}:`))
  })

  it('runs the hub non-root on a read-only root filesystem with a writable emptyDir /tmp and limits', () => {
    const pod = deployment.spec!.template.spec!
    expect(pod.securityContext?.runAsNonRoot).toBe(true)
    expect(pod.securityContext?.runAsUser).not.toBe(0)
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      expect(c.securityContext?.readOnlyRootFilesystem, c.name).toBe(true)
      expect(c.securityContext?.allowPrivilegeEscalation, c.name).toBe(false)
      expect(c.resources?.requests?.cpu, c.name).toBeDefined()
      expect(c.resources?.limits?.memory, c.name).toBeDefined()
    }
    const tmp = hubContainer.volumeMounts?.find((v) => v.mountPath === '/tmp')
    expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined()
  })

  it('probes the real health routes and gives SIGTERM the preStop sleep plus the hub drain time', () => {
    expect(hubContainer.livenessProbe?.httpGet?.path).toBe('/health/live')
    expect(hubContainer.readinessProbe?.httpGet?.path).toBe('/health/ready')
    const config = byKind('ConfigMap')[0] as unknown as { data: Record<string, string> }
    // the drain time as the hub reads it from this ConfigMap (secret files are not here)
    const env = Object.fromEntries(Object.entries(config.data).filter(([k]) => !k.endsWith('_FILE')))
    const drainSec = loadConfig(env).limits.shutdownGraceMs / 1000
    const sleep = hubContainer.lifecycle?.preStop?.exec?.command
    expect(sleep?.[0]).toBe('sleep')
    const preStopSec = Number(sleep?.[1])
    expect(deployment.spec!.template.spec!.terminationGracePeriodSeconds).toBeGreaterThan(
      preStopSec + drainSec,
    )
  })

  it('takes secrets only by reference to an externally created Secret, never by value', () => {
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([])
    const config = byKind('ConfigMap')[0] as unknown as { data: Record<string, string> }
    for (const [k, v] of Object.entries(config.data)) {
      expect(k).not.toMatch(/^HUB_(DATABASE_URL|REDIS_URL|JWT_SECRET)$/)
      expect(v).not.toMatch(/:\/\/[^/]*@/)
    }
    expect(config.data.HUB_DATABASE_URL_FILE).toMatch(/^\/run\/secrets\//)
    expect(config.data.HUB_REDIS_URL_FILE).toMatch(/^\/run\/secrets\//)
    const secretVolumes = deployment.spec!.template.spec!.volumes!.filter((v) => v.secret)
    expect(secretVolumes.map((v) => v.secret!.secretName)).toEqual(['nl2q-hub'])
  })

  // The HPA's requests/s comes from nl2q_http_requests_total: /metrics must really be served where
  // Prometheus is told to scrape, reachable from the monitoring namespace only.
  it('serves /metrics on a declared container port that the scrape annotations and NetworkPolicy name', () => {
    const config = byKind('ConfigMap')[0] as unknown as { data: Record<string, string> }
    const pod = deployment.spec!.template
    const annotations = pod.metadata!.annotations!
    const scrapePort = Number(annotations['prometheus.io/port'])
    expect(annotations['prometheus.io/path']).toBe('/metrics')
    const hub = pod.spec!.containers.find((c) => c.name === 'hub')!
    expect(hub.ports!.map((p) => p.containerPort)).toContain(scrapePort)
    // as the hub reads this ConfigMap (secret files are not here)
    const hubConfig = loadConfig(
      Object.fromEntries(Object.entries(config.data).filter(([k]) => !k.endsWith('_FILE'))),
    )
    expect(hubConfig.metrics.port).toBe(scrapePort)
    expect(hubConfig.metrics.host).toBe('0.0.0.0')
    expect(scrapePort).not.toBe(hubConfig.port)
    const np = byKind('NetworkPolicy')[0] as unknown as InstanceType<typeof NetworkPolicy>
    const toMetrics = np.spec!.ingress!.filter((r) => r.ports!.some((p) => p.port === scrapePort))
    expect(toMetrics.flatMap((r) => r.from!.map((f) => f.namespaceSelector!.matchLabels))).toEqual([
      { 'kubernetes.io/metadata.name': 'monitoring' },
    ])
  })

  it('scales on CPU and requests per second, keeps one pod through disruptions, migrates in a Job', () => {
    const hpa = byKind('HorizontalPodAutoscaler')[0] as unknown as InstanceType<
      typeof HorizontalPodAutoscaler
    >
    expect(hpa.spec!.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name })
    expect(hpa.spec!.metrics!.map((m) => m.type).sort()).toEqual(['Pods', 'Resource'])
    const pdb = byKind('PodDisruptionBudget')[0] as unknown as InstanceType<typeof PodDisruptionBudget>
    expect(pdb.spec!.selector!.matchLabels).toEqual(deployment.spec!.selector.matchLabels)
    const np = byKind('NetworkPolicy')[0] as unknown as InstanceType<typeof NetworkPolicy>
    expect(np.spec!.policyTypes).toEqual(['Ingress', 'Egress'])
    const job = byKind('Job')[0] as unknown as InstanceType<typeof Job>
    expect(job.spec!.template.spec!.containers[0]!.command!.slice(-1)).toEqual(['migrate'])
  })
})
