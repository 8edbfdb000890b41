import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Metrics a connector may register: named `nl2q_<connector>_<name>` in the hub's registry. */
export interface ConnectorMetrics {
  counter<L extends string = never>(name: string, help: string, labelNames?: L[]): Counter<L>
  gauge<L extends string = never>(name: string, help: string, labelNames?: L[]): Gauge<L>
  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames?: L[],
    buckets?: number[],
  ): Histogram<L>
}

export function connectorMetrics(registry: Registry, connector: string): ConnectorMetrics {
  const full = (name: string) => `nl2q_${connector}_${name}`
  // A metric asked for twice (setup, then routes) is the same metric.
  const existing = <M>(name: string) => registry.getSingleMetric(full(name)) as M | undefined
  return {
    counter: (name, help, labelNames = []) =>
      existing(name) ?? new Counter({ name: full(name), help, labelNames, registers: [registry] }),
    gauge: (name, help, labelNames = []) =>
      existing(name) ?? new Gauge({ name: full(name), help, labelNames, registers: [registry] }),
    histogram: (name, help, labelNames = [], buckets) =>
      existing(name) ??
      new Histogram({
        name: full(name),
        help,
        labelNames,
        registers: [registry],
        ...(buckets ? { buckets } : {}),
      }),
  }
}
