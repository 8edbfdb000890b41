import type { EntitySet } from './entity-sets.ts'

/** The CSDL (OData v4.0 XML) of the feed: one flat EntityType with a Key per entity set. */
export const NAMESPACE = 'NL2Q'
export const CONTAINER = 'Container'

const CAPABILITIES =
  'https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml'
const CORE = 'https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml'

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function propertyXml(p: EntitySet['properties'][number]): string {
  const facets =
    p.type === 'Edm.Decimal' ? ' Scale="variable"' : p.type === 'Edm.DateTimeOffset' ? ' Precision="3"' : ''
  const nullable = p.nullable ? '' : ' Nullable="false"'
  return `        <Property Name="${p.name}" Type="${p.type}"${nullable}${facets}>
          <Annotation Term="Core.Description" String="${esc(p.label)}"/>
        </Property>`
}

function entityTypeXml(set: EntitySet): string {
  const keys = set.key.map((k) => `<PropertyRef Name="${k}"/>`).join('')
  return `      <EntityType Name="${set.name}">
        <Key>${keys}</Key>
${set.properties.map(propertyXml).join('\n')}
      </EntityType>`
}

/**
 * What the feed can fold, so that clients (Power Query's OData.Feed with Implementation="2.0")
 * only send what it supports: no $expand, $search or $apply; filter functions listed.
 */
function capabilitiesXml(set: EntitySet): string {
  return `        <EntitySet Name="${set.name}" EntityType="${NAMESPACE}.${set.name}">
          <Annotation Term="Core.Description" String="${esc(set.label)}"/>
          <Annotation Term="Capabilities.TopSupported" Bool="true"/>
          <Annotation Term="Capabilities.SkipSupported" Bool="true"/>
          <Annotation Term="Capabilities.CountRestrictions">
            <Record><PropertyValue Property="Countable" Bool="true"/></Record>
          </Annotation>
          <Annotation Term="Capabilities.ExpandRestrictions">
            <Record><PropertyValue Property="Expandable" Bool="false"/></Record>
          </Annotation>
          <Annotation Term="Capabilities.SearchRestrictions">
            <Record><PropertyValue Property="Searchable" Bool="false"/></Record>
          </Annotation>
          <Annotation Term="Capabilities.InsertRestrictions">
            <Record><PropertyValue Property="Insertable" Bool="false"/></Record>
          </Annotation>
          <Annotation Term="Capabilities.UpdateRestrictions">
            <Record><PropertyValue Property="Updatable" Bool="false"/></Record>
          </Annotation>
          <Annotation Term="Capabilities.DeleteRestrictions">
            <Record><PropertyValue Property="Deletable" Bool="false"/></Record>
          </Annotation>
        </EntitySet>`
}

export function metadataXml(sets: EntitySet[]): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:Reference Uri="${CORE}">
    <edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/>
  </edmx:Reference>
  <edmx:Reference Uri="${CAPABILITIES}">
    <edmx:Include Namespace="Org.OData.Capabilities.V1" Alias="Capabilities"/>
  </edmx:Reference>
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="${NAMESPACE}">
${sets.map(entityTypeXml).join('\n')}
      <EntityContainer Name="${CONTAINER}">
        <Annotation Term="Capabilities.FilterFunctions">
          <Collection><String>contains</String><String>startswith</String><String>endswith</String></Collection>
        </Annotation>
        <Annotation Term="Capabilities.ConformanceLevel" EnumMember="Capabilities.ConformanceLevelType/Minimal"/>
${sets.map(capabilitiesXml).join('\n')}
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`
}
