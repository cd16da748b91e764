/**
 * The default Crm: customers in the DynamoDB customers table (same code against AWS and dynalite). Its cases
 * ARE the cases table the support desk writes and its case history IS the messages table, so upsertCase,
 * addComment and closeCase have nothing left to write. Seeding is insert-only: a restart never overwrites a
 * customer an operator has edited.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  type Crm,
  type CrmCaseUpsert,
  CUSTOMER_TIERS,
  type CustomerProfile,
  type CustomerReference,
} from '#core/crm';

const EMAIL_INDEX = 'byEmail';

export const customerProfileSchema = z.object({
  customerId: z.string().trim().min(1).max(128),
  name: z.string().trim().min(1).max(200),
  // Stored lower-cased: the byEmail index is matched exactly.
  email: z
    .string()
    .trim()
    .email()
    .max(254)
    .transform((email) => email.toLowerCase()),
  tier: z.enum(CUSTOMER_TIERS),
  company: z.string().trim().min(1).max(200).optional(),
  crmContactId: z.string().min(1).optional(),
  crmAccountId: z.string().min(1).optional(),
  consentToStoreTranscripts: z.boolean().optional(),
});

/** Written profiles must not carry unknown keys (a typo in the seed file); stored extras are ignored. */
const newCustomerSchema = customerProfileSchema.strict();

/** A stored customer item that does not match the schema (hand-edited or written by an older version). */
export class CorruptCustomerRecordError extends Error {
  constructor(
    readonly customerId: string,
    detail: string,
  ) {
    super(`Customer record ${customerId} in the customers table is invalid: ${detail}`);
    this.name = 'CorruptCustomerRecordError';
  }
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error)?.name === 'ConditionalCheckFailedException';

const describeIssues = (error: z.ZodError) =>
  error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; ');

export class BuiltInCrm implements Crm {
  readonly name = 'builtin';

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * By customerId first, else by e-mail (case-insensitive). A corrupt record found by id raises
   * CorruptCustomerRecordError; corrupt records sharing an e-mail are skipped in favour of a valid one.
   */
  async findCustomer(reference: CustomerReference): Promise<CustomerProfile | undefined> {
    const customerId = reference.customerId?.trim();
    if (customerId) {
      const result = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { customerId } }),
      );
      if (result.Item) return this.parseStored(result.Item);
    }
    const email = reference.email?.trim().toLowerCase();
    if (!email) return undefined;
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: EMAIL_INDEX,
        KeyConditionExpression: '#email = :email',
        ExpressionAttributeNames: { '#email': 'email' },
        ExpressionAttributeValues: { ':email': email },
        Limit: 10,
      }),
    );
    const items = result.Items ?? [];
    for (const item of items) {
      const parsed = customerProfileSchema.safeParse(item);
      if (parsed.success) return parsed.data;
    }
    // Only corrupt records carry this e-mail: say so rather than pretend the customer is unknown.
    if (items[0]) this.parseStored(items[0]);
    return undefined;
  }

  /** The case record is the built-in CRM's case: its id is the CRM case id, nothing else to write. */
  async upsertCase(request: CrmCaseUpsert): Promise<{ readonly crmCaseId: string }> {
    return { crmCaseId: request.record.caseId };
  }

  /** The conversation's messages table already holds every agent reply. */
  async addComment(_crmCaseId: string, _comment: { readonly author: string; readonly text: string }) {}

  /** The support desk's own case status change is the close. */
  async closeCase(_crmCaseId: string, _resolution: { readonly status: 'resolved' | 'abandoned' }) {}

  /** Creates or replaces a customer (an operator's edit). */
  async putCustomer(profile: CustomerProfile): Promise<CustomerProfile> {
    const item = this.validate(profile);
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return item;
  }

  /**
   * Inserts the profiles that do not exist yet; existing customers are kept as they are (conditional puts),
   * so seeding on every start is safe. All profiles are validated before the first write.
   */
  async seedCustomers(profiles: readonly CustomerProfile[]): Promise<{ inserted: number; kept: number }> {
    const items = profiles.map((profile) => this.validate(profile));
    const duplicates = items
      .map((item) => item.customerId)
      .filter((id, index, ids) => ids.indexOf(id) !== index);
    if (duplicates.length) {
      throw new Error(`Customer seed lists ${[...new Set(duplicates)].join(', ')} more than once`);
    }
    let inserted = 0;
    let kept = 0;
    for (const item of items) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#customerId)',
            ExpressionAttributeNames: { '#customerId': 'customerId' },
          }),
        );
        inserted++;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        kept++;
      }
    }
    return { inserted, kept };
  }

  private validate(profile: unknown): CustomerProfile {
    const parsed = newCustomerSchema.safeParse(profile);
    if (!parsed.success) {
      const id = (profile as { customerId?: unknown } | undefined)?.customerId;
      throw new Error(
        `Invalid customer ${typeof id === 'string' ? id : '(no customerId)'}: ${describeIssues(parsed.error)}`,
      );
    }
    return parsed.data;
  }

  private parseStored(item: Record<string, unknown>): CustomerProfile {
    const parsed = customerProfileSchema.safeParse(item);
    if (!parsed.success) {
      throw new CorruptCustomerRecordError(String(item.customerId), describeIssues(parsed.error));
    }
    return parsed.data;
  }
}
