import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoMetricsStore } from '#adapters/dynamoMetricsStore';
import { TABLES, type TableName } from '#adapters/tableDefinitions';
import type { DomainEvent, EventEnvelope } from '#core/domainEvents';
import { METRIC_NAMESPACE } from '#core/metricNames';
import type { MetricsSummary } from '#core/metricsAggregation';
import { createGetMetrics, handler as getMetricsHandler } from '#handlers/api/getMetrics';
import { handler as aggregatorHandler, createMetricsAggregator } from '#handlers/events/metricsAggregator';
import { type DynamoServer, ensureTables, localAwsClientConfig, startDynamo } from '#local/dynamoServer';

const tableNames = Object.fromEntries(Object.keys(TABLES).map((name) => [name, `test-${name}`])) as Record<
  TableName,
  string
>;

const NOW = Date.parse('2024-05-01T12:30:00Z');
const clock = { now: () => NOW };

let nextId = 0;
function envelope(detail: DomainEvent, time = '2024-05-01T12:10:00.000Z'): EventEnvelope {
  nextId++;
  return { id: `event-${nextId}`, source: 'supportmax', 'detail-type': detail.type, time, detail };
}

const received = (conversationId: string): DomainEvent => ({
  type: 'MessageReceived',
  conversationId,
  messageId: `${conversationId}-m1`,
  channel: 'chat',
  firstMessage: true,
});

const answered = (conversationId: string, turnLatencyMs: number): DomainEvent => ({
  type: 'MessageAnswered',
  conversationId,
  messageId: `${conversationId}-a1`,
  intent: 'billing_refund',
  productArea: 'billing',
  confidence: 0.88,
  faqIds: ['faq-12'],
  turnLatencyMs,
  retrievalLatencyMs: 40,
  modelLatencyMs: turnLatencyMs - 200,
  modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  inputTokens: 1000,
  outputTokens: 300,
  costUsd: 0.0025,
});

const escalated = (conversationId: string): DomainEvent => ({
  type: 'ConversationEscalated',
  conversationId,
  caseId: `case-${conversationId}`,
  reason: 'human_requested',
  intent: 'account_login',
  productArea: 'auth',
  confidence: 0.4,
  turnLatencyMs: 600,
});

const resolvedByBot = (conversationId: string): DomainEvent => ({
  type: 'ConversationResolved',
  conversationId,
  resolvedBy: 'automated',
  resolutionSeconds: 95,
  intent: 'billing_refund',
  productArea: 'billing',
});

/** A GET /api/metrics as API Gateway passes it after the Cognito authorizer let a supervisor in. */
const restEvent = (
  query: Record<string, string> | null,
  claims: Record<string, string> = { 'cognito:username': 'sam', 'cognito:groups': 'supervisor' },
) =>
  ({
    httpMethod: 'GET',
    path: '/api/metrics',
    queryStringParameters: query,
    requestContext: { authorizer: { claims } },
  }) as unknown as APIGatewayProxyEvent;

const lambdaContext = {
  functionName: 'supportmax-metrics',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:supportmax-metrics',
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/supportmax-metrics',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

describe('metrics over DynamoDB (dynalite)', () => {
  let dataDir: string;
  let server: DynamoServer;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  // Built while POWERTOOLS_METRICS_DISABLED is stubbed: the tests of the factories print no EMF.
  const quietMetrics = () => new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'test' });

  beforeAll(async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    dataDir = await mkdtemp(join(tmpdir(), 'supportmax-metrics-'));
    server = await startDynamo({ dataDir });
    client = new DynamoDBClient(localAwsClientConfig(server.endpoint));
    documents = DynamoDBDocumentClient.from(client);
    await ensureTables(client, tableNames);
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    client?.destroy();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Each test counts into its own table, so the tests do not see each other's events. */
  async function freshStore(): Promise<{ store: DynamoMetricsStore; tableName: string }> {
    const tableName = `test-metrics-${nextId++}`;
    await ensureTables(client, { ...tableNames, metrics: tableName });
    return { store: new DynamoMetricsStore(documents, tableName), tableName };
  }

  it('counts a redelivered event once, in its hour and its five-minute bucket', async () => {
    // Prepare
    const { store } = await freshStore();
    const aggregate = createMetricsAggregator({ store, clock, metrics: quietMetrics() });
    const event = envelope(received('c-1'));

    // Act
    const outcomes = [await aggregate(event), await aggregate(event)];

    // Assess
    expect(outcomes).toEqual(['counted', 'duplicate']);
    const hour = await store.read('2024-05-01T12', '2024-05-01T12');
    const slot = await store.read('2024-05-01T12:10', '2024-05-01T12:10');
    expect(hour).toEqual(
      expect.arrayContaining([
        { bucket: '2024-05-01T12', metric: 'messages', value: 1 },
        { bucket: '2024-05-01T12', metric: 'conversations', value: 1 },
      ]),
    );
    expect(hour).toHaveLength(2);
    expect(slot.map((row) => [row.metric, row.value]).sort()).toEqual([
      ['conversations', 1],
      ['messages', 1],
    ]);
  });

  it('forgets an event whose hour update failed, so its redelivery is counted', async () => {
    // Prepare
    const { tableName } = await freshStore();
    let updates = 0;
    const flaky = {
      send: (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        if (command instanceof UpdateCommand && updates++ === 0) {
          return Promise.reject(new Error('ProvisionedThroughputExceededException'));
        }
        return documents.send(command);
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoMetricsStore(flaky, tableName);
    const aggregate = createMetricsAggregator({ store, clock, metrics: quietMetrics() });
    const event = envelope(received('c-1'));

    // Act
    const firstDelivery = await aggregate(event).catch((error: Error) => error.message);
    const redelivery = await aggregate(event);

    // Assess
    expect(firstDelivery).toBe('ProvisionedThroughputExceededException');
    expect(redelivery).toBe('counted');
    const rows = await store.read('2024-05-01T12', '2024-05-01T12');
    expect(rows.find((row) => row.metric === 'messages')?.value).toBe(1);
  });

  it('writes at most three items per event and keeps the seen marker out of reads', async () => {
    // Prepare
    const { store, tableName } = await freshStore();
    const aggregate = createMetricsAggregator({ store, clock, metrics: quietMetrics() });

    // Act
    await aggregate(envelope(answered('c-1', 800)));

    // Assess
    const items = await documents.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#b = :b',
        ExpressionAttributeNames: { '#b': 'bucket' },
        ExpressionAttributeValues: { ':b': '2024-05-01T12' },
      }),
    );
    const sortKeys = (items.Items ?? []).map((item) => item.metric as string);
    expect(sortKeys).toEqual(['counters', expect.stringMatching(/^seen#event-\d+$/)]);
    const marker = items.Items!.find((item) => String(item.metric).startsWith('seen#'))!;
    expect(marker.expiresAt).toBe(NOW / 1000 + 48 * 3600);
    const rows = await store.read('2024-05-01T12', '2024-05-01T12');
    expect(rows.some((row) => row.metric.startsWith('seen#') || row.metric === 'expiresAt')).toBe(false);
  });

  it('ignores an event type it does not count and rejects a malformed one', async () => {
    // Prepare
    const { store } = await freshStore();
    const aggregate = createMetricsAggregator({ store, clock, metrics: quietMetrics() });
    const unknown = { id: 'e-x', time: '2024-05-01T12:00:00Z', 'detail-type': 'CustomerCreated', detail: {} };
    const malformed = { ...envelope(answered('c-1', 800)), detail: { type: 'MessageAnswered', intent: 'x' } };

    // Act
    const ignored = await aggregate(unknown);
    const rejected = aggregate(malformed);

    // Assess
    expect(ignored).toBe('ignored');
    await expect(rejected).rejects.toThrow(
      /invalid MessageAnswered event event-\d+: conversationId: Required/,
    );
    expect(await store.read('2024-05-01T00', '2024-05-01T23')).toEqual([]);
  });

  it('serves the summary of the aggregated events on GET /api/metrics', async () => {
    // Prepare
    const { store } = await freshStore();
    const aggregate = createMetricsAggregator({ store, clock, metrics: quietMetrics() });
    const getMetrics = createGetMetrics({ store, clock });
    const events = [
      envelope(received('c-1')),
      envelope(answered('c-1', 800)),
      envelope(resolvedByBot('c-1')),
      envelope(received('c-2')),
      envelope(escalated('c-2')),
      envelope(received('c-3'), '2024-05-01T09:15:00.000Z'),
    ];
    for (const event of events) await aggregate(event);
    await aggregate(events[1]!);

    // Act
    const lastDay = await getMetrics(restEvent({ window: '24h' }));
    const lastHour = await getMetrics(restEvent(null));

    // Assess
    expect(lastDay.statusCode).toBe(200);
    const day = JSON.parse(lastDay.body) as MetricsSummary;
    expect(day).toMatchObject({
      window: '24h',
      conversations: 3,
      messages: 3,
      automationRate: 0.5,
      escalationRate: 0.3333,
      costUsd: { total: 0.0025, perConversation: 0.000833, perAutomatedResolution: 0.0025 },
      byIntent: {
        billing_refund: { conversations: 1, automated: 1, escalated: 0 },
        account_login: { conversations: 1, automated: 0, escalated: 1 },
      },
      escalationReasons: { human_requested: 1 },
    });
    expect(day.series).toHaveLength(24);
    const hour = JSON.parse(lastHour.body) as MetricsSummary;
    expect(hour).toMatchObject({ window: '1h', conversations: 2, messages: 2, automationRate: 0.5 });
    expect(hour.series).toHaveLength(12);
  });

  describe('deployed handlers', () => {
    beforeAll(() => {
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
      vi.stubEnv('METRICS_TABLE', tableNames.metrics);
      vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', server.endpoint);
      vi.stubEnv('AWS_REGION', 'us-east-1');
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    });

    it('answers 403 to an agent: the metrics need a supervisor', async () => {
      // Act
      const response = await getMetricsHandler(
        restEvent({ window: '1h' }, { 'cognito:username': 'dana', 'cognito:groups': '[agent]' }),
        lambdaContext,
      );

      // Assess
      expect(response.statusCode).toBe(403);
      expect(JSON.parse(response.body)).toEqual({
        error: { code: 'Forbidden', message: 'requires role supervisor' },
      });
    });

    it('rejects an unknown window with a 400 ValidationError', async () => {
      // Act
      const response = await getMetricsHandler(restEvent({ window: '30d' }), lambdaContext);

      // Assess
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        error: { code: 'ValidationError', message: expect.stringMatching(/^window: /) },
      });
    });

    it('counts an event into the table named by METRICS_TABLE and emits its EMF metrics', async () => {
      // Prepare
      const output: string[] = [];
      const write = vi
        .spyOn(process.stdout, 'write')
        .mockImplementation((chunk: string | Uint8Array) => output.push(String(chunk)) > 0);
      const event = envelope(escalated('c-9'), new Date().toISOString());

      // Act
      let outcome: unknown;
      let response: Awaited<ReturnType<typeof getMetricsHandler>>;
      try {
        outcome = await aggregatorHandler(event, lambdaContext);
        response = await getMetricsHandler(restEvent({ window: '1h' }), lambdaContext);
      } finally {
        write.mockRestore();
      }

      // Assess
      expect(outcome).toBe('counted');
      expect(JSON.parse(response.body)).toMatchObject({
        escalationRate: 0,
        escalationReasons: { human_requested: 1 },
        byProductArea: { auth: { conversations: 1, automated: 0, escalated: 1 } },
      });
      const emf = output
        .flatMap((chunk) => chunk.split('\n'))
        .filter((line) => line.includes('"_aws"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const withMetric = (name: string, dimension: string) =>
        emf.find((blob) => name in blob && dimension in blob);
      const serviceLevel = withMetric('TurnLatencyMs', 'service');
      expect(serviceLevel).toMatchObject({ service: 'supportmax', TurnsEscalated: 1, TurnLatencyMs: 600 });
      expect(serviceLevel).not.toHaveProperty('intent');
      expect(withMetric('EscalationReason', 'reason')).toMatchObject({ reason: 'human_requested' });
      expect(withMetric('TurnsEscalated', 'intent')).toMatchObject({ intent: 'account_login' });
      expect(withMetric('TurnsEscalated', 'productArea')).toMatchObject({ productArea: 'auth' });
    });
  });
});
