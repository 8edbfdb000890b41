/** The two demo tenants: the same schema, different data (seed) and identifier prefixes. */
export interface DemoTenant {
  id: string
  prefix: string
  seed: number
}

export const DEMO_TENANTS: readonly DemoTenant[] = [
  { id: 'acme', prefix: 'ACM', seed: 7 },
  { id: 'globex', prefix: 'GLX', seed: 11_861 },
]
