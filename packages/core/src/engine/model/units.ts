import type { MeasureUnit } from '../model-types.ts'

/**
 * Units of numeric columns guessed from their words (already spelled out: `totAmt` → total amount),
 * and which money columns an analyst calls "revenue". Deterministic; an overrides file corrects them.
 */
const CURRENCY = new Set(
  'amount price cost revenue sales fee fees salary budget spend spending balance payment paid due charge charges mrr arr income profit margin tax usd eur gbp'.split(
    ' ',
  ),
)
const PERCENT = new Set(['percent', 'percentage', 'pct', 'rate', 'ratio'])
const WEIGHT = new Set(['kg', 'kgs', 'kilograms', 'lb', 'lbs', 'pounds', 'grams', 'weight', 'tons', 'tonnes'])
const DURATION = new Set(['minutes', 'mins', 'hours', 'hrs', 'seconds', 'secs', 'days', 'duration'])
const DISTANCE = new Set(['km', 'miles', 'meters', 'distance'])

export function guessUnit(words: readonly string[]): MeasureUnit | undefined {
  const last = words.at(-1) ?? ''
  if (PERCENT.has(last)) return 'percent'
  if (WEIGHT.has(last)) return 'weight'
  if (DURATION.has(last)) return 'duration'
  if (DISTANCE.has(last)) return 'distance'
  if (words.some((w) => CURRENCY.has(w))) return 'currency'
  return undefined
}

/** Money a business takes in: amounts, totals, revenue, payments — not costs, prices, fees or salaries. */
const INCOME = new Set(['amount', 'revenue', 'sales', 'paid', 'payment', 'income', 'mrr', 'arr'])
const NOT_INCOME = new Set([
  'cost',
  'price',
  'fee',
  'fees',
  'salary',
  'budget',
  'tax',
  'discount',
  'due',
  'spend',
  'balance',
])

export function isRevenueLike(words: readonly string[]): boolean {
  return words.some((w) => INCOME.has(w)) && !words.some((w) => NOT_INCOME.has(w))
}

/** What analysts call the money a business takes in. */
export const REVENUE_SYNONYMS = ['revenue', 'turnover']
