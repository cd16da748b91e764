/**
 * The CRM port: where customers are looked up and where escalated cases are mirrored for the human team.
 * Two adapters implement it: the built-in CRM (DynamoDB customers + cases tables, the default) and
 * Salesforce (jsforce). The domain never knows which one it talks to.
 */
import type { CaseRecord } from './supportRecords';

export const CUSTOMER_TIERS = ['enterprise', 'pro', 'basic'] as const;
export type CustomerTier = (typeof CUSTOMER_TIERS)[number];

export const isCustomerTier = (value: unknown): value is CustomerTier =>
  typeof value === 'string' && (CUSTOMER_TIERS as readonly string[]).includes(value);

export interface CustomerProfile {
  readonly customerId: string;
  readonly name: string;
  readonly email: string;
  readonly tier: CustomerTier;
  readonly company?: string;
  /** The CRM's own id (Salesforce Contact id); the built-in CRM uses customerId. */
  readonly crmContactId?: string;
  readonly crmAccountId?: string;
  /** GDPR: false means transcripts are not kept beyond the case. @default true */
  readonly consentToStoreTranscripts?: boolean;
}

/** How a customer is referred to: the signed customer id first, else an e-mail address. */
export interface CustomerReference {
  readonly customerId?: string;
  readonly email?: string;
}

export interface CrmCaseUpsert {
  readonly record: CaseRecord;
  readonly customer?: CustomerProfile;
  /** The handoff packet rendered as text, for CRMs that hold it in a description field. */
  readonly description: string;
}

export interface Crm {
  /** A short name for logs and the case record, e.g. 'builtin' or 'salesforce'. */
  readonly name: string;
  findCustomer(reference: CustomerReference): Promise<CustomerProfile | undefined>;
  /**
   * Creates the CRM case for record.caseId or updates it when it exists (idempotent by caseId).
   * Returns the CRM's case id.
   */
  upsertCase(request: CrmCaseUpsert): Promise<{ readonly crmCaseId: string }>;
  /** Adds an agent's reply (or a note) to the CRM case. */
  addComment(crmCaseId: string, comment: { readonly author: string; readonly text: string }): Promise<void>;
  /** Closes the CRM case. */
  closeCase(crmCaseId: string, resolution: { readonly status: 'resolved' | 'abandoned' }): Promise<void>;
}
