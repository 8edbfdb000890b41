/**
 * Static reference data of the pharma demo (test/fixtures/datasets/pharma.md): the thyroid market's
 * products, specialties, payers, segments and call patterns. The generator draws
 * from these; the numbers here shape the story the data tells (who writes what, where).
 */

export interface ProductSpec {
  name: string
  manufacturer: string
  therapeuticArea: string
  isCompanyProduct: boolean
  launchDate: string
  listPrice: number
  /** Relative preference when a prescriber writes it (before personal taste). */
  preference: number
  /** Probability that a prescriber writes it at all: default, and per specialty where it differs. */
  adoption: number
  adoptionBySpecialty?: Partial<Record<Specialty, number>>
}

/** The 7 products, in id order (P1..P7). Only Tirosint and Tirosint-SOL are the company's. */
// biome-ignore format: one product per line reads as a table
export const PRODUCTS: readonly ProductSpec[] = [
  { name: 'Tirosint', manufacturer: 'IBSA Pharma', therapeuticArea: 'Hypothyroidism', isCompanyProduct: true, launchDate: '2007-03-12', listPrice: 185.4, preference: 0.55, adoption: 0.3, adoptionBySpecialty: { Endocrinology: 0.8, 'Internal Medicine': 0.35 } },
  { name: 'Tirosint-SOL', manufacturer: 'IBSA Pharma', therapeuticArea: 'Hypothyroidism', isCompanyProduct: true, launchDate: '2017-01-23', listPrice: 198.75, preference: 0.35, adoption: 0.12, adoptionBySpecialty: { Endocrinology: 0.45, Pediatrics: 0.3 } },
  { name: 'Synthroid', manufacturer: 'AbbVie', therapeuticArea: 'Hypothyroidism', isCompanyProduct: false, launchDate: '1955-07-01', listPrice: 62.3, preference: 1.0, adoption: 0.85 },
  { name: 'Levoxyl', manufacturer: 'Pfizer', therapeuticArea: 'Hypothyroidism', isCompanyProduct: false, launchDate: '2001-05-25', listPrice: 71.85, preference: 0.45, adoption: 0.4 },
  { name: 'Unithroid', manufacturer: 'Amneal Pharmaceuticals', therapeuticArea: 'Hypothyroidism', isCompanyProduct: false, launchDate: '2000-08-21', listPrice: 54.2, preference: 0.45, adoption: 0.4 },
  { name: 'Cytomel', manufacturer: 'Pfizer', therapeuticArea: 'Thyroid Hormone Adjunct', isCompanyProduct: false, launchDate: '1956-11-05', listPrice: 112.6, preference: 0.3, adoption: 0.2, adoptionBySpecialty: { Endocrinology: 0.75 } },
  { name: 'Armour Thyroid', manufacturer: 'AbbVie', therapeuticArea: 'Hypothyroidism', isCompanyProduct: false, launchDate: '1951-01-01', listPrice: 48.9, preference: 0.4, adoption: 0.3, adoptionBySpecialty: { Endocrinology: 0.5, 'Family Medicine': 0.35 } },
]

export const SPECIALTIES = [
  'Endocrinology',
  'Internal Medicine',
  'Family Medicine',
  'Cardiology',
  'Obstetrics and Gynecology',
  'Pediatrics',
  'Nurse Practitioner',
] as const
export type Specialty = (typeof SPECIALTIES)[number]

export interface SpecialtySpec {
  /** Share of prescribers. */
  weight: number
  /** Median weekly thyroid TRx of a prescriber of this specialty (before the lognormal spread). */
  weeklyTrx: number
  /** Payer mix in PAYERS order. */
  payerMix: readonly [number, number, number, number]
  /** How much reps target the specialty (call frequency multiplier). */
  callFocus: number
}

export const SPECIALTY_SPECS: Record<Specialty, SpecialtySpec> = {
  Endocrinology: { weight: 10, weeklyTrx: 16, payerMix: [0.57, 0.28, 0.1, 0.05], callFocus: 1.5 },
  'Internal Medicine': { weight: 24, weeklyTrx: 6, payerMix: [0.52, 0.32, 0.11, 0.05], callFocus: 1.1 },
  'Family Medicine': { weight: 26, weeklyTrx: 5, payerMix: [0.56, 0.24, 0.14, 0.06], callFocus: 1.0 },
  Cardiology: { weight: 8, weeklyTrx: 2.2, payerMix: [0.4, 0.46, 0.09, 0.05], callFocus: 0.6 },
  'Obstetrics and Gynecology': {
    weight: 9,
    weeklyTrx: 2.5,
    payerMix: [0.62, 0.03, 0.3, 0.05],
    callFocus: 0.8,
  },
  Pediatrics: { weight: 7, weeklyTrx: 1.2, payerMix: [0.47, 0.01, 0.48, 0.04], callFocus: 0.5 },
  'Nurse Practitioner': { weight: 16, weeklyTrx: 3.5, payerMix: [0.5, 0.27, 0.16, 0.07], callFocus: 0.9 },
}

export const PAYERS = ['Commercial', 'Medicare', 'Medicaid', 'Cash'] as const
/** Share of 90-day (vs 30-day) scripts per payer, in PAYERS order: quantity is 30 or 90 units a script. */
export const NINETY_DAY_SHARE = [0.35, 0.55, 0.15, 0.2] as const

export const SEGMENTS = ['A', 'B', 'C', 'D'] as const
/** Cumulative share of prescribers by segment, highest potential first: A top 10%, B next 20%, … */
export const SEGMENT_SHARES = [0.1, 0.2, 0.3, 0.4] as const
/** Relative call frequency by segment: reps call on high-value prescribers far more often. */
export const SEGMENT_CALL_FOCUS = [4.0, 2.2, 1.0, 0.35] as const

export const CHANNELS = ['In-person', 'Virtual', 'Phone', 'Email'] as const
export const CHANNEL_MIX_BY_YEAR: Record<number, readonly number[]> = {
  2023: [0.55, 0.15, 0.12, 0.18],
  2024: [0.49, 0.14, 0.11, 0.26],
}
/** Minutes a call of each channel may take (Email: always 0). */
export const CHANNEL_DURATIONS: readonly (readonly number[])[] = [
  [10, 15, 15, 20, 20, 30, 45],
  [10, 15, 20, 20, 30],
  [5, 5, 10, 10, 15],
  [0],
]
export const STATUSES = ['Completed', 'Planned', 'Cancelled'] as const
