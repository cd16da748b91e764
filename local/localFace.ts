/**
 * The local face: the same Lambda handlers the CDK app deploys, behind local stand-ins for API Gateway
 * (REST + WebSocket), DynamoDB (dynalite), Step Functions (aws-local-stepfunctions), SQS (fauxqs) and
 * EventBridge (in-process bus). Handlers reach them through the SDK's standard endpoint variables, so
 * nothing in lambdas/ knows it runs locally. One face per process: handler singletons read the env once.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { EVENT_ROUTES, type EventConsumer } from '#adapters/eventRoutes';
import { TABLES, type TableName } from '#adapters/tableDefinitions';
import { MIN_SECRET_LENGTH } from '#core/customerToken';
import { startAwsJsonServices } from './awsJsonServices';
import { ensureTables, localAwsClientConfig, startDynamo } from './dynamoServer';
import { LocalEventBus } from './eventBus';
import {
  type GatewayRateLimits,
  type LambdaAuthorizer,
  lambdaContext,
  type RestHandler,
  startLocalGateway,
  type WebSocketHandler,
} from './gateway';
import { DEFAULT_RATE_LIMITS } from './rateLimitConfig';
import { ensureQueue, startQueueConsumer, startSqs } from './sqsServer';
import { LocalStateMachine, LocalTaskTokens, loadStateMachineDefinition } from './stepFunctionsRunner';

const ROOT = resolve(import.meta.dirname, '..');
const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const lambdaArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:supportmax-${name}`;
const TURN_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:supportmax-turn`;
const ESCALATION_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:supportmax-escalation`;

export interface LocalFaceOptions {
  readonly port: number;
  readonly host?: string;
  readonly dataDir: string;
  /** Inbound e-mail (SMTP); 0 picks a free port. @default 2525 */
  readonly smtpPort?: number;
  readonly logger?: { info(message: string): void; error(message: string, error?: unknown): void };
  /** Edge rate limits per IP and per connection. @default DEFAULT_RATE_LIMITS */
  readonly rateLimits?: GatewayRateLimits;
}

export interface LocalFace {
  readonly url: string;
  readonly wsUrl: string;
  /** host:port of the SMTP server that takes customers' e-mails. */
  readonly smtpAddress: string;
  readonly supportEmail: string;
  /** Where replies are written as .eml files. */
  readonly outboxDir: string;
  close(): Promise<void>;
}

type AnyHandler = (event: never, context: Context) => Promise<unknown>;

/** Like a Lambda function timeout, for the handlers the face invokes itself (workflow steps, consumers). */
const HANDLER_TIMEOUT_MS = 30_000;

const invoke = (handler: AnyHandler, name: string) => async (event: unknown) => {
  const t0 = performance.now();
  try {
    return await handler(event as never, lambdaContext(`supportmax-${name}`, HANDLER_TIMEOUT_MS));
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
      SUPPORT_EMAIL_ADDRESS: process.env.SUPPORT_EMAIL_ADDRESS ?? 'support@example.com',
      EMAIL_OUTBOX_DIR: join(dataDir, 'outbox'),
      // E-mail attachments under DATA_DIR/attachments/ (the transcript bucket on AWS).
      ATTACHMENTS_DIR: dataDir,
      ESCALATION_QUEUE_URL: escalations.queueUrl,
      EVENT_BUS_NAME: 'supportmax',
      TURN_STATE_MACHINE_ARN,
      ESCALATION_STATE_MACHINE_ARN,
      KNOWLEDGE_BASE_OVERLAY: join(dataDir, 'kb.jsonl'),
      EMBEDDING_CACHE_PATH: join(dataDir, 'kb-embeddings.jsonl'),
      // The audit archive: append-only day files, earlier days read-only (S3 with object lock on AWS).
      AUDIT_DIR: join(dataDir, 'audit'),
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      ...Object.fromEntries(Object.entries(TABLES).map(([t, d]) => [d.envVar, tableNames[t as TableName]])),
    });
    process.env.CUSTOMER_TOKEN_SECRET = await customerTokenSecretOf(dataDir);

    // Handler modules are imported only now, so their Powertools instances see the settings above.
    const handlers = await loadHandlers();
    const eventBus = new LocalEventBus({
      onUndelivered: (rule, envelope, error) =>
        log.error(`event ${envelope['detail-type']} lost by rule ${rule}`, error),
    });
    const consumers: Record<EventConsumer, AnyHandler> = {
      metricsAggregator: handlers.metricsAggregator,
      consoleNotifier: handlers.consoleNotifier,
      teamNotifier: handlers.teamNotifier,
      crmSync: handlers.crmSync,
      auditRecorder: handlers.auditRecorder,
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
    // Escalations wait for agents for minutes to days: a callback Task per case, completed by SendTaskSuccess.
    const taskTokens = new LocalTaskTokens();
    const escalationMachine = new LocalStateMachine(
      await loadStateMachineDefinition(join(ROOT, 'statemachines', 'escalation.asl.json'), {
        CaseStepFunctionArn: lambdaArn('case-step'),
      }),
      {
        name: 'supportmax-escalation',
        taskTokens,
        resources: { [lambdaArn('case-step')]: invoke(handlers.caseStep, 'case-step') },
      },
    );
    const services = await startAwsJsonServices({
      stateMachines: {
        [TURN_STATE_MACHINE_ARN]: turnMachine,
        [ESCALATION_STATE_MACHINE_ARN]: escalationMachine,
      },
      taskTokens,
      eventBus,
      logger: { info: () => undefined, error: (message, extra) => log.error(message, extra) },
    });
    closers.push(async () => {
      // Waiting escalations end here and start again, from their stored deadlines, on the next start.
      taskTokens.abortAll();
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
    // Every /api route but health and login needs an operator session, checked like a Lambda authorizer.
    const { SESSION_COOKIE } = await import('#handlers/shared/operatorSessions');
    // SUPPORTMAX_CLOCK=controlled (replays, demos): the handlers' one shared clock, moved by POST /@clock.
    const { controlledClock } = await import('#handlers/shared/clock');
    const authorizer = invoke(
      handlers.sessionAuthorizer,
      'session-authorizer',
    ) as unknown as LambdaAuthorizer;
    // Mail intake listens before the gateway answers /api/health, so "healthy" means every door is open.
    const smtp = await startEmailIntake(options, log);
    closers.push(() => smtp.close());
    const gateway = await startLocalGateway({
      port: options.port,
      host: options.host ?? '127.0.0.1',
      rest: [
        { method: 'GET', resource: '/api/health', handler: rest(handlers.health) },
        { method: 'POST', resource: '/api/auth/login', handler: rest(handlers.auth) },
        ...(
          [
            ['GET', '/api/metrics', handlers.getMetrics],
            ['GET', '/api/audit', handlers.audit],
            ['GET', '/api/cases', handlers.cases],
            ['GET', '/api/cases/{caseId}', handlers.cases],
            ['POST', '/api/cases/{caseId}/takeover', handlers.cases],
            ['POST', '/api/cases/{caseId}/reply', handlers.cases],
            ['POST', '/api/cases/{caseId}/resolve', handlers.cases],
            ['POST', '/api/auth/logout', handlers.auth],
            ['GET', '/api/auth/me', handlers.auth],
            ['POST', '/api/auth/password', handlers.auth],
            ['GET', '/api/operators', handlers.operators],
            ['POST', '/api/operators', handlers.operators],
            ['GET', '/api/customers/{customerId}', handlers.customers],
            ['DELETE', '/api/customers/{customerId}', handlers.customers],
          ] as const
        ).map(([method, resource, handler]) => ({ method, resource, handler: rest(handler), authorizer })),
      ],
      websocket: {
        path: '/ws',
        // Operator consoles open the socket with their session cookie; customers connect without one.
        connectAuthorizer: { handler: authorizer, cookie: SESSION_COOKIE },
        routes: {
          $connect: ws(handlers.connect, 'connect'),
          $disconnect: ws(handlers.disconnect, 'disconnect'),
          $default: ws(handlers.message, 'message'),
          sendMessage: ws(handlers.message, 'message'),
          endConversation: ws(handlers.message, 'message'),
          subscribeConsole: ws(handlers.message, 'message'),
        },
      },
      staticFiles: {
        dir: join(ROOT, 'web'),
        pages: { '/': 'index.html', '/console': 'console.html', '/metrics': 'metrics.html' },
      },
      maxConcurrentMessages: 32,
      rateLimits: options.rateLimits ?? DEFAULT_RATE_LIMITS,
      ...(controlledClock ? { clock: controlledClock } : {}),
      logger: { info: () => undefined, error: (message, extra) => log.error(message, extra) },
    });
    closers.push(() => gateway.close());
    process.env.WEBSOCKET_CALLBACK_URL = gateway.managementEndpoint;
    if (controlledClock) log.info(`clock: controlled, moved by POST ${gateway.url}/@clock (test/demo only)`);

    // Load the models and the KB index before accepting traffic, so the first reply is fast.
    // Warm the embedding model's kernels and the SDK clients too: the first customer should not pay for them.
    const { engine, conversationStore } = await import('#handlers/shared/runtime');
    const ready = await engine();
    await ready.retrieve(await ready.classify('How do I reset my password?'));
    await conversationStore().getConversation('warm-up');
    await bootstrapAdmin(log);
    await seedCrm(log);
    await resumeEscalations(log);
    return {
      url: gateway.url,
      wsUrl: gateway.wsUrl,
      smtpAddress: `${options.host ?? '127.0.0.1'}:${smtp.port}`,
      supportEmail: process.env.SUPPORT_EMAIL_ADDRESS!,
      outboxDir: process.env.EMAIL_OUTBOX_DIR!,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Customers' e-mails over SMTP into the e-mail channel (SES → S3 → SQS → Lambda does this on AWS). */
async function startEmailIntake(options: LocalFaceOptions, log: NonNullable<LocalFaceOptions['logger']>) {
  const [{ startSmtpServer }, { takeInboundEmail }] = await Promise.all([
    import('./smtpServer'),
    import('#handlers/shared/inboundEmail'),
  ]);
  return startSmtpServer({
    port: options.smtpPort ?? 2525,
    host: options.host ?? '127.0.0.1',
    onMail: async (raw, envelope) => {
      await takeInboundEmail(raw, { envelopeFrom: envelope.from });
    },
    onError: (error) => log.error('e-mail intake refused or failed a message', error),
  });
}

/** The built-in CRM's demo customers (one of each tier and more); operators' edits are never overwritten. */
async function seedCrm(log: NonNullable<LocalFaceOptions['logger']>) {
  if ((process.env.CRM_BACKEND ?? 'builtin') !== 'builtin') return;
  const [{ BuiltInCrm }, { documentClient }] = await Promise.all([
    import('#adapters/builtInCrm'),
    import('#adapters/dynamoDocumentClient'),
  ]);
  // seedCustomers validates every profile.
  const seeds = JSON.parse(await readFile(join(ROOT, 'data', 'crm', 'customers.json'), 'utf8'));
  const crm = new BuiltInCrm(documentClient(), process.env[TABLES.customers.envVar]!);
  const { inserted } = await crm.seedCustomers(seeds);
  if (inserted) log.info(`CRM: ${inserted} demo customers added (data/crm/customers.json)`);
}

/**
 * Local executions die with the process. Start the escalation workflow again for every case still
 * waiting for a first response; its first step skips what is done and keeps the stored deadline.
 */
async function resumeEscalations(log: NonNullable<LocalFaceOptions['logger']>) {
  const { caseStore, escalationWorkflow } = await import('#handlers/shared/runtime');
  const waiting = (await Promise.all([caseStore().listCases('open'), caseStore().listCases('assigned')]))
    .flat()
    .filter((c) => !c.firstResponseAt && !c.workflowOutcome);
  for (const c of waiting) {
    await escalationWorkflow().start({ caseId: c.caseId, conversationId: c.conversationId }, c.caseId);
  }
  if (waiting.length) log.info(`resumed the escalation workflow of ${waiting.length} waiting case(s)`);
}

/**
 * The HS256 secret customer tokens are verified with, when CUSTOMER_TOKEN_SECRET is unset: generated once
 * into DATA_DIR/customer-token-secret (mode 0600), so tokens survive restarts. A company's backend signs
 * its customers' tokens with the same secret.
 */
async function customerTokenSecretOf(dataDir: string): Promise<string> {
  const file = join(dataDir, 'customer-token-secret');
  let secret = process.env.CUSTOMER_TOKEN_SECRET;
  if (!secret) {
    try {
      await writeFile(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    secret = (await readFile(file, 'utf8')).trim();
  }
  // Fail at start, not at every customer's $connect.
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `the customer token secret (CUSTOMER_TOKEN_SECRET or ${file}) needs ${MIN_SECRET_LENGTH}+ characters`,
    );
  }
  return secret;
}

/**
 * Creates the `admin` operator on the first start and shows its one-time password once. With
 * OPERATOR_BOOTSTRAP_PASSWORD (tests, shared checks) the admin gets that password and no forced change.
 */
async function bootstrapAdmin(log: NonNullable<LocalFaceOptions['logger']>) {
  const { operatorAuth } = await import('#handlers/shared/operatorSessions');
  const bootstrapPassword = process.env.OPERATOR_BOOTSTRAP_PASSWORD || undefined;
  const admin = await operatorAuth().ensureAdmin(bootstrapPassword);
  if (!admin.created) return;
  log.info(
    admin.oneTime
      ? `operator sign-in: user "admin", one-time password ${admin.password} (shown only now; change it at first sign-in)`
      : 'operator sign-in: user "admin" created with the password from OPERATOR_BOOTSTRAP_PASSWORD',
  );
}

/** Every handler the face runs, as deployed: imported only once the environment above is set. */
const HANDLER_MODULES = {
  connect: () => import('#handlers/ws/connect'),
  disconnect: () => import('#handlers/ws/disconnect'),
  message: () => import('#handlers/ws/message'),
  classify: () => import('#handlers/turn/classify'),
  retrieve: () => import('#handlers/turn/retrieve'),
  answer: () => import('#handlers/turn/answer'),
  escalate: () => import('#handlers/turn/escalate'),
  cases: () => import('#handlers/api/cases'),
  health: () => import('#handlers/api/health'),
  getMetrics: () => import('#handlers/api/getMetrics'),
  audit: () => import('#handlers/api/audit'),
  auth: () => import('#handlers/api/auth'),
  operators: () => import('#handlers/api/operators'),
  customers: () => import('#handlers/api/customers'),
  sessionAuthorizer: () => import('#handlers/auth/sessionAuthorizer'),
  metricsAggregator: () => import('#handlers/events/metricsAggregator'),
  consoleNotifier: () => import('#handlers/events/consoleNotifier'),
  teamNotifier: () => import('#handlers/events/teamNotifier'),
  crmSync: () => import('#handlers/events/crmSync'),
  auditRecorder: () => import('#handlers/events/auditRecorder'),
  escalationIntake: () => import('#handlers/queue/escalationIntake'),
  caseStep: () => import('#handlers/case/caseStep'),
} satisfies Record<string, () => Promise<{ handler: unknown }>>;

async function loadHandlers(): Promise<Record<keyof typeof HANDLER_MODULES, AnyHandler>> {
  const loaded = await Promise.all(
    Object.entries(HANDLER_MODULES).map(
      async ([name, load]) => [name, (await load()).handler as AnyHandler] as const,
    ),
  );
  return Object.fromEntries(loaded) as Record<keyof typeof HANDLER_MODULES, AnyHandler>;
}
