/**
 * DynamoDB implementations of the conversation, case and connection stores (same code against AWS and
 * dynalite). Idempotency comes from conditional puts on the natural key; state changes are conditional on
 * the expected status so concurrent operators cannot, say, resolve a case twice.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  CASE_STATUSES,
  type CaseRecord,
  type CaseStatus,
  type CaseStore,
  type ConnectionRecord,
  type ConnectionStore,
  type ConversationRecord,
  type ConversationStatus,
  type ConversationStore,
  type MessageRecord,
  NotFoundError,
  StateConflictError,
} from '#core/supportRecords';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error)?.name === 'ConditionalCheckFailedException';

/** Builds `SET a = :a, b = :b` from a partial record, skipping undefined values. */
function updateExpression(changes: Record<string, unknown>) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    names[`#${key}`] = key;
    values[`:${key}`] = value;
    sets.push(`#${key} = :${key}`);
  }
  return { names, values, expression: `SET ${sets.join(', ')}` };
}

async function conditionalUpdate<T>(
  client: DynamoDBDocumentClient,
  table: string,
  key: Record<string, string>,
  changes: Record<string, unknown>,
  expectedStatus: readonly string[] | undefined,
  what: string,
): Promise<T> {
  const { names, values, expression } = updateExpression(changes);
  const keyName = Object.keys(key)[0]!;
  let condition = `attribute_exists(#pk)`;
  names['#pk'] = keyName;
  if (expectedStatus?.length) {
    names['#status'] = 'status';
    expectedStatus.forEach((s, i) => {
      values[`:expected${i}`] = s;
    });
    condition += ` AND #status IN (${expectedStatus.map((_, i) => `:expected${i}`).join(', ')})`;
  }
  try {
    const result = await client.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return result.Attributes as T;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const current = await client.send(new GetCommand({ TableName: table, Key: key }));
    if (!current.Item) throw new NotFoundError(`${what} ${Object.values(key)[0]} not found`);
    throw new StateConflictError(
      `${what} ${Object.values(key)[0]} is ${current.Item.status}, expected ${expectedStatus?.join(' or ')}`,
    );
  }
}

async function putIfAbsent<T extends object>(
  client: DynamoDBDocumentClient,
  table: string,
  item: T,
  keyNames: readonly string[],
): Promise<{ created: boolean; item: T }> {
  try {
    await client.send(
      new PutCommand({
        TableName: table,
        Item: item,
        ConditionExpression: `attribute_not_exists(#k0)`,
        ExpressionAttributeNames: { '#k0': keyNames[0]! },
      }),
    );
    return { created: true, item };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const key = Object.fromEntries(keyNames.map((k) => [k, (item as Record<string, unknown>)[k]]));
    const existing = await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return { created: false, item: existing.Item as T };
  }
}

async function queryAll<T>(
  client: DynamoDBDocumentClient,
  input: ConstructorParameters<typeof QueryCommand>[0],
) {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  for (let page = 0; page < 100; page++) {
    const result = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...((result.Items ?? []) as T[]));
    startKey = result.LastEvaluatedKey;
    if (!startKey) break;
  }
  return items;
}

/** BatchWriteItem takes at most 25 requests. */
const BATCH_SIZE = 25;
const UNPROCESSED_RETRIES = 8;

/** Deletes items by key in batches of 25, retrying what DynamoDB leaves unprocessed (throttling). */
async function deleteKeys(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH_SIZE) {
    let requests = keys.slice(i, i + BATCH_SIZE).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > UNPROCESSED_RETRIES) throw new Error(`${table}: deletions left unprocessed`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const result = await client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (result.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }
}

/** Deletes one item; true when it existed. */
async function deleteItem(client: DynamoDBDocumentClient, table: string, key: Record<string, string>) {
  const result = await client.send(
    new DeleteCommand({ TableName: table, Key: key, ReturnValues: 'ALL_OLD' }),
  );
  return result.Attributes !== undefined;
}

export class DynamoConversationStore implements ConversationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { readonly conversations: string; readonly messages: string },
  ) {}

  async getConversation(conversationId: string) {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tables.conversations, Key: { conversationId }, ConsistentRead: true }),
    );
    return result.Item as ConversationRecord | undefined;
  }

  async createConversation(record: ConversationRecord) {
    return (await putIfAbsent(this.client, this.tables.conversations, record, ['conversationId'])).item;
  }

  async updateConversation(
    conversationId: string,
    changes: Partial<Omit<ConversationRecord, 'conversationId' | 'createdAt'>>,
    expectedStatus?: readonly ConversationStatus[],
  ) {
    return conditionalUpdate<ConversationRecord>(
      this.client,
      this.tables.conversations,
      { conversationId },
      changes,
      expectedStatus,
      'conversation',
    );
  }

  async recordAnswer(
    conversationId: string,
    changes: { readonly lastIntent: string; readonly lastProductArea: string; readonly updatedAt: string },
  ) {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tables.conversations,
        Key: { conversationId },
        UpdateExpression: 'SET lastIntent = :i, lastProductArea = :a, updatedAt = :u ADD answeredTurns :one',
        ConditionExpression: 'attribute_exists(conversationId)',
        ExpressionAttributeValues: {
          ':i': changes.lastIntent,
          ':a': changes.lastProductArea,
          ':u': changes.updatedAt,
          ':one': 1,
        },
      }),
    );
  }

  async appendMessage(message: MessageRecord) {
    const result = await putIfAbsent(this.client, this.tables.messages, message, [
      'conversationId',
      'messageId',
    ]);
    return { created: result.created, message: result.item };
  }

  async getMessage(conversationId: string, messageId: string) {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tables.messages,
        Key: { conversationId, messageId },
        ConsistentRead: true,
      }),
    );
    return result.Item as MessageRecord | undefined;
  }

  async listMessages(conversationId: string) {
    const items = await queryAll<MessageRecord>(this.client, {
      TableName: this.tables.messages,
      KeyConditionExpression: 'conversationId = :c',
      ExpressionAttributeValues: { ':c': conversationId },
      ConsistentRead: true,
    });
    return items.sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.messageId.localeCompare(b.messageId),
    );
  }

  async replaceMessageText(conversationId: string, messageId: string, text: string) {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.messages,
          Key: { conversationId, messageId },
          UpdateExpression: 'SET #text = :text',
          ConditionExpression: 'attribute_exists(messageId)',
          ExpressionAttributeNames: { '#text': 'text' },
          ExpressionAttributeValues: { ':text': text },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async listByCustomer(customerId: string) {
    return queryAll<ConversationRecord>(this.client, {
      TableName: this.tables.conversations,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'customerId = :c',
      ExpressionAttributeValues: { ':c': customerId },
    });
  }

  async deleteConversation(conversationId: string) {
    let messages = await this.deleteMessages(conversationId);
    const conversation = await deleteItem(this.client, this.tables.conversations, { conversationId });
    // A message stored while the first sweep ran (its conversation still existed) must not outlive it.
    messages += await this.deleteMessages(conversationId);
    return { conversation, messages };
  }

  /** Deletes every message of a conversation, a page of keys at a time; returns how many. */
  private async deleteMessages(conversationId: string): Promise<number> {
    let deleted = 0;
    for (let page = 0; page < 10_000; page++) {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tables.messages,
          KeyConditionExpression: 'conversationId = :c',
          ExpressionAttributeValues: { ':c': conversationId },
          ProjectionExpression: 'conversationId, messageId',
          ConsistentRead: true,
          Limit: 500,
        }),
      );
      const keys = page.Items ?? [];
      if (keys.length === 0) return deleted;
      await deleteKeys(this.client, this.tables.messages, keys);
      deleted += keys.length;
    }
    throw new Error(`conversation ${conversationId}: messages keep arriving while it is deleted`);
  }
}

export class DynamoCaseStore implements CaseStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createCase(record: CaseRecord) {
    return (await putIfAbsent(this.client, this.table, record, ['caseId'])).item;
  }

  async getCase(caseId: string) {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { caseId }, ConsistentRead: true }),
    );
    return result.Item as CaseRecord | undefined;
  }

  async listCases(status?: CaseStatus) {
    const statuses = status ? [status] : CASE_STATUSES;
    const lists = await Promise.all(
      statuses.map((s) =>
        queryAll<CaseRecord>(this.client, {
          TableName: this.table,
          IndexName: 'byStatus',
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': s },
          ScanIndexForward: false,
        }),
      ),
    );
    return lists.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async listByConversation(conversationId: string) {
    const items = await queryAll<CaseRecord>(this.client, {
      TableName: this.table,
      IndexName: 'byConversation',
      KeyConditionExpression: 'conversationId = :c',
      ExpressionAttributeValues: { ':c': conversationId },
    });
    return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  deleteCase(caseId: string) {
    return deleteItem(this.client, this.table, { caseId });
  }

  async updateCase(
    caseId: string,
    changes: Partial<Omit<CaseRecord, 'caseId' | 'conversationId' | 'createdAt'>>,
    expectedStatus?: readonly CaseStatus[],
  ) {
    return conditionalUpdate<CaseRecord>(
      this.client,
      this.table,
      { caseId },
      changes,
      expectedStatus,
      'case',
    );
  }

  markFirstResponse(caseId: string, at: string) {
    return this.setOnce(caseId, 'firstResponseAt', at);
  }

  markNotified(caseId: string, at: string) {
    return this.setOnce(caseId, 'notifiedAt', at);
  }

  private async setOnce(caseId: string, attribute: 'firstResponseAt' | 'notifiedAt', at: string) {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { caseId },
          UpdateExpression: 'SET #a = :at',
          ConditionExpression: 'attribute_exists(caseId) AND attribute_not_exists(#a)',
          ExpressionAttributeNames: { '#a': attribute },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

export class DynamoConnectionStore implements ConnectionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: () => number = Date.now,
  ) {}

  private live = (record: ConnectionRecord | undefined) =>
    record && record.expiresAt * 1000 > this.clock() ? record : undefined;

  async putConnection(record: ConnectionRecord) {
    await this.client.send(new PutCommand({ TableName: this.table, Item: record }));
  }

  async getConnection(connectionId: string) {
    const result = await this.client.send(new GetCommand({ TableName: this.table, Key: { connectionId } }));
    return this.live(result.Item as ConnectionRecord | undefined);
  }

  async deleteConnection(connectionId: string) {
    await this.client.send(new DeleteCommand({ TableName: this.table, Key: { connectionId } }));
  }

  async attachConversation(connectionId: string, conversationId: string) {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression: 'SET conversationId = :c',
          ConditionExpression: 'attribute_exists(connectionId)',
          ExpressionAttributeValues: { ':c': conversationId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async listOperators() {
    const items: ConnectionRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await this.client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: '#r = :r',
          ExpressionAttributeNames: { '#r': 'role' },
          ExpressionAttributeValues: { ':r': 'operator' },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((result.Items ?? []) as ConnectionRecord[]));
      startKey = result.LastEvaluatedKey;
      if (!startKey) break;
    }
    return items.filter((r) => this.live(r));
  }

  async listByConversation(conversationId: string) {
    const items = await queryAll<ConnectionRecord>(this.client, {
      TableName: this.table,
      IndexName: 'byConversation',
      KeyConditionExpression: 'conversationId = :c',
      ExpressionAttributeValues: { ':c': conversationId },
    });
    return items.filter((r) => this.live(r));
  }
}
