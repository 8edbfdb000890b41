import type { Aggregation } from '../model-types.ts'
import type { TimeGrain } from '../plan.ts'

/**
 * The parser's closed vocabulary: words whose meaning does not depend on the tenant's schema.
 * Phrases are matched on lower-case words, longest first.
 */
export type CmpOp = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne'

export type Keyword =
  | { k: 'agg'; agg: Aggregation; superlative?: 'asc' | 'desc' }
  | { k: 'count' }
  | { k: 'distinct' }
  | { k: 'group' }
  | { k: 'cmp'; op: CmpOp; soft?: boolean; postfix?: boolean }
  | { k: 'between' }
  | { k: 'top'; dir: 'asc' | 'desc' }
  | { k: 'most'; dir: 'asc' | 'desc' }
  | { k: 'list' }
  | { k: 'which' }
  | { k: 'vs' }
  | { k: 'combined' }
  | { k: 'and' }
  | { k: 'or' }
  | { k: 'comma' }
  | { k: 'not' }
  /** `over`: "quarter over quarter", "YoY" — each period compared with the one before. */
  | { k: 'grain'; grain: TimeGrain; over?: boolean }
  | { k: 'grainNoun'; grain: TimeGrain }
  | { k: 'trend' }
  | { k: 'sort'; dir: 'asc' | 'desc' }
  | { k: 'dir'; dir: 'asc' | 'desc' }
  | { k: 'with' }
  | { k: 'relverb' }
  | { k: 'unit' }
  | { k: 'write'; leadingOnly?: boolean }
  | { k: 'both' }
  /** Period-over-period change; `write`: also a leading imperative ("change the territory …"). */
  | { k: 'change'; pct?: boolean; rank?: 'asc' | 'desc'; write?: boolean }
  | { k: 'share'; market?: boolean }

const table: [string, Keyword][] = []
const add = (phrases: string, kw: Keyword) => {
  for (const p of phrases.split('|')) table.push([p.trim(), kw])
}

add('market share of|market share|share of market', { k: 'share', market: true })
add(
  'share of|share|percent of|percentage of|% of|pct of|proportion of|fraction of|portion of|percent of total|share of total|% of total|percentage of total',
  { k: 'share' },
)
add(
  'percent change|percentage change|% change|pct change|change in percent|growth rate|percent growth|percentage growth|% growth|growth in percent',
  { k: 'change', pct: true },
)
add('fastest growing|fastest-growing|most growth|biggest growth|largest growth|biggest gainers|top gainers', {
  k: 'change',
  rank: 'desc',
})
add('slowest growing|least growth|biggest decline|largest decline|biggest losers|biggest drop|largest drop', {
  k: 'change',
  rank: 'asc',
})
add(
  'growth|grew|grow|grown|growing|change in|changes in|difference in|delta in|delta|difference|differences',
  {
    k: 'change',
  },
)
add('change|changes|changed|increase|increased|decrease|decreased|decline|declined', {
  k: 'change',
  write: true,
})
add('total|sum|sum of|sum total|grand total|overall total|aggregate', { k: 'agg', agg: 'sum' })
add('average|avg|mean|average of|avg of|mean of', { k: 'agg', agg: 'avg' })
add('minimum|min|min of|minimum of', { k: 'agg', agg: 'min', superlative: 'asc' })
add('maximum|max|max of|maximum of', { k: 'agg', agg: 'max', superlative: 'desc' })
add('how many|how much|number of|count of|count|counts|no of|# of|num of|amount of|tally of', {
  k: 'count',
})
add('distinct|unique|different|individual|separate', { k: 'distinct' })
add(
  'by|per|for each|in each|each|for every|every|across|across each|split by|split out by|broken down by|broken out by|break down by|breakdown by|grouped by|group by|broken down per|by each|for all of the|within each|segmented by|sliced by',
  { k: 'group' },
)
add('across all|across all of the|for all|in all|of all|all of|overall|in total|altogether|all together', {
  k: 'combined',
})
add('combined|together|put together|summed together|added together|as a whole|collectively', {
  k: 'combined',
})
add(
  'more than|greater than|larger than|bigger than|higher than|exceeding|exceeds|exceeded|in excess of|>|above|over|upwards of',
  {
    k: 'cmp',
    op: 'gt',
  },
)
add('at least|no less than|not less than|no fewer than|>=|minimum of at least|a minimum of', {
  k: 'cmp',
  op: 'gte',
})
add('less than|fewer than|lower than|smaller than|under|below|<|beneath', { k: 'cmp', op: 'lt' })
add('at most|no more than|not more than|up to|<=|a maximum of', { k: 'cmp', op: 'lte' })
add('equal to|equals|equal|exactly|=|precisely', { k: 'cmp', op: 'eq' })
add('or more|or greater|or higher|or above|plus', { k: 'cmp', op: 'gte', postfix: true })
add('or less|or fewer|or lower|or below', { k: 'cmp', op: 'lte', postfix: true })
add('between', { k: 'between' })
add('top|best|leading|biggest top', { k: 'top', dir: 'desc' })
add('bottom|worst|lowest ranked|least performing|weakest', { k: 'top', dir: 'asc' })
add(
  'most|highest|largest|biggest|greatest|the most|most often|most frequently|most commonly|the most often|the most frequently|most frequent|most common|most number of|maximum number of|highest number of|largest number of|max number of|strongest|heaviest|longest',
  {
    k: 'most',
    dir: 'desc',
  },
)
add(
  'least|lowest|smallest|fewest|the least|least often|least frequently|least commonly|least frequent|least common|least number of|lowest number of|smallest number of|min number of|shortest|lightest',
  {
    k: 'most',
    dir: 'asc',
  },
)
add(
  'list|show|display|give|get|find|fetch|pull|return|see|view|provide|enumerate|tell|name|identify|report|breakdown of|break down of|split of|breakdown',
  { k: 'list' },
)
add('which|what|who|whom|when', { k: 'which' })
// "both X and Y" asks for rows having each value: not a filter the parser can express yet
add('both|all of both|each and every', { k: 'both' })
add(
  'vs|versus|v|compared to|compared with|compare|comparing|comparison of|against|relative to|side by side|respectively|separately|individually|each of',
  {
    k: 'vs',
  },
)
add('and|as well as|plus also|along with|&', { k: 'and' })
add('or|either', { k: 'or' })
add('but|yet|while', { k: 'and' })
add(',|;', { k: 'comma' })
add(
  'not|non|excluding|exclude|except|except for|other than|without|apart from|besides|no|isnt|arent|wasnt|werent|dont|doesnt|didnt|never|neither|nor|minus',
  {
    k: 'not',
  },
)
for (const [grain, unit, short] of [
  ['day', 'day', 'dod'],
  ['week', 'week', 'wow'],
  ['month', 'month', 'mom'],
  ['quarter', 'quarter', 'qoq'],
  ['year', 'year', 'yoy'],
] as const)
  add(
    `${unit} over ${unit}|${unit} on ${unit}|${short}|${unit} over prior ${unit}|${unit} over previous ${unit}`,
    {
      k: 'grain',
      grain,
      over: true,
    },
  )
add('daily|per day|a day|day by day|each day', { k: 'grain', grain: 'day' })
add('weekly|per week|a week|week by week|each week|weekly basis', {
  k: 'grain',
  grain: 'week',
})
add('monthly|per month|a month|month by month|each month|monthly basis', {
  k: 'grain',
  grain: 'month',
})
add('quarterly|per quarter|a quarter|quarter by quarter|each quarter|quarterly basis', {
  k: 'grain',
  grain: 'quarter',
})
add('yearly|annual|annually|per year|a year|year by year|each year|annual basis|yearly basis', {
  k: 'grain',
  grain: 'year',
})
add('day|days|date|dates', { k: 'grainNoun', grain: 'day' })
add('week|weeks', { k: 'grainNoun', grain: 'week' })
add('month|months', { k: 'grainNoun', grain: 'month' })
add('quarter|quarters|qtr', { k: 'grainNoun', grain: 'quarter' })
add('year|years', { k: 'grainNoun', grain: 'year' })
add(
  'trend|trends|trending|trended|over time|time series|timeline|history|evolution|progression|development',
  {
    k: 'trend',
  },
)
add('sorted by|sort by|ordered by|order by|sorted|in order of|arranged by|sorted from|arranged from', {
  k: 'sort',
  dir: 'asc',
})
add('ranked by|rank by|rank|ranked|ranking|ranking of|ranked from', { k: 'sort', dir: 'desc' })
add('ascending|asc|increasing|smallest first|lowest first|low to high', { k: 'dir', dir: 'asc' })
add('descending|desc|decreasing|largest first|highest first|high to low|biggest first', {
  k: 'dir',
  dir: 'desc',
})
add(
  'with|having|that have|that has|who have|who has|that had|who had|where|whose|which have|which had|with a|with an|that',
  {
    k: 'with',
  },
)
add(
  'ordered|handled|handle|handles|handling|managed|manage|manages|worked on|work on|work|works|worked|working|employed|based|located|served|serve|serves|processed|process|resolved|resolve|submitted|submit|raised|raise|opened|created|answered|took|taken|take|spent|spend|earned|earn|paid|pay|shipped|ship|delivered|deliver|used|use|uses|visited|wrote|write|writes|written|writing|prescribed|prescribe|prescribes|prescribing|bought|buy|buys|purchased|purchase|purchases|sold|sell|sells|made|make|makes|placed|place|received|receive|receives|got|get|generated|generate|produced|produce|recorded|logged|booked|did|do|does|done|doing|had|have|has|happened|occurred|took place|came|come|comes|coming|came in|come in|coming in',
  { k: 'relverb' },
)
add('minutes|minute|mins|min|hours|hrs|seconds|secs|dollars|usd|bucks|percent|pct|%|times', { k: 'unit' })
add(
  'delete|deleting|remove|removing|drop|dropping|truncate|update|updating|insert|inserting|alter|modify|modifying|erase|wipe|purge|overwrite|rename|grant|revoke|destroy|upsert|replace|reset|clear out|undo',
  { k: 'write' },
)
add(
  'create|add|set|change|edit|make|assign|move|mark|cancel|schedule|book|approve|reject|send|post|put|save|store|load|import|upload|merge|fix|correct|increase|decrease|raise|lower',
  {
    k: 'write',
    leadingOnly: true,
  },
)

/** Keyword phrases indexed by their first word; each list longest first. */
export const KEYWORDS: Map<string, { words: string[]; kw: Keyword }[]> = (() => {
  const m = new Map<string, { words: string[]; kw: Keyword }[]>()
  for (const [phrase, kw] of table) {
    const words = phrase.split(/\s+/)
    const first = words[0] ?? ''
    const list = m.get(first) ?? []
    // a later duplicate (e.g. "make" as write verb) never shadows an earlier meaning
    if (!list.some((e) => e.words.join(' ') === words.join(' '))) list.push({ words, kw })
    m.set(first, list)
  }
  for (const list of m.values()) list.sort((a, b) => b.words.length - a.words.length)
  return m
})()

/**
 * Words that carry no meaning for the query: articles, auxiliaries, pronouns, politeness,
 * prepositions whose role the surrounding structure already gives.
 */
export const FILLER = new Set(
  `a an the of for in on at to from into onto during within is are was were be been being am there here
  me my i we us you your please can could would will shall should may might must let lets kindly
  just only also all any some them they their its it this that these those as so such about regarding
  for the by the what's whats whose how much many much data info information details? figures numbers stats
  statistics value values amount amounts volume level levels metric metrics overall currently ever so far
  dr mr mrs ms prof like want need know see look looking wanted interested tell give show me please thanks thank hi hello hey
  okay ok um well now then both respectively currently right total-wise
  record records entries entry rows row table tables list listing report breakdown summary overview
  there's theres exist exists existing existed available recorded ones one
  were are is was did do does has have had been be being happen happened`
    .split(/\s+/)
    .filter((w) => w && !w.includes('?')),
)
/** Words that mean "a data question" and nothing else. */
FILLER.delete('list')
FILLER.delete('breakdown')
FILLER.delete('ones')

/** Filler words that may never be a value match unless typed with the value's capitals (city "New"). */
export const COMMON_WORDS = new Set([...FILLER, ...table.map(([p]) => p).filter((p) => !p.includes(' '))])
