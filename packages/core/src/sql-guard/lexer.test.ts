import { describe, expect, it } from 'vitest'
import { HubError } from '../errors.ts'
import { lexSql } from './lexer.ts'

function rejected(sql: string, dialect: 'mysql' | 'sqlite'): string {
  try {
    lexSql(sql, dialect)
  } catch (err) {
    expect(err).toBeInstanceOf(HubError)
    expect((err as HubError).code).toBe('SQL_REJECTED')
    return (err as HubError).message
  }
  throw new Error(`accepted: ${sql}`)
}

describe('lexSql', () => {
  it('turns every string literal into a parameter with its value unescaped the MySQL way', () => {
    const { text, strings } = lexSql("SELECT 'a\\'b', 'c\\\\d', 'e\\nf', 'g''h', '50\\%', \"dq\"", 'mysql')
    expect(text).not.toMatch(/'/)
    expect([...strings.values()]).toEqual(["a'b", 'c\\d', 'e\nf', "g'h", '50\\%', 'dq'])
  })

  it('unescapes the SQLite way: backslashes are plain characters, double quotes are names', () => {
    const { text, strings } = lexSql("SELECT 'c\\d', 'g''h', \"hcp_id\" FROM hcps", 'sqlite')
    expect([...strings.values()]).toEqual(['c\\d', "g'h"])
    expect(text).toContain('`hcp_id`')
  })

  it('treats a dialect’s string boundaries as that dialect does', () => {
    // MySQL: one string. SQLite: the string ends at \' and a second statement follows.
    expect([...lexSql("SELECT 'a\\'; DROP TABLE calls; -- '", 'mysql').strings.values()]).toEqual([
      "a'; DROP TABLE calls; -- ",
    ])
    expect(rejected("SELECT 'a\\'; DROP TABLE calls; -- '", 'sqlite')).toMatch(/one statement/)
  })

  it('reads a quoted alias after AS as a name and keeps well-formed typed literals', () => {
    const { text, strings } = lexSql("SELECT 1 AS 'Total Rx', DATE '2024-01-31'", 'mysql')
    expect(text).toContain('`Total Rx`')
    expect(text).toContain("'2024-01-31'")
    expect(strings.size).toBe(0)
    expect(rejected("SELECT DATE '2024-01-01'' OR 1'", 'mysql')).toMatch(/not a valid date/)
  })

  it('drops comments but keeps line numbers, and honours MySQL’s rule for --', () => {
    expect(lexSql('SELECT 1 -- c\n/* a\nb */ FROM t # h\n', 'mysql').text.split('\n').length).toBe(4)
    expect(lexSql('SELECT 1--1', 'mysql').text).toContain('--1')
    expect(lexSql('SELECT 1--1', 'sqlite').text).not.toContain('--1')
  })

  it('allows a trailing semicolon and comments after it, nothing else', () => {
    expect(lexSql('SELECT 1; -- done\n/* bye */  ', 'mysql').text.trim()).toBe('SELECT 1')
    expect(lexSql("SELECT ';DROP'", 'sqlite').strings.get('nl2q_s0')).toBe(';DROP')
    expect(rejected('SELECT 1; SELECT 2', 'sqlite')).toMatch(/one statement/)
    expect(rejected('SELECT 1;;', 'mysql')).toMatch(/one statement/)
  })

  it('rejects executable comments, hints, variables, parameters and stray characters', () => {
    expect(rejected('SELECT /*!50000 1 */', 'mysql')).toMatch(/Executable comments/)
    expect(rejected('SELECT /*M!100000 1 */', 'mysql')).toMatch(/Executable comments/)
    expect(rejected('SELECT /*+ BKA(t) */ 1', 'mysql')).toMatch(/hints/)
    expect(rejected('SELECT @a', 'mysql')).toMatch(/Variables/)
    expect(rejected('SELECT ?', 'sqlite')).toMatch(/Parameters/)
    expect(rejected('SELECT :a', 'sqlite')).toMatch(/Parameters/)
    expect(rejected('SELECT a := 1', 'mysql')).toMatch(/assignments/)
    expect(rejected('SELECT [x] FROM t', 'sqlite')).toMatch(/Bracket/)
    expect(rejected('SELECT 1 \\', 'mysql')).toMatch(/backslash/)
    expect(rejected('SELECT {fn NOW()}', 'mysql')).toMatch(/ODBC/)
  })

  it('rejects non-ASCII outside strings and accepts it inside', () => {
    expect(rejected('SELECT 1\uFF1B DROP TABLE t', 'mysql')).toMatch(/U\+FF1B/)
    expect(rejected('SELECT\u2028 1', 'sqlite')).toMatch(/U\+2028/)
    expect(lexSql("SELECT 'Zürich；'", 'mysql').strings.get('nl2q_s0')).toBe('Zürich；')
  })

  it('rejects unterminated strings, names and comments', () => {
    expect(rejected("SELECT 'abc", 'mysql')).toMatch(/Unterminated/)
    expect(rejected("SELECT 'abc\\'", 'mysql')).toMatch(/Unterminated/)
    expect(rejected('SELECT `abc', 'sqlite')).toMatch(/Unterminated/)
    expect(rejected('SELECT 1 /* x', 'sqlite')).toMatch(/Unterminated comment/)
  })

  it('refuses quoted names with quotes, markers or the reserved prefix', () => {
    expect(rejected('SELECT `a``b`', 'mysql')).toMatch(/not allowed/)
    expect(rejected('SELECT "a:b"', 'sqlite')).toMatch(/not allowed/)
    expect(rejected('SELECT `__nl2q_t0`', 'mysql')).toMatch(/not allowed/)
  })

  it('rejects empty input and oversize input', () => {
    expect(rejected(' -- nothing\n', 'mysql')).toMatch(/empty/)
    expect(rejected(`SELECT ${'1+'.repeat(60_000)}1`, 'mysql')).toMatch(/too long/)
  })
})
