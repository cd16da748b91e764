/**
 * The DynamoDB tables of lambdas/adapters/tableDefinitions.ts (the same definitions the local face creates in
 * dynalite; `localOnly` ones are skipped): on-demand, point-in-time recovery, encrypted with the data key,
 * retained on stack deletion. Grants name each table and index ARN, so no policy needs `index/*` or KMS
 * action wildcards. The audit table is append-only: writers get PutItem and nothing else.
 */
import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLES, type TableDefinition, type TableName } from '#adapters/tableDefinitions';

const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
/** What DynamoDB needs from the caller to use a customer managed key on its behalf. */
const KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

/**
 * `append`: PutItem only (conditional puts of new items), no reads, updates or deletes. The only write access
 * to an append-only table.
 */
export type TableAccess = 'read' | 'readWrite' | 'append' | 'erase';

const ACTIONS: Record<TableAccess, readonly string[]> = {
  read: READ_ACTIONS,
  readWrite: [...READ_ACTIONS, ...WRITE_ACTIONS],
  append: ['dynamodb:PutItem'],
  // GDPR erasure: find and delete, never write.
  erase: [...READ_ACTIONS, 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
};

/** Tables whose items are never changed once written (the audit log): no role may update or delete them. */
export const APPEND_ONLY_TABLES: ReadonlySet<TableName> = new Set(['audit']);

export interface SupportTablesProps {
  /** Customer managed key encrypting every table. */
  readonly encryptionKey: IKey;
  /** @default RemovalPolicy.RETAIN: conversations, cases and metrics outlive a stack deletion */
  readonly removalPolicy?: RemovalPolicy;
}

export class SupportTables extends Construct {
  private readonly tables = new Map<TableName, Table>();
  private readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: SupportTablesProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    for (const [name, definition] of Object.entries(TABLES) as [TableName, TableDefinition][]) {
      // Local-only tables (operators and their sessions) live in Cognito on AWS.
      if (definition.localOnly) continue;
      const table = new Table(this, pascal(name), {
        partitionKey: keyOf(definition.partitionKey),
        sortKey: definition.sortKey ? keyOf(definition.sortKey) : undefined,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.encryptionKey,
        timeToLiveAttribute: definition.ttlAttribute,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        deletionProtection: (props.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN,
      });
      for (const index of definition.indexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: keyOf(index.partitionKey),
          sortKey: index.sortKey ? keyOf(index.sortKey) : undefined,
        });
      }
      this.tables.set(name, table);
    }
  }

  table(name: TableName): ITable {
    const table = this.tables.get(name);
    if (!table) {
      const why = (TABLES[name] as TableDefinition).localOnly ? ' (local-only, not deployed to AWS)' : '';
      throw new Error(`SupportTables: no table "${name}"${why}`);
    }
    return table;
  }

  /** The variables the handlers read the given tables' names from (TABLES[name].envVar). */
  environment(...names: TableName[]): Record<string, string> {
    if (names.length === 0) throw new Error('SupportTables.environment: name at least one table');
    return Object.fromEntries(names.map((name) => [TABLES[name].envVar, this.table(name).tableName]));
  }

  /**
   * Item access to the named tables and their indexes, plus use of the data key through DynamoDB only.
   * Append-only tables take `read` and `append` only.
   */
  grant(grantee: IGrantable, access: TableAccess, ...names: TableName[]): void {
    if (names.length === 0) throw new Error('SupportTables.grant: name at least one table');
    const appendOnly = names.filter((name) => APPEND_ONLY_TABLES.has(name));
    if ((access === 'readWrite' || access === 'erase') && appendOnly.length > 0) {
      throw new Error(
        `SupportTables.grant: ${appendOnly.join(', ')} is append-only; grant 'append' (PutItem) and 'read'`,
      );
    }
    const resourceArns = names.flatMap((name) => {
      const table = this.table(name);
      // PutItem addresses the table only; indexes are for reading.
      if (access === 'append') return [table.tableArn];
      const definition: TableDefinition = TABLES[name];
      return [table.tableArn, ...(definition.indexes ?? []).map((i) => `${table.tableArn}/index/${i.name}`)];
    });
    Grant.addToPrincipal({ grantee, actions: [...ACTIONS[access]], resourceArns });
    Grant.addToPrincipal({
      grantee,
      actions: KEY_ACTIONS,
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Aws.REGION}.amazonaws.com` } },
    });
  }
}

const keyOf = (key: { readonly name: string; readonly type: 'S' | 'N' }) => ({
  name: key.name,
  type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

const pascal = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}Table`;
