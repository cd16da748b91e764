/**
 * The local face: the same Lambda handlers the CDK app deploys, behind local stand-ins for API Gateway
 * (REST + WebSocket), DynamoDB (dynalite), Step Functions (aws-local-stepfunctions), SQS (fauxqs) and
 * EventBridge (in-process bus). Handlers reach them through the SDK's standard endpoint variables, so
 * nothing in lambdas/ knows it runs locally. One face per process: handler singletons read the env once.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { EVENT_ROUTES, type EventConsumer } from '#adapters/eventRoutes';
import { TABLES, type TableName } from '#adapters/tableDefinitions';
import { startAwsJsonServices } from './awsJsonServices';
import { ensureTables, localAwsClientConfig, startDynamo } from './dynamoServer';
import { LocalEventBus } from './eventBus';
import { type RestHandler, startLocalGateway, type WebSocketHandler } from './gateway';
import { ensureQueue, startQueueConsumer, startSqs } from './sqsServer';
import { LocalStateMachine, loadStateMachineDefinition } from './stepFunctionsRunner';

const ROOT = resolve(import.meta.dirname, '..');
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const lambdaArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:supportmax-${name}`;
const TURN_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:supportmax-turn`;

export interface LocalFaceOptions {
  readonly port: number;
  readonly host?: string;
  readonly dataDir: string;
  readonly logger?: { info(message: string): void; error(message: string, error?: unknown): void };
}

export interface LocalFace {
  readonly url: string;
  readonly wsUrl: string;
  close(): Promise<void>;
}

type AnyHandler = (event: never, context: Context) => Promise<unknown>;

/** A Lambda-like context for in-process invocations. */
export function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: lambdaArn(functionName),
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const invoke = (handler: AnyHandler, name: string) => async (event: unknown) => {
  const t0 = performance.now();
  try {
    return await handler(event as never, lambdaContext(`supportmax-${name}`));
  } finally {
    if (process.env.SUPPORTMAX_TRACE)
      console.log(`[trace] ${name} ${(performance.now() - t0).toFixed(1)} ms`);
  }
};

export async function startLocalFace(options: LocalFaceOptions): Promise<LocalFace> {
  const log = options.logger ?? { info: console.log, error: console.error };
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) {
      try {
        await closer();
      } catch (error) {
        log.error('error while stopping the local face', error);
      }
    }
  };

  try {
    const dynamo = await startDynamo({ dataDir });
    closers.push(() => dynamo.close());
    const tableNames = Object.fromEntries(Object.keys(TABLES).map((t) => [t, `supportmax-${t}`])) as Record<
      TableName,
      string
    >;
    const dynamoClient = new DynamoDBClient(localAwsClientConfig(dynamo.endpoint));
    await ensureTables(dynamoClient, tableNames);
    dynamoClient.destroy();

    const sqs = await startSqs();
    closers.push(() => sqs.close());
    const sqsClient = new SQSClient({ ...localAwsClientConfig(sqs.endpoint), useQueueUrlAsEndpoint: false });
    const escalations = await ensureQueue(sqsClient, 'supportmax-escalations', {
      dlqName: 'supportmax-escalations-dlq',
      maxReceiveCount: 3,
      visibilityTimeoutSeconds: 30,
    });

    // Handlers read their configuration from the environment, exactly as in Lambda.
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      ESCALATION_QUEUE_URL: escalations.queueUrl,
      EVENT_BUS_NAME: 'supportmax',
      CONSOLE_FEED: 'open',
      TURN_STATE_MACHINE_ARN,
      KNOWLEDGE_BASE_OVERLAY: join(dataDir, 'kb.jsonl'),
      EMBEDDING_CACHE_PATH: join(dataDir, 'kb-embeddings.jsonl'),
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      ...Object.fromEntries(Object.entries(TABLES).map(([t, d]) => [d.envVar, tableNames[t as TableName]])),
    });

    // Handler modules are imported only now, so their Powertools instances see the settings above.
    const handlers = await loadHandlers();
    const eventBus = new LocalEventBus({
      onUndelivered: (rule, envelope, error) =>
        log.error(`event ${envelope['detail-type']} lost by rule ${rule}`, error),
    });
    const consumers: Record<EventConsumer, AnyHandler> = {
      metricsAggregator: handlers.metricsAggregator,
      consoleNotifier: handlers.consoleNotifier,
    };
    for (const route of EVENT_ROUTES) {
      eventBus.addRule({
        name: route.rule,
        pattern: route.pattern as never,
        target: async (envelope) => {
          await invoke(
            consumers[route.consumer],
            route.consumer,
          )({
            version: '0',
            id: envelope.id,
            'detail-type': envelope['detail-type'],
            source: envelope.source,
            account: ACCOUNT,
            time: envelope.time,
            region: REGION,
            resources: [],
            detail: envelope.detail,
          });
        },
      });
    }
    closers.push(() => eventBus.drain());

    const definition = await loadStateMachineDefinition(join(ROOT, 'statemachines', 'turn.asl.json'), {
      ClassifyFunctionArn: lambdaArn('classify'),
      RetrieveFunctionArn: lambdaArn('retrieve'),
      AnswerFunctionArn: lambdaArn('answer'),
      EscalateFunctionArn: lambdaArn('escalate'),
    });
    const turnMachine = new LocalStateMachine(definition, {
      name: 'supportmax-turn',
      // Bounded like a Lambda concurrency limit: past saturation turns queue instead of all timing out.
      maxConcurrentExecutions: 16,
      resources: {
        [lambdaArn('classify')]: invoke(handlers.classify, 'classify'),
        [lambdaArn('retrieve')]: invoke(handlers.retrieve, 'retrieve'),
        [lambdaArn('answer')]: invoke(handlers.answer, 'answer'),
        [lambdaArn('escalate')]: invoke(handlers.escalate, 'escalate'),
      },
    });
    const services = await startAwsJsonServices({
      stateMachines: { [TURN_STATE_MACHINE_ARN]: turnMachine },
      eventBus,
      logger: { info: () => undefined, error: (message, extra) => log.error(message, extra) },
    });
    closers.push(async () => {
      await services.executions.drain();
      await services.close();
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SFN: services.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: services.endpoint,
    });

    const stopConsumer = new AbortController();
    const consumer = startQueueConsumer({
      client: sqsClient,
      queueUrl: escalations.queueUrl,
      handler: invoke(handlers.escalationIntake, 'escalation-intake') as never,
      waitTimeSeconds: 1,
      signal: stopConsumer.signal,
      onError: (error) => log.error('escalation queue consumer error', error),
    });
    closers.push(async () => {
      stopConsumer.abort();
      await consumer.stopped;
      sqsClient.destroy();
    });

    const rest = (handler: AnyHandler): RestHandler => handler as unknown as RestHandler;
    const ws = (handler: AnyHandler, name: string): WebSocketHandler =>
      invoke(handler, name) as unknown as WebSocketHandler;
    const gateway = await startLocalGateway({
      port: options.port,
      host: options.host ?? '127.0.0.1',
      rest: [
        { method: 'GET', resource: '/api/health', handler: rest(handlers.health) },
        { method: 'GET', resource: '/api/metrics', handler: rest(handlers.getMetrics) },
        { method: 'GET', resource: '/api/cases', handler: rest(handlers.cases) },
        { method: 'GET', resource: '/api/cases/{caseId}', handler: rest(handlers.cases) },
        { method: 'POST', resource: '/api/cases/{caseId}/takeover', handler: rest(handlers.cases) },
        { method: 'POST', resource: '/api/cases/{caseId}/reply', handler: rest(handlers.cases) },
        { method: 'POST', resource: '/api/cases/{caseId}/resolve', handler: rest(handlers.cases) },
      ],
      websocket: {
        path: '/ws',
        routes: {
          $connect: ws(handlers.connect, 'connect'),
          $disconnect: ws(handlers.disconnect, 'disconnect'),
          $default: ws(handlers.message, 'message'),
          sendMessage: ws(handlers.message, 'message'),
          subscribeConsole: ws(handlers.message, 'message'),
        },
      },
      staticFiles: {
        dir: join(ROOT, 'web'),
        pages: { '/': 'index.html', '/console': 'console.html', '/metrics': 'metrics.html' },
      },
      maxConcurrentMessages: 32,
      logger: { info: () => undefined, error: (message, extra) => log.error(message, extra) },
    });
    closers.push(() => gateway.close());
    process.env.WEBSOCKET_CALLBACK_URL = gateway.managementEndpoint;

    // Load the models and the KB index before accepting traffic, so the first reply is fast.
    // Warm the embedding model's kernels and the SDK clients too: the first customer should not pay for them.
    const { engine, conversationStore } = await import('#handlers/shared/runtime');
    const ready = await engine();
    await ready.retrieve(await ready.classify('How do I reset my password?'));
    await conversationStore().getConversation('warm-up');
    return { url: gateway.url, wsUrl: gateway.wsUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function loadHandlers() {
  const [
    connect,
    disconnect,
    message,
    classify,
    retrieve,
    answer,
    escalate,
    cases,
    health,
    getMetrics,
    metricsAggregator,
    consoleNotifier,
    escalationIntake,
  ] = await Promise.all([
    import('#handlers/ws/connect'),
    import('#handlers/ws/disconnect'),
    import('#handlers/ws/message'),
    import('#handlers/turn/classify'),
    import('#handlers/turn/retrieve'),
    import('#handlers/turn/answer'),
    import('#handlers/turn/escalate'),
    import('#handlers/api/cases'),
    import('#handlers/api/health'),
    import('#handlers/api/getMetrics'),
    import('#handlers/events/metricsAggregator'),
    import('#handlers/events/consoleNotifier'),
    import('#handlers/queue/escalationIntake'),
  ]);
  const h = (module: { handler: unknown }) => module.handler as AnyHandler;
  return {
    connect: h(connect),
    disconnect: h(disconnect),
    message: h(message),
    classify: h(classify),
    retrieve: h(retrieve),
    answer: h(answer),
    escalate: h(escalate),
    cases: h(cases),
    health: h(health),
    getMetrics: h(getMetrics),
    metricsAggregator: h(metricsAggregator),
    consoleNotifier: h(consoleNotifier),
    escalationIntake: h(escalationIntake),
  };
}
