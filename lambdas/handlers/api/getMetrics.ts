/**
 * GET /api/metrics?window=1h|24h|7d (default 1h; role supervisor or above): the operational summary of the
 * metrics page, read from the time buckets the metrics aggregator fills. Definitions live in
 * #core/metricsAggregation.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { documentClient } from '#adapters/dynamoDocumentClient';
import { DynamoMetricsStore } from '#adapters/dynamoMetricsStore';
import { TABLES } from '#adapters/tableDefinitions';
import { METRICS_WINDOWS, type MetricsStore, summarize, windowBuckets } from '#core/metricsAggregation';
import type { Clock } from '#core/ports';
import { requireRole } from '../shared/authorization';
import { domainClock } from '../shared/clock';
import { requireEnv } from '../shared/env';
import { json, parseQuery, restHandler } from '../shared/http';

const querySchema = z.object({
  window: z.enum(METRICS_WINDOWS as ['1h', '24h', '7d']).default('1h'),
});

export interface GetMetricsDependencies {
  readonly store: MetricsStore;
  readonly clock: Clock;
}

/** The handler body without Lambda wiring, for tests. */
export function createGetMetrics({ store, clock }: GetMetricsDependencies) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const { window } = parseQuery(event, querySchema);
    const now = clock.now();
    const buckets = windowBuckets(window, now);
    const rows = await store.read(buckets[0]!, buckets[buckets.length - 1]!);
    return json(200, summarize(rows, window, now));
  };
}

let getMetrics: ReturnType<typeof createGetMetrics> | undefined;

export const handler = restHandler(async (event) => {
  requireRole(event, 'supervisor');
  getMetrics ??= createGetMetrics({
    store: new DynamoMetricsStore(documentClient(), requireEnv(TABLES.metrics.envVar)),
    clock: domainClock,
  });
  return getMetrics(event);
});
