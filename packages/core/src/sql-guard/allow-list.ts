import type { Dialect } from '../db/index.ts'

/**
 * What guarded SQL may call: harmless scalar, aggregate and window functions, per dialect. Anything
 * else (SLEEP, BENCHMARK, LOAD_FILE, GET_LOCK, load_extension, printf, randomblob, DATABASE(),
 * USER(), VERSION(), …) is rejected because it is not listed here.
 */

const COMMON_SCALAR = [
  'abs',
  'ceil',
  'ceiling',
  'coalesce',
  'concat',
  'date',
  'exp',
  'floor',
  'ifnull',
  'instr',
  'length',
  'ln',
  'log',
  'log10',
  'lower',
  'ltrim',
  'mod',
  'nullif',
  'pow',
  'power',
  'replace',
  'round',
  'rtrim',
  'sign',
  'sqrt',
  'substr',
  'substring',
  'trim',
  'upper',
  'current_date',
  'current_timestamp',
]

const MYSQL_SCALAR = [
  'adddate',
  'char_length',
  'concat_ws',
  'curdate',
  'date_add',
  'date_format',
  'date_sub',
  'datediff',
  'day',
  'dayname',
  'dayofmonth',
  'dayofweek',
  'dayofyear',
  'format',
  'greatest',
  'hour',
  'if',
  'last_day',
  'lcase',
  'least',
  'left',
  'locate',
  'makedate',
  'minute',
  'month',
  'monthname',
  'now',
  'quarter',
  'right',
  'second',
  'str_to_date',
  'subdate',
  'timestampdiff',
  'truncate',
  'ucase',
  'week',
  'weekday',
  'weekofyear',
  'year',
  'yearweek',
]

const SQLITE_SCALAR = [
  'datetime',
  'iif',
  'julianday',
  'max',
  'min',
  'strftime',
  'time',
  'unixepoch',
  'group_concat',
]

const POSTGRES_SCALAR = [
  'btrim',
  'char_length',
  'character_length',
  'date_part',
  'date_trunc',
  'greatest',
  'initcap',
  'least',
  'left',
  'lpad',
  'position',
  'right',
  'rpad',
  'split_part',
  'strpos',
  'to_char',
  'to_date',
  'trunc',
]

const AGGREGATE_COMMON = ['avg', 'count', 'group_concat', 'max', 'min', 'sum']
const AGGREGATE_MYSQL = ['std', 'stddev', 'stddev_pop', 'stddev_samp', 'var_pop', 'var_samp', 'variance']
const AGGREGATE_SQLITE = ['total']
const AGGREGATE_POSTGRES = [
  'bool_and',
  'bool_or',
  'every',
  'stddev',
  'stddev_pop',
  'stddev_samp',
  'string_agg',
  'var_pop',
  'var_samp',
  'variance',
]

const WINDOW = [
  'cume_dist',
  'dense_rank',
  'first_value',
  'lag',
  'last_value',
  'lead',
  'nth_value',
  'ntile',
  'percent_rank',
  'rank',
  'row_number',
]

export interface AllowList {
  scalar: ReadonlySet<string>
  aggregate: ReadonlySet<string>
  window: ReadonlySet<string>
  castTypes: ReadonlySet<string>
  units: ReadonlySet<string>
  binary: ReadonlySet<string>
  unary: ReadonlySet<string>
}

const UNITS = ['MICROSECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR']

const BINARY = [
  '+',
  '-',
  '*',
  '/',
  '%',
  'DIV',
  'MOD',
  '=',
  '!=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  'AND',
  'OR',
  'LIKE',
  'NOT LIKE',
  'IN',
  'NOT IN',
  'BETWEEN',
  'NOT BETWEEN',
  'IS',
  'IS NOT',
]

const lists: Record<Dialect, AllowList> = {
  postgresql: {
    scalar: new Set([...COMMON_SCALAR, ...POSTGRES_SCALAR]),
    aggregate: new Set([...AGGREGATE_COMMON, ...AGGREGATE_POSTGRES]),
    window: new Set(WINDOW),
    castTypes: new Set([
      'INTEGER',
      'INT',
      'BIGINT',
      'SMALLINT',
      'NUMERIC',
      'DECIMAL',
      'REAL',
      'DOUBLE PRECISION',
      'FLOAT',
      'TEXT',
      'CHAR',
      'VARCHAR',
      'DATE',
      'TIMESTAMP',
      'BOOLEAN',
    ]),
    units: new Set(UNITS),
    binary: new Set([...BINARY, '||', 'ILIKE', 'NOT ILIKE']),
    unary: new Set(['NOT', '-', '+']),
  },
  mysql: {
    scalar: new Set([...COMMON_SCALAR, ...MYSQL_SCALAR]),
    aggregate: new Set([...AGGREGATE_COMMON, ...AGGREGATE_MYSQL]),
    window: new Set(WINDOW),
    castTypes: new Set([
      'CHAR',
      'SIGNED',
      'SIGNED INTEGER',
      'UNSIGNED',
      'UNSIGNED INTEGER',
      'DECIMAL',
      'DATE',
      'DATETIME',
      'TIME',
      'DOUBLE',
      'FLOAT',
      'INTEGER',
      'INT',
    ]),
    units: new Set(UNITS),
    binary: new Set([...BINARY, '<=>', 'XOR', '&&', '||']),
    unary: new Set(['NOT', '-', '+', '!']),
  },
  sqlite: {
    scalar: new Set([...COMMON_SCALAR, ...SQLITE_SCALAR]),
    aggregate: new Set([...AGGREGATE_COMMON, ...AGGREGATE_SQLITE]),
    window: new Set(WINDOW),
    castTypes: new Set([
      'INTEGER',
      'INT',
      'REAL',
      'TEXT',
      'NUMERIC',
      'DECIMAL',
      'FLOAT',
      'DOUBLE',
      'DATE',
      'CHAR',
      'VARCHAR',
    ]),
    units: new Set(UNITS),
    binary: new Set([...BINARY, '||', 'GLOB', 'NOT GLOB']),
    unary: new Set(['NOT', '-', '+']),
  },
}

export function allowList(dialect: Dialect): AllowList {
  return lists[dialect]
}

/** Names that users try on purpose; listed only to give a pointed message. */
export const DANGEROUS_FUNCTIONS = new Set([
  'sleep',
  'benchmark',
  'load_file',
  'get_lock',
  'release_lock',
  'release_all_locks',
  'is_free_lock',
  'is_used_lock',
  'master_pos_wait',
  'load_extension',
  'readfile',
  'writefile',
  'edit',
  'fts3_tokenizer',
  'randomblob',
  'zeroblob',
  'printf',
  'database',
  'schema',
  'user',
  'current_user',
  'system_user',
  'session_user',
  'version',
  'connection_id',
  'sqlite_version',
  'sys_exec',
  'sys_eval',
])
