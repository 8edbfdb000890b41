import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as PQLS from '@microsoft/powerquery-language-services'
import * as PQP from '@microsoft/powerquery-parser'
import { ParseBehavior } from '@microsoft/powerquery-parser/lib/powerquery-parser/parser/parseBehavior.js'
import { unzipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { buildMez, MEZ_FILES } from './mez/build.ts'

/**
 * The Power Query connector (packages/powerbi-connector/connector): every document parses with
 * Microsoft's M parser, its structure is checked on the parse tree, the language service reports no
 * diagnostics against a checked-in allow-list of standard-library names, and NL2Q.mez holds every
 * file and string the connector loads.
 */
const PKG = join(import.meta.dirname, '..')
const DIR = join(PKG, 'connector')
const read = (name: string) => readFileSync(join(DIR, name), 'utf8').replace(/^\uFEFF/, '')
const documents = readdirSync(DIR).filter((f) => /\.(pq|pqm)$/.test(f))

// biome-ignore lint/suspicious/noExplicitAny: the M AST is walked generically
type Node = any

async function parse(name: string): Promise<Node> {
  // Section documents (.pq) parse as sections; modules (.pqm, loaded with Expression.Evaluate) are expressions.
  const parseBehavior = name.endsWith('.pqm') ? ParseBehavior.ParseExpression : ParseBehavior.ParseSection
  const task = await PQP.TaskUtils.tryLexParse({ ...PQP.DefaultSettings, parseBehavior }, read(name))
  if (!PQP.TaskUtils.isParseStageOk(task)) {
    const error = 'error' in task ? String((task.error as Error).message) : 'unknown error'
    throw new Error(`${name} does not parse: ${error}`)
  }
  return task.ast
}

function* walk(node: Node): Generator<Node> {
  if (!node || typeof node !== 'object') return
  if (typeof node.kind === 'string') yield node
  for (const [key, value] of Object.entries(node)) {
    if (key === 'tokenRange') continue
    if (Array.isArray(value)) for (const v of value) yield* walk(v)
    else if (value && typeof value === 'object') yield* walk(value)
  }
}

const text = (literal: string) => JSON.parse(literal) as string
const members = (ast: Node): Node[] => ast.sectionMembers.elements
const memberNamed = (ast: Node, name: string) =>
  members(ast).find((m) => m.namePairedExpression.key.literal === name)
const recordFields = (node: Node): Map<string, Node> => {
  const out = new Map<string, Node>()
  for (const n of walk(node))
    if (
      (n.kind === 'GeneralizedIdentifierPairedExpression' ||
        n.kind === 'GeneralizedIdentifierPairedAnyLiteral') &&
      !out.has(n.key.literal)
    )
      out.set(n.key.literal, n.value)
  return out
}

/** `Name("literal")` invocations anywhere in a tree: the function name and its first text argument. */
function textInvocations(ast: Node, names: string[]): { fn: string; arg: string }[] {
  const out: { fn: string; arg: string }[] = []
  for (const n of walk(ast)) {
    if (n.kind !== 'RecursivePrimaryExpression' || n.head?.kind !== 'IdentifierExpression') continue
    const fn = n.head.identifier.literal as string
    const invoke = n.recursiveExpressions.elements[0]
    const first = invoke?.kind === 'InvokeExpression' ? invoke.content.elements[0]?.node : undefined
    if (names.includes(fn) && first?.kind === 'LiteralExpression' && first.literalKind === 'Text')
      out.push({ fn, arg: text(first.literal) })
  }
  return out
}

describe('Power Query connector sources', () => {
  it('parses every .pq as a section document and every .pqm as an expression', async () => {
    expect(documents).toEqual(
      expect.arrayContaining(['NL2Q.pq', 'NL2Q.query.pq', 'ODataFilter.pqm', 'SchemaTransformTable.pqm']),
    )
    for (const name of documents) {
      const ast = await parse(name)
      if (name.endsWith('.pqm')) expect(ast.kind, name).not.toBe('Section')
      else expect(ast.kind, name).toBe('Section')
    }
  })

  it('has exactly one shared member, with DataSource.Kind and Publish naming members of the section', async () => {
    const ast = await parse('NL2Q.pq')
    expect(ast.name.literal).toBe('NL2Q')
    const shared = members(ast).filter((m) => m.sharedConstant)
    expect(shared.map((m) => m.namePairedExpression.key.literal)).toEqual(['NL2Q.Contents'])
    const attributes = recordFields(shared[0].literalAttributes)
    const kind = text(attributes.get('DataSource.Kind').literal)
    const publish = text(attributes.get('Publish').literal)
    expect(kind).toBe('NL2Q')
    const kindRecord = recordFields(memberNamed(ast, kind).namePairedExpression.value)
    expect([...kindRecord.keys()]).toEqual(
      expect.arrayContaining(['TestConnection', 'Authentication', 'Key']),
    )
    const publishRecord = recordFields(memberNamed(ast, publish).namePairedExpression.value)
    expect([...publishRecord.keys()]).toEqual(
      expect.arrayContaining(['ButtonText', 'Category', 'SourceImage']),
    )
  })

  it('names the shared function in TestConnection so that gateway refresh can test the source', async () => {
    const ast = await parse('NL2Q.pq')
    const test = recordFields(memberNamed(ast, 'NL2Q').namePairedExpression.value).get('TestConnection')
    expect(test.kind).toBe('FunctionExpression')
    const list = test.expression
    expect(list.kind).toBe('ListExpression')
    const first = list.content.elements[0].node
    const named = text(first.literal)
    const target = memberNamed(ast, named)
    expect(target?.sharedConstant).toBeTruthy()
  })

  it('keys the credential on the URL only: question is optional and not a data-source path part', async () => {
    const ast = await parse('NL2Q.pq')
    const shared = memberNamed(ast, 'NL2Q.Contents').namePairedExpression.value
    const replaced = [...walk(shared)].filter((n) => n.kind === 'Identifier').map((n) => n.literal)
    expect(replaced).toContain('NL2QType')
    const fnType = [...walk(memberNamed(ast, 'NL2QType'))].find((n) => n.kind === 'FunctionType')
    const params: Node[] = fnType.parameters.content.elements.map((e: Node) => e.node)
    const byName = new Map(params.map((p) => [p.name.literal, p]))
    expect([...byName.keys()]).toEqual(['url', 'question'])
    expect(byName.get('url').optionalConstant).toBeFalsy()
    expect(byName.get('question').optionalConstant).toBeTruthy()
    const meta = recordFields(byName.get('question'))
    expect(meta.get('DataSource.Path')?.literal).toBe('false')
  })

  it('validates with the M language service without diagnostics, given the allow-listed standard library', async () => {
    const allowed = readFileSync(join(PKG, 'm-stdlib.allowlist'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
    const definitions = new Map<string, PQLS.Library.TLibraryDefinition>()
    // The query file calls the connector's own shared function.
    for (const name of [...allowed, 'NL2Q.Contents'])
      definitions.set(name, {
        kind: PQLS.Library.LibraryDefinitionKind.Constant,
        label: name,
        description: name,
        asPowerQueryType: PQP.Language.Type.AnyInstance,
        completionItemKind: 21,
      } as PQLS.Library.LibraryConstant)
    const library: PQLS.Library.ILibrary = {
      externalTypeResolver: PQLS.ExternalType.noOpExternalTypeResolver,
      libraryDefinitions: {
        staticLibraryDefinitions: definitions,
        dynamicLibraryDefinitions: () => new Map(),
      },
    }
    // Primitive type strategy: the extended one hits an invariant in this release on `each` in records.
    const inspection = PQLS.InspectionUtils.inspectionSettings(PQP.DefaultSettings, {
      library,
      isWorkspaceCacheAllowed: false,
      typeStrategy: PQLS.TypeStrategy.Primitive,
    })
    const validation = PQLS.ValidationSettingsUtils.createValidationSettings(inspection, 'nl2q', {
      checkUnknownIdentifiers: true,
      checkForDuplicateIdentifiers: true,
      checkInvokeExpressions: true,
      library,
    })
    const analysis: PQLS.AnalysisSettings = {
      inspectionSettings: inspection,
      isWorkspaceCacheAllowed: false,
      initialCorrelationId: undefined,
      traceManager: PQP.Trace.NoOpTraceManagerInstance,
    }
    // The check can fail: a name outside the allow-list is reported.
    const probe = await PQLS.validate(
      PQLS.textDocument('probe.pq', 1, 'section P; shared X = Text.Upper("a") & Not.AFunction("b");'),
      analysis,
      validation,
    )
    if (!PQP.ResultUtils.isOk(probe)) throw probe.error
    expect(probe.value?.diagnostics.map((d) => d.message).join(' ')).toContain('Not.AFunction')
    for (const name of documents) {
      const result = await PQLS.validate(PQLS.textDocument(name, 1, read(name)), analysis, validation)
      if (!PQP.ResultUtils.isOk(result)) throw result.error
      expect(result.value?.hasSyntaxError, name).toBe(false)
      expect(
        result.value?.diagnostics.map((d) => `${name}:${d.range.start.line + 1} ${d.message}`),
        name,
      ).toEqual([])
    }
  }, 60_000)
})

describe('NL2Q.mez', () => {
  it('contains every file the connector loads and every string key it uses', async () => {
    const zip = unzipSync(buildMez())
    const names = Object.keys(zip)
    expect(names).toEqual(expect.arrayContaining(['NL2Q.pq', 'resources.resx', '[Content_Types].xml']))
    expect(names.some((n) => n.endsWith('.query.pq'))).toBe(false)
    const resx = new TextDecoder().decode(zip['resources.resx'])
    for (const name of documents.filter((d) => !d.endsWith('.query.pq'))) {
      const ast = await parse(name)
      for (const { fn, arg } of textInvocations(ast, [
        'Extension.Contents',
        'Extension.LoadFunction',
        'Extension.LoadString',
      ])) {
        if (fn === 'Extension.LoadString')
          expect(resx, `${name}: string ${arg}`).toContain(`<data name="${arg}"`)
        else expect(names, `${name}: ${fn}("${arg}")`).toContain(arg)
      }
    }
  })

  it('carries real PNG icons from 16 to 64 px', () => {
    const icons = MEZ_FILES().filter((f) => f.name.endsWith('.png'))
    const sizes = icons.map((f) => {
      const b = Buffer.from(f.data)
      expect(b.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
      expect(b.readUInt32BE(16)).toBe(b.readUInt32BE(20))
      return b.readUInt32BE(16)
    })
    expect(sizes).toEqual([16, 20, 24, 32, 40, 48, 64])
  })
})
