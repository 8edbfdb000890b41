/**
 * Names for codes that columns often hold instead of names: US state postal codes and ISO 3166
 * alpha-2 country codes. A column whose values are (mostly) such codes gets the names as synonyms,
 * so "Texas" finds state = 'TX' and "Germany" finds country = 'DE'.
 */
export const US_STATES: Record<string, string[]> = {
  AL: ['Alabama'],
  AK: ['Alaska'],
  AZ: ['Arizona'],
  AR: ['Arkansas'],
  CA: ['California'],
  CO: ['Colorado'],
  CT: ['Connecticut'],
  DE: ['Delaware'],
  DC: ['District of Columbia', 'Washington DC'],
  FL: ['Florida'],
  GA: ['Georgia'],
  HI: ['Hawaii'],
  ID: ['Idaho'],
  IL: ['Illinois'],
  IN: ['Indiana'],
  IA: ['Iowa'],
  KS: ['Kansas'],
  KY: ['Kentucky'],
  LA: ['Louisiana'],
  ME: ['Maine'],
  MD: ['Maryland'],
  MA: ['Massachusetts'],
  MI: ['Michigan'],
  MN: ['Minnesota'],
  MS: ['Mississippi'],
  MO: ['Missouri'],
  MT: ['Montana'],
  NE: ['Nebraska'],
  NV: ['Nevada'],
  NH: ['New Hampshire'],
  NJ: ['New Jersey'],
  NM: ['New Mexico'],
  NY: ['New York', 'New York State'],
  NC: ['North Carolina'],
  ND: ['North Dakota'],
  OH: ['Ohio'],
  OK: ['Oklahoma'],
  OR: ['Oregon'],
  PA: ['Pennsylvania'],
  PR: ['Puerto Rico'],
  RI: ['Rhode Island'],
  SC: ['South Carolina'],
  SD: ['South Dakota'],
  TN: ['Tennessee'],
  TX: ['Texas'],
  UT: ['Utah'],
  VT: ['Vermont'],
  VA: ['Virginia'],
  WA: ['Washington', 'Washington State'],
  WV: ['West Virginia'],
  WI: ['Wisconsin'],
  WY: ['Wyoming'],
}

export const COUNTRIES: Record<string, string[]> = {
  US: ['United States', 'USA', 'America', 'United States of America'],
  GB: ['United Kingdom', 'UK', 'Great Britain', 'Britain', 'England'],
  CA: ['Canada'],
  MX: ['Mexico'],
  BR: ['Brazil'],
  AR: ['Argentina'],
  DE: ['Germany'],
  FR: ['France'],
  ES: ['Spain'],
  IT: ['Italy'],
  NL: ['Netherlands', 'Holland'],
  BE: ['Belgium'],
  CH: ['Switzerland'],
  AT: ['Austria'],
  SE: ['Sweden'],
  NO: ['Norway'],
  DK: ['Denmark'],
  FI: ['Finland'],
  IE: ['Ireland'],
  PT: ['Portugal'],
  PL: ['Poland'],
  CZ: ['Czech Republic', 'Czechia'],
  GR: ['Greece'],
  TR: ['Turkey'],
  RU: ['Russia'],
  UA: ['Ukraine'],
  IN: ['India'],
  CN: ['China'],
  JP: ['Japan'],
  KR: ['South Korea', 'Korea'],
  SG: ['Singapore'],
  AU: ['Australia'],
  NZ: ['New Zealand'],
  ZA: ['South Africa'],
  EG: ['Egypt'],
  NG: ['Nigeria'],
  IL: ['Israel'],
  AE: ['United Arab Emirates', 'UAE'],
  SA: ['Saudi Arabia'],
}

export type CodeKind = 'us-state' | 'country'

/** Which code system a column's values belong to, if most of them are codes of one system. */
export function detectCodes(values: string[]): CodeKind | undefined {
  if (values.length === 0 || !values.every((v) => /^[A-Z]{2}$/.test(v))) return undefined
  const share = (table: Record<string, string[]>) => values.filter((v) => v in table).length / values.length
  const states = share(US_STATES)
  const countries = share(COUNTRIES)
  if (states >= 0.8 && states >= countries) return 'us-state'
  if (countries >= 0.8) return 'country'
  return undefined
}

export function codeNames(kind: CodeKind, code: string): string[] {
  return (kind === 'us-state' ? US_STATES : COUNTRIES)[code] ?? []
}
