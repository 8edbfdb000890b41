/** The demo's sales geography: 5 regions × 2 districts × 2 territories, each a metro with its cities. */

export const REGIONS = ['Northeast', 'Southeast', 'Midwest', 'Southwest', 'West'] as const

export interface CitySpec {
  city: string
  state: string
  weight: number
}

export interface TerritorySpec {
  name: string
  region: (typeof REGIONS)[number]
  district: string
  /** Relative number of prescribers in the territory (drives HCP counts and rep workloads). */
  weight: number
  /** Where its prescribers practise: an HCP's state is its city's, so it always fits the territory. */
  cities: CitySpec[]
}

const c = (city: string, state: string, weight: number): CitySpec => ({ city, state, weight })

/** The 20 territories in id order (T01..T20). */
// biome-ignore format: one territory per line reads as a table
export const TERRITORIES: readonly TerritorySpec[] = [
  { name: 'Boston', region: 'Northeast', district: 'New England', weight: 1.0, cities: [c('Boston', 'MA', 4), c('Cambridge', 'MA', 2), c('Worcester', 'MA', 2), c('Providence', 'RI', 2), c('Manchester', 'NH', 1)] },
  { name: 'Hartford', region: 'Northeast', district: 'New England', weight: 0.8, cities: [c('Hartford', 'CT', 3), c('New Haven', 'CT', 3), c('Stamford', 'CT', 2), c('Springfield', 'MA', 2)] },
  { name: 'New York City', region: 'Northeast', district: 'Metro New York', weight: 1.4, cities: [c('New York', 'NY', 5), c('Brooklyn', 'NY', 3), c('Queens', 'NY', 2), c('Bronx', 'NY', 1)] },
  { name: 'Northern New Jersey', region: 'Northeast', district: 'Metro New York', weight: 1.0, cities: [c('Newark', 'NJ', 3), c('Jersey City', 'NJ', 2), c('Hackensack', 'NJ', 2), c('Paterson', 'NJ', 1), c('Morristown', 'NJ', 1)] },
  { name: 'Atlanta', region: 'Southeast', district: 'South Atlantic', weight: 1.1, cities: [c('Atlanta', 'GA', 5), c('Marietta', 'GA', 2), c('Decatur', 'GA', 1), c('Athens', 'GA', 1), c('Macon', 'GA', 1)] },
  { name: 'Charlotte', region: 'Southeast', district: 'South Atlantic', weight: 0.9, cities: [c('Charlotte', 'NC', 4), c('Raleigh', 'NC', 3), c('Greensboro', 'NC', 2), c('Columbia', 'SC', 2)] },
  { name: 'Miami', region: 'Southeast', district: 'Florida', weight: 1.2, cities: [c('Miami', 'FL', 4), c('Fort Lauderdale', 'FL', 3), c('West Palm Beach', 'FL', 2), c('Boca Raton', 'FL', 1)] },
  { name: 'Tampa', region: 'Southeast', district: 'Florida', weight: 0.9, cities: [c('Tampa', 'FL', 4), c('Orlando', 'FL', 3), c('St. Petersburg', 'FL', 2), c('Sarasota', 'FL', 1)] },
  { name: 'Chicago North', region: 'Midwest', district: 'Great Lakes', weight: 1.1, cities: [c('Chicago', 'IL', 5), c('Evanston', 'IL', 2), c('Skokie', 'IL', 1), c('Milwaukee', 'WI', 3)] },
  { name: 'Chicago South', region: 'Midwest', district: 'Great Lakes', weight: 0.9, cities: [c('Chicago', 'IL', 4), c('Naperville', 'IL', 2), c('Joliet', 'IL', 2), c('Gary', 'IN', 1)] },
  { name: 'Detroit', region: 'Midwest', district: 'Heartland', weight: 0.9, cities: [c('Detroit', 'MI', 4), c('Ann Arbor', 'MI', 2), c('Grand Rapids', 'MI', 2), c('Toledo', 'OH', 1)] },
  { name: 'Minneapolis', region: 'Midwest', district: 'Heartland', weight: 0.8, cities: [c('Minneapolis', 'MN', 4), c('St. Paul', 'MN', 3), c('Rochester', 'MN', 2), c('Des Moines', 'IA', 1)] },
  { name: 'Dallas', region: 'Southwest', district: 'Texas', weight: 1.2, cities: [c('Dallas', 'TX', 5), c('Fort Worth', 'TX', 3), c('Plano', 'TX', 2), c('Arlington', 'TX', 1)] },
  { name: 'Houston', region: 'Southwest', district: 'Texas', weight: 1.2, cities: [c('Houston', 'TX', 6), c('Sugar Land', 'TX', 1), c('The Woodlands', 'TX', 1), c('Galveston', 'TX', 1)] },
  { name: 'Phoenix', region: 'Southwest', district: 'Desert Southwest', weight: 1.0, cities: [c('Phoenix', 'AZ', 5), c('Scottsdale', 'AZ', 2), c('Mesa', 'AZ', 2), c('Tucson', 'AZ', 2)] },
  { name: 'Albuquerque', region: 'Southwest', district: 'Desert Southwest', weight: 0.6, cities: [c('Albuquerque', 'NM', 4), c('Santa Fe', 'NM', 2), c('El Paso', 'TX', 3), c('Las Cruces', 'NM', 1)] },
  { name: 'Los Angeles', region: 'West', district: 'Southern California', weight: 1.4, cities: [c('Los Angeles', 'CA', 6), c('Pasadena', 'CA', 2), c('Long Beach', 'CA', 2), c('Santa Monica', 'CA', 1)] },
  { name: 'San Diego', region: 'West', district: 'Southern California', weight: 0.9, cities: [c('San Diego', 'CA', 5), c('Irvine', 'CA', 2), c('Chula Vista', 'CA', 1), c('Escondido', 'CA', 1)] },
  { name: 'San Francisco', region: 'West', district: 'Northern California', weight: 1.1, cities: [c('San Francisco', 'CA', 4), c('Oakland', 'CA', 3), c('San Jose', 'CA', 3), c('Palo Alto', 'CA', 1)] },
  { name: 'Seattle', region: 'West', district: 'Pacific Northwest', weight: 0.9, cities: [c('Seattle', 'WA', 4), c('Tacoma', 'WA', 2), c('Bellevue', 'WA', 2), c('Portland', 'OR', 3)] },
]
