/**
 * DynamoDB implementation of the e-mail channel's EmailLog and EmailThreadStore, in one table
 * (EMAIL_TABLE, same code against AWS and dynalite). Item kinds, by partition key:
 *   IN#<message id>     STATE         processing claim / done marker of an inbound mail (idempotency)
 *   MSG#<message id>    THREAD        Message-ID → conversation (first link wins)
 *   CASE#<case id>      THREAD        case → conversation
 *   CONV#<conv id>      LAST_INBOUND  threading context of the conversation's latest inbound mail
 *   TO#<sha256(addr)>   <sentAt>#<id> one automatic reply to a sender (loop guard), hashed: no address at rest
 * Records carry `expiresAt` (epoch seconds) for DynamoDB TTL; readers here never depend on expiry.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EmailThreadRecords } from '#core/customerData';
import type { EmailLog, EmailThreadContext, EmailThreadStore, InboundClaim } from '#core/emailChannel';
import { normaliseMessageId } from '#core/emailThreading';

export interface DynamoEmailStoreOptions {
  /** How long thread links and processed markers are kept. @default 400 days */
  readonly retentionDays?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const DAY_SECONDS = 24 * 60 * 60;
/** Reply log entries only matter to the loop guard's window. */
const REPLY_RETENTION_SECONDS = 2 * DAY_SECONDS;

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error)?.name === 'ConditionalCheckFailedException';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
/** Message-IDs are sender-controlled and may be long: long ones are hashed to stay within key limits. */
const idKey = (value: string) => (value.length > 512 ? `sha256:${sha256(value)}` : value);
const sortableTime = (epochMs: number) => String(Math.max(0, Math.floor(epochMs))).padStart(15, '0');

/** Message-IDs of one last-inbound context whose links an erasure removes (a References header is bounded). */
const MAX_ERASED_LINKS = 100;

export class DynamoEmailStore implements EmailLog, EmailThreadStore, EmailThreadRecords {
  private readonly retentionSeconds: number;
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoEmailStoreOptions = {},
  ) {
    this.retentionSeconds = (options.retentionDays ?? 400) * DAY_SECONDS;
    this.now = options.now ?? Date.now;
  }

  private expiresAt(seconds = this.retentionSeconds) {
    return Math.floor(this.now() / 1000) + seconds;
  }

  // EmailLog -------------------------------------------------------------------------------------------

  async claimInbound(messageKey: string, now: number, leaseMs: number): Promise<InboundClaim> {
    const key = { pk: `IN#${idKey(messageKey)}`, sk: 'STATE' };
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'SET #status = :processing, leaseUntil = :lease, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :processing AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':processing': 'processing',
            ':lease': now + leaseMs,
            ':now': now,
            ':exp': this.expiresAt(),
          },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = await this.client.send(
        new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
      );
      return current.Item?.status === 'done' ? 'processed' : 'inProgress';
    }
  }

  async completeInbound(messageKey: string, now: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `IN#${idKey(messageKey)}`, sk: 'STATE' },
        UpdateExpression: 'SET #status = :done, completedAt = :now, expiresAt = :exp REMOVE leaseUntil',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':done': 'done', ':now': now, ':exp': this.expiresAt() },
      }),
    );
  }

  async releaseInbound(messageKey: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `IN#${idKey(messageKey)}`, sk: 'STATE' },
          ConditionExpression: '#status = :processing',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':processing': 'processing' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async recordReply(sender: string, sentAt: number): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `TO#${sha256(sender.toLowerCase())}`,
          sk: `${sortableTime(sentAt)}#${randomUUID()}`,
          sentAt,
          expiresAt: Math.floor(sentAt / 1000) + REPLY_RETENTION_SECONDS,
        },
      }),
    );
  }

  async repliesSince(sender: string, since: number): Promise<{ readonly sentAt: number }[]> {
    const items: { sentAt: number }[] = [];
    let startKey: Record<string, unknown> | undefined;
    for (let page = 0; page < 20; page++) {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk > :since',
          ExpressionAttributeValues: {
            ':pk': `TO#${sha256(sender.toLowerCase())}`,
            ':since': sortableTime(since),
          },
          ProjectionExpression: 'sentAt',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) items.push({ sentAt: Number(item.sentAt) });
      startKey = result.LastEvaluatedKey;
      if (!startKey) break;
    }
    return items.filter((item) => item.sentAt > since);
  }

  // EmailThreadStore -----------------------------------------------------------------------------------

  async findConversationByMessageId(messageKey: string): Promise<string | undefined> {
    return this.conversationAt(`MSG#${idKey(messageKey)}`);
  }

  async linkMessageId(messageKey: string, conversationId: string): Promise<void> {
    await this.linkOnce(`MSG#${idKey(messageKey)}`, conversationId);
  }

  async findConversationByCaseId(caseId: string): Promise<string | undefined> {
    return this.conversationAt(`CASE#${caseId}`);
  }

  async linkCase(caseId: string, conversationId: string): Promise<void> {
    await this.linkOnce(`CASE#${caseId}`, conversationId);
  }

  async lastInbound(conversationId: string): Promise<EmailThreadContext | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `CONV#${conversationId}`, sk: 'LAST_INBOUND' },
        ConsistentRead: true,
      }),
    );
    if (!result.Item) return undefined;
    const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...context } = result.Item;
    return context as EmailThreadContext;
  }

  async saveLastInbound(context: EmailThreadContext): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...context,
            references: [...context.references],
            pk: `CONV#${context.conversationId}`,
            sk: 'LAST_INBOUND',
            expiresAt: this.expiresAt(),
          },
          // Mails can arrive out of order: an older one must not replace what an agent replies to.
          ConditionExpression: 'attribute_not_exists(pk) OR receivedAt <= :receivedAt',
          ExpressionAttributeValues: { ':receivedAt': context.receivedAt },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  // Customer data erasure ------------------------------------------------------------------------------

  /**
   * Deletes what this table holds about a conversation and can find by it: the case links of its cases,
   * the Message-ID links of the mails its last inbound context names (only where they point at this
   * conversation), then the context itself, last, so an interrupted erasure finds the ids again.
   */
  async eraseThread(conversationId: string, caseIds: readonly string[]): Promise<number> {
    const context = await this.lastInbound(conversationId);
    const messageKeys = new Set<string>();
    for (const id of [context?.messageId, context?.inReplyTo, ...(context?.references ?? [])]) {
      const key = normaliseMessageId(id);
      if (key && messageKeys.size < MAX_ERASED_LINKS) messageKeys.add(idKey(key));
    }
    const links = [
      ...caseIds.map((caseId) => `CASE#${caseId}`),
      ...[...messageKeys].map((key) => `MSG#${key}`),
    ];
    let erased = 0;
    for (const pk of links) {
      if (await this.deleteIf({ pk, sk: 'THREAD' }, conversationId)) erased++;
    }
    if (await this.deleteIf({ pk: `CONV#${conversationId}`, sk: 'LAST_INBOUND' }, conversationId)) erased++;
    return erased;
  }

  /** Deletes the item when it belongs to the conversation; true when this call deleted it. */
  private async deleteIf(key: { pk: string; sk: string }, conversationId: string): Promise<boolean> {
    try {
      const result = await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: key,
          ConditionExpression: 'conversationId = :c',
          ExpressionAttributeValues: { ':c': conversationId },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return result.Attributes !== undefined;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async conversationAt(pk: string): Promise<string | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk, sk: 'THREAD' }, ConsistentRead: true }),
    );
    return result.Item?.conversationId as string | undefined;
  }

  /** First link wins: a later mail reusing a known Message-ID cannot move it to another conversation. */
  private async linkOnce(pk: string, conversationId: string) {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk, sk: 'THREAD', conversationId, expiresAt: this.expiresAt() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
