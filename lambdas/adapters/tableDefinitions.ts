/**
 * The DynamoDB tables, defined once: the local face creates them in dynalite, the CDK data stack creates
 * them on AWS. Handlers find each table's name in the environment variable named here.
 */
import { EMAIL_TABLE } from './emailTableDefinition';

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
  /** Created by the local face only, never on AWS (e.g. operators: Cognito holds them there). */
  readonly localOnly?: boolean;
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
  /**
   * The audit log (core/auditLog.ts): append-only, written with conditional PutItem only (app roles get no
   * UpdateItem or DeleteItem on it); listed per UTC day through byDay.
   */
  audit: {
    envVar: 'AUDIT_TABLE',
    partitionKey: s('auditId'),
    indexes: [{ name: 'byDay', partitionKey: s('day'), sortKey: s('at') }],
  },
  operators: {
    envVar: 'OPERATORS_TABLE',
    partitionKey: s('username'),
    localOnly: true,
  },
  operatorSessions: {
    envVar: 'OPERATOR_SESSIONS_TABLE',
    partitionKey: s('sessionHash'),
    ttlAttribute: 'expiresAt',
    localOnly: true,
  },
  /** The e-mail channel's threads, processed Message-IDs and reply counts (lambdas/adapters/dynamoEmailStore). */
  emailThreads: EMAIL_TABLE,
} as const satisfies Record<string, TableDefinition>;

export type TableName = keyof typeof TABLES;
