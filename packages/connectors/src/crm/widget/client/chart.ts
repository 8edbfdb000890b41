import uPlot from 'uplot'

/** Distinct hues that keep ≥ 3:1 contrast on white (WCAG non-text contrast). */
const PALETTE = ['#1f5fbf', '#b3261e', '#1b7f3b', '#7a3db8', '#a15c00', '#00707a', '#5c5c5c']

const widthOf = (el: HTMLElement) => Math.max(260, Math.floor(el.clientWidth))

function fit(el: HTMLElement, plot: uPlot, height: number) {
  new ResizeObserver(() => plot.setSize({ width: widthOf(el), height })).observe(el)
}

/** Weekly TRx per product: one line each, weeks on a time axis. */
export function trendChart(el: HTMLElement, weeks: string[], products: { product: string; trx: number[] }[]) {
  const xs = weeks.map((w) => Date.parse(`${w}T00:00:00Z`) / 1000)
  const height = 180
  const plot = new uPlot(
    {
      width: widthOf(el),
      height,
      scales: { x: { time: true } },
      series: [
        { label: 'Week ending' },
        ...products.map((p, i) => ({ label: p.product, stroke: PALETTE[i % PALETTE.length], width: 2 })),
      ],
      axes: [{ stroke: '#333' }, { stroke: '#333', size: 40 }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    },
    [xs, ...products.map((p) => p.trx)],
    el,
  )
  fit(el, plot, height)
  return plot
}

/** An answer's first numeric column as bars over its first column's values. */
export function answerChart(el: HTMLElement, labels: string[], values: number[], label: string) {
  const height = 160
  const xs = labels.map((_, i) => i)
  const plot = new uPlot(
    {
      width: widthOf(el),
      height,
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
      series: [
        { label: 'Group' },
        {
          label,
          fill: '#1f5fbf',
          stroke: '#1f5fbf',
          paths: uPlot.paths.bars?.({ size: [0.7, 60] }),
          points: { show: false },
        },
      ],
      axes: [
        {
          stroke: '#333',
          splits: () => xs,
          values: (_u, splits) => splits.map((i) => (labels[i] ?? '').slice(0, 10)),
        },
        { stroke: '#333', size: 44 },
      ],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
    },
    [xs, values],
    el,
  )
  fit(el, plot, height)
  return plot
}
