/**
 * The emulated org's objects: the standard and Veeva fields the default mapping reads, their types,
 * the lookup targets (for relationship fields in SOQL) and the key prefixes of their Ids.
 */
export type FieldType = 'id' | 'string' | 'boolean' | 'int' | 'double' | 'currency' | 'date' | 'datetime'

export interface FieldDef {
  type: FieldType | 'reference'
  /** For references: the target object and the relationship name used in SOQL (`Account_vod__r`). */
  referenceTo?: string
  relationshipName?: string
}

export interface ObjectDef {
  keyPrefix: string
  fields: Record<string, FieldDef>
}

const f = (type: FieldDef['type']): FieldDef => ({ type })
const ref = (referenceTo: string, relationshipName: string): FieldDef => ({
  type: 'reference',
  referenceTo,
  relationshipName,
})

const SYSTEM: Record<string, FieldDef> = {
  Id: f('id'),
  Name: f('string'),
  IsDeleted: f('boolean'),
  CreatedDate: f('datetime'),
  SystemModstamp: f('datetime'),
  LastModifiedDate: f('datetime'),
}

export const ORG_SCHEMA: Record<string, ObjectDef> = {
  Territory2: {
    keyPrefix: '0MI',
    fields: { ...SYSTEM, External_ID__c: f('string'), Region__c: f('string'), District__c: f('string') },
  },
  User: {
    keyPrefix: '005',
    fields: {
      ...SYSTEM,
      EmployeeNumber: f('string'),
      Email: f('string'),
      IsActive: f('boolean'),
      Hire_Date__c: f('date'),
      Primary_Territory__c: ref('Territory2', 'Primary_Territory__r'),
    },
  },
  Product_vod__c: {
    keyPrefix: 'a00',
    fields: {
      ...SYSTEM,
      External_ID_vod__c: f('string'),
      Manufacturer_vod__c: f('string'),
      Therapeutic_Area_vod__c: f('string'),
      Company_Product_vod__c: f('boolean'),
      Launch_Date__c: f('date'),
      List_Price__c: f('currency'),
    },
  },
  Account: {
    keyPrefix: '001',
    fields: {
      ...SYSTEM,
      IsPersonAccount: f('boolean'),
      FirstName: f('string'),
      LastName: f('string'),
      External_ID_vod__c: f('string'),
      NPI_vod__c: f('string'),
      Specialty_1_vod__c: f('string'),
      PersonMailingCity: f('string'),
      PersonMailingState: f('string'),
      Segment__c: f('string'),
      Territory_vod__c: ref('Territory2', 'Territory_vod__r'),
      NL2Q_Insights__c: f('string'),
      Prescribing_Trend__c: f('string'),
      Recommended_Message__c: f('string'),
      Last_Analysis_Date__c: f('date'),
    },
  },
  ObjectTerritory2Association: {
    keyPrefix: '0R0',
    fields: {
      ...SYSTEM,
      ObjectId: ref('Account', 'Object'),
      Territory2Id: ref('Territory2', 'Territory2'),
      AssociationCause: f('string'),
    },
  },
  Call2_vod__c: {
    keyPrefix: 'a04',
    fields: {
      ...SYSTEM,
      Account_vod__c: ref('Account', 'Account_vod__r'),
      OwnerId: ref('User', 'Owner'),
      Product_vod__c: ref('Product_vod__c', 'Product_vod__r'),
      Call_Date_vod__c: f('date'),
      Call_Channel_vod__c: f('string'),
      Status_vod__c: f('string'),
      Duration_vod__c: f('int'),
    },
  },
}

/** Fields the API sets itself: a write naming one is refused (INVALID_FIELD_FOR_INSERT_UPDATE). */
export const READ_ONLY_FIELDS = new Set([
  'Id',
  'IsDeleted',
  'CreatedDate',
  'SystemModstamp',
  'LastModifiedDate',
])
