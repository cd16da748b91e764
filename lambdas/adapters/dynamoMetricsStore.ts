/**
 * MetricsStore on the `metrics` table (pk `bucket`, sk `metric`), same code against AWS and dynalite.
 *
 * Layout: one item per time bucket, sk 'counters', with one numeric attribute per counter, so one event
 * costs at most three writes whatever it counts: a `seen#<eventId>` marker (conditional put, expiring via
 * the `expiresAt` TTL attribute) then one `ADD` UpdateItem for its hour bucket and one for its five-minute
 * bucket (whose item also expires: only the 1h window reads it). Counters of an hour stay small (a few
 * hundred attributes at most, histogram buckets included), far below the 400 KB item limit.
 *
 * At-least-once delivery: a replayed event finds its marker and changes nothing. When the hour update
 * fails the marker is removed again so the redelivery counts the event; when only the five-minute update
 * fails the hour (the record) has counted it, the marker stays and the error is rethrown, so the 1h view
 * may miss that one event but no total counts it twice.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  bucketStart,
  bucketsBetween,
  type MetricIncrement,
  type MetricRow,
  type MetricsStore,
} from '#core/metricsAggregation';

/** Sort key of a bucket's counters item; the bucket's `seen#<eventId>` markers sit beside it. */
const COUNTERS = 'counters';
const SEEN_PREFIX = 'seen#';
const EXPIRES_AT = 'expiresAt';
const KEY_ATTRIBUTES = new Set(['bucket', 'metric', EXPIRES_AT]);
/** Five-minute buckets serve the 1h window only. */
const FIVE_MINUTE_RETENTION_SECONDS = 2 * 24 * 3600;
const HOUR_BUCKET_LENGTH = 'YYYY-MM-DDTHH'.length;

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error)?.name === 'ConditionalCheckFailedException';

export interface DynamoMetricsStoreOptions {
  /** Parallel Query calls of one read. @default 8 */
  readonly readConcurrency?: number;
}

export class DynamoMetricsStore implements MetricsStore {
  private readonly readConcurrency: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoMetricsStoreOptions = {},
  ) {
    this.readConcurrency = options.readConcurrency ?? 8;
    if (!(Number.isInteger(this.readConcurrency) && this.readConcurrency >= 1)) {
      throw new Error(`readConcurrency must be a positive integer, got ${options.readConcurrency}`);
    }
  }

  async increment(
    updates: readonly MetricIncrement[],
    { eventId, dedupeUntil }: { readonly eventId: string; readonly dedupeUntil: number },
  ): Promise<boolean> {
    const byBucket = groupByBucket(updates);
    if (byBucket.size === 0) return true;
    // Hour buckets (the record) first; an event's buckets all share its hour.
    const buckets = [...byBucket.keys()].sort((a, b) => a.length - b.length || a.localeCompare(b));
    const marker = { bucket: buckets[0]!.slice(0, HOUR_BUCKET_LENGTH), metric: `${SEEN_PREFIX}${eventId}` };

    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...marker, [EXPIRES_AT]: dedupeUntil },
          ConditionExpression: 'attribute_not_exists(#metric)',
          ExpressionAttributeNames: { '#metric': 'metric' },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }

    for (const [position, bucket] of buckets.entries()) {
      try {
        await this.add(bucket, byBucket.get(bucket)!);
      } catch (error) {
        if (position === 0) {
          await this.client
            .send(new DeleteCommand({ TableName: this.tableName, Key: marker }))
            .catch(() => undefined);
        }
        throw error;
      }
    }
    return true;
  }

  async read(fromBucket: string, toBucket: string): Promise<MetricRow[]> {
    const buckets = bucketsBetween(fromBucket, toBucket);
    const perBucket = await mapBounded(buckets, this.readConcurrency, (bucket) => this.readBucket(bucket));
    return perBucket.flat();
  }

  private async add(bucket: string, counters: ReadonlyMap<string, number>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, number> = {};
    const adds = [...counters].map(([metric, value], i) => {
      names[`#c${i}`] = metric;
      values[`:c${i}`] = value;
      return `#c${i} :c${i}`;
    });
    let expression = `ADD ${adds.join(', ')}`;
    if (bucket.length > HOUR_BUCKET_LENGTH) {
      names['#expiresAt'] = EXPIRES_AT;
      values[':expiresAt'] = Math.floor(bucketStart(bucket) / 1000) + FIVE_MINUTE_RETENTION_SECONDS;
      expression += ' SET #expiresAt = :expiresAt';
    }
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { bucket, metric: COUNTERS },
        UpdateExpression: expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  private async readBucket(bucket: string): Promise<MetricRow[]> {
    const rows: MetricRow[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          // Only the counters item: the key condition keeps the bucket's seen# markers out of the read.
          KeyConditionExpression: '#bucket = :bucket AND #metric = :counters',
          ExpressionAttributeNames: { '#bucket': 'bucket', '#metric': 'metric' },
          ExpressionAttributeValues: { ':bucket': bucket, ':counters': COUNTERS },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        for (const [metric, value] of Object.entries(item)) {
          if (!KEY_ATTRIBUTES.has(metric) && typeof value === 'number') rows.push({ bucket, metric, value });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return rows;
  }
}

function groupByBucket(updates: readonly MetricIncrement[]): Map<string, Map<string, number>> {
  const byBucket = new Map<string, Map<string, number>>();
  for (const { bucket, metric, value } of updates) {
    if (KEY_ATTRIBUTES.has(metric) || metric.startsWith(SEEN_PREFIX)) {
      throw new Error(`'${metric}' is reserved in the metrics table and cannot be a counter`);
    }
    if (value === 0) continue;
    const counters = byBucket.get(bucket) ?? new Map<string, number>();
    counters.set(metric, (counters.get(metric) ?? 0) + value);
    byBucket.set(bucket, counters);
  }
  return byBucket;
}

async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await map(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
