/**
 * The DynamoDB tables, defined once: the local face creates them in dynalite, the CDK data stack creates
 * them on AWS. Handlers find each table's name in the environment variable named here.
 */
export type AttributeType = 'S' | 'N';

export interface KeySpec {
  readonly name: string;
  readonly type: AttributeType;
}

export interface TableDefinition {
  /** Environment variable holding the physical table name. */
  readonly envVar: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  readonly indexes?: readonly {
    readonly name: string;
    readonly partitionKey: KeySpec;
    readonly sortKey?: KeySpec;
  }[];
  /** Attribute holding an epoch-seconds expiry (DynamoDB TTL on AWS; filtered by readers locally). */
  readonly ttlAttribute?: string;
}

const s = (name: string): KeySpec => ({ name, type: 'S' });

export const TABLES = {
  connections: {
    envVar: 'CONNECTIONS_TABLE',
    partitionKey: s('connectionId'),
    indexes: [{ name: 'byConversation', partitionKey: s('conversationId') }],
    ttlAttribute: 'expiresAt',
  },
  conversations: {
    envVar: 'CONVERSATIONS_TABLE',
    partitionKey: s('conversationId'),
    indexes: [{ name: 'byCustomer', partitionKey: s('customerId'), sortKey: s('createdAt') }],
  },
  messages: {
    envVar: 'MESSAGES_TABLE',
    partitionKey: s('conversationId'),
    sortKey: s('messageId'),
  },
  cases: {
    envVar: 'CASES_TABLE',
    partitionKey: s('caseId'),
    indexes: [
      { name: 'byStatus', partitionKey: s('status'), sortKey: s('createdAt') },
      { name: 'byConversation', partitionKey: s('conversationId') },
    ],
  },
  customers: {
    envVar: 'CUSTOMERS_TABLE',
    partitionKey: s('customerId'),
    indexes: [{ name: 'byEmail', partitionKey: s('email') }],
  },
  knowledgeBase: {
    envVar: 'KNOWLEDGE_BASE_TABLE',
    partitionKey: s('id'),
  },
  metrics: {
    envVar: 'METRICS_TABLE',
    partitionKey: s('bucket'),
    sortKey: s('metric'),
    ttlAttribute: 'expiresAt',
  },
} as const satisfies Record<string, TableDefinition>;

export type TableName = keyof typeof TABLES;
