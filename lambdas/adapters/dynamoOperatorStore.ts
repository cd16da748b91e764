/**
 * DynamoDB implementation of the operator store (the local face's `operators` and `operatorSessions`
 * tables in dynalite; on AWS, Cognito holds the operators). Sessions are keyed by the SHA-256 of their
 * token; the service ignores expired ones and DynamoDB TTL (`expiresAt`) drops them.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { OperatorSession, OperatorStore, OperatorUser } from '#core/operatorAuth';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error)?.name === 'ConditionalCheckFailedException';

export class DynamoOperatorStore implements OperatorStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { readonly operators: string; readonly sessions: string },
  ) {}

  async getUser(username: string) {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tables.operators, Key: { username }, ConsistentRead: true }),
    );
    return result.Item as OperatorUser | undefined;
  }

  async createUser(user: OperatorUser) {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tables.operators,
          Item: user,
          ConditionExpression: 'attribute_not_exists(username)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async updateUser(username: string, changes: Partial<Omit<OperatorUser, 'username' | 'createdAt'>>) {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tables.operators,
        Key: { username },
        UpdateExpression: `SET ${entries.map(([key]) => `#${key} = :${key}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(username)',
        ExpressionAttributeNames: Object.fromEntries(entries.map(([key]) => [`#${key}`, key])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([key, value]) => [`:${key}`, value])),
      }),
    );
  }

  async listUsers() {
    const users: OperatorUser[] = [];
    let startKey: Record<string, unknown> | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await this.client.send(
        new ScanCommand({ TableName: this.tables.operators, ExclusiveStartKey: startKey }),
      );
      users.push(...((result.Items ?? []) as OperatorUser[]));
      startKey = result.LastEvaluatedKey;
      if (!startKey) break;
    }
    return users;
  }

  async putSession(session: OperatorSession) {
    await this.client.send(new PutCommand({ TableName: this.tables.sessions, Item: session }));
  }

  async getSession(sessionHash: string) {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tables.sessions, Key: { sessionHash }, ConsistentRead: true }),
    );
    // TTL deletes lazily (and dynalite not at all): the service checks expiresAt itself.
    return result.Item as OperatorSession | undefined;
  }

  async touchSession(sessionHash: string, lastSeenAt: number) {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.sessions,
          Key: { sessionHash },
          UpdateExpression: 'SET lastSeenAt = :t',
          ConditionExpression: 'attribute_exists(sessionHash)',
          ExpressionAttributeValues: { ':t': lastSeenAt },
        }),
      );
    } catch (error) {
      // Signed out in the meantime: nothing to refresh.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async deleteSession(sessionHash: string) {
    await this.client.send(new DeleteCommand({ TableName: this.tables.sessions, Key: { sessionHash } }));
  }
}
