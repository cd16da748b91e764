/**
 * The e-mail channel's DynamoDB table (lambdas/adapters/dynamoEmailStore.ts): one table, items told apart
 * by their partition key prefix (inbound Message-IDs, thread links, last inbound per conversation, replies
 * per sender). Same shape as the entries of TABLES in tableDefinitions.ts.
 */
import type { TableDefinition } from './tableDefinitions';

export const EMAIL_TABLE = {
  envVar: 'EMAIL_THREADS_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  ttlAttribute: 'expiresAt',
} as const satisfies TableDefinition;
