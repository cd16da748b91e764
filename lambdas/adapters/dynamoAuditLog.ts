/**
 * The audit log on the `audit` table (pk `auditId`, GSI byDay = (day, at)), same code against AWS and
 * dynalite. Append-only: every entry is one PutItem conditional on attribute_not_exists(auditId), so a
 * retried append leaves the first write untouched and is not an error. This class has no update or delete
 * path, and on AWS the application roles are granted PutItem and reads only.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  AUDIT_DAY,
  AUDIT_ID,
  type AuditEntry,
  type AuditLog,
  type AuditPage,
  type AuditReader,
  auditDayOf,
  InvalidAuditCursorError,
} from '#core/auditLog';

/** Listing partition attribute: the entry's UTC day. */
const DAY = 'day';
const BY_DAY = 'byDay';
/** Parallel PutItems of one append. */
const WRITE_CONCURRENCY = 8;

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error)?.name === 'ConditionalCheckFailedException';

export class DynamoAuditLog implements AuditLog, AuditReader {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(entries: readonly AuditEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += WRITE_CONCURRENCY) {
      await Promise.all(entries.slice(i, i + WRITE_CONCURRENCY).map((entry) => this.appendOne(entry)));
    }
  }

  async listDay(day: string, page: { readonly limit: number; readonly cursor?: string }): Promise<AuditPage> {
    if (!AUDIT_DAY.test(day)) throw new RangeError(`'${day}' is not a day (YYYY-MM-DD)`);
    if (!(Number.isInteger(page.limit) && page.limit >= 1)) {
      throw new RangeError(`limit must be a positive integer, got ${page.limit}`);
    }
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_DAY,
        KeyConditionExpression: '#day = :day',
        ExpressionAttributeNames: { '#day': DAY },
        ExpressionAttributeValues: { ':day': day },
        Limit: page.limit,
        ...(page.cursor ? { ExclusiveStartKey: decodeCursor(page.cursor, day) } : {}),
      }),
    );
    const entries = (result.Items ?? []).map(({ [DAY]: _day, ...entry }) => entry as AuditEntry);
    return {
      entries,
      ...(result.LastEvaluatedKey ? { nextCursor: encodeCursor(result.LastEvaluatedKey) } : {}),
    };
  }

  private async appendOne(entry: AuditEntry): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...entry, [DAY]: auditDayOf(entry) },
          ConditionExpression: 'attribute_not_exists(#auditId)',
          ExpressionAttributeNames: { '#auditId': 'auditId' },
        }),
      );
    } catch (error) {
      // Already recorded (a retry): the stored entry stands as it was first written.
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/** LastEvaluatedKey of byDay is { auditId, day, at }: all strings, carried as base64url JSON. */
const encodeCursor = (key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

function decodeCursor(cursor: string, day: string): Record<string, string> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidAuditCursorError('cursor is not one this API returned');
  }
  const { auditId, at, [DAY]: keyDay, ...rest } = (key ?? {}) as Record<string, unknown>;
  if (
    typeof auditId !== 'string' ||
    !AUDIT_ID.test(auditId) ||
    typeof at !== 'string' ||
    keyDay !== day ||
    Object.keys(rest).length > 0
  ) {
    throw new InvalidAuditCursorError('cursor is not one this API returned for this day');
  }
  return { auditId, at, [DAY]: day };
}
