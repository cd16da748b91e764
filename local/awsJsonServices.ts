/**
 * Local face of Step Functions and EventBridge on the wire: one HTTP server speaking the AWS JSON
 * protocols (1.0 for SFN, 1.1 for EventBridge), so handlers keep their ordinary SFNClient and
 * EventBridgeClient, pointed here by AWS_ENDPOINT_URL_SFN / AWS_ENDPOINT_URL_EVENTBRIDGE or `endpoint`.
 * Imported by the local entry point and integration tests only.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DomainEvent, EVENT_SOURCE } from '#core/domainEvents';
import type { LocalEventBus } from '#local/eventBus';
import { type LocalStateMachine, type LocalTaskTokens, TaskTokenError } from '#local/stepFunctionsRunner';

export interface AwsJsonServicesLogger {
  info(msg: string, extra?: object): void;
  error(msg: string, extra?: object): void;
}

export interface AwsJsonServicesOptions {
  /** Local state machines keyed by the ARN callers pass as `stateMachineArn`. */
  readonly stateMachines: Readonly<Record<string, LocalStateMachine>>;
  /** Receives the entries of PutEvents, whatever their EventBusName. */
  readonly eventBus: LocalEventBus;
  /** Callback tasks waiting for SendTaskSuccess / SendTaskFailure. */
  readonly taskTokens?: LocalTaskTokens;
  /** @default console */
  readonly logger?: AwsJsonServicesLogger;
}

export interface LocalExecutions {
  /** Executions started and not settled yet. */
  readonly running: number;
  /** Resolves once every execution started so far, and any started meanwhile, has settled. */
  drain(): Promise<void>;
}

export interface AwsJsonServices {
  readonly endpoint: string;
  readonly executions: LocalExecutions;
  /** Stops the server and drops its connections; running executions go on (drain them first). */
  close(): Promise<void>;
}

/** SFN and EventBridge both cap a request at 256 KiB. */
const MAX_BODY_BYTES = 256 * 1024;
/** Oversized bodies are read and discarded up to this size so the client sees the 413, then cut off. */
const MAX_DISCARDED_BYTES = 4 * 1024 * 1024;
/** Executions kept for DescribeExecution and name idempotency (AWS keeps names 90 days). */
const RETAINED_EXECUTIONS = 1_000;
const MAX_PUT_EVENTS_ENTRIES = 10;
const MAX_EXECUTION_NAME_LENGTH = 80;

type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** The input as sent, compared when a name is reused. */
  readonly input: string;
  readonly startDate: number;
  readonly settled: Promise<void>;
  /** Set while the record is retained and was started by name (not StartSyncExecution). */
  nameKey?: string;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
}

/** A failure answered as `{"__type", "message"}`, which the SDK turns into the modelled exception. */
class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

type JsonObject = Record<string, unknown>;
type Operation = (input: JsonObject) => Promise<object>;

const SFN_CONTENT_TYPE = 'application/x-amz-json-1.0';
const EVENTS_CONTENT_TYPE = 'application/x-amz-json-1.1';

export async function startAwsJsonServices(options: AwsJsonServicesOptions): Promise<AwsJsonServices> {
  const { stateMachines, eventBus } = options;
  const logger = options.logger ?? console;
  const executions = new ExecutionStore(logger);

  const sfn = new Map<string, Operation>([
    ['StartExecution', startExecution],
    ['StartSyncExecution', startSyncExecution],
    ['DescribeExecution', describeExecution],
    ['SendTaskSuccess', sendTaskSuccess],
    ['SendTaskFailure', sendTaskFailure],
    ['SendTaskHeartbeat', sendTaskHeartbeat],
  ]);
  const events = new Map<string, Operation>([['PutEvents', putEvents]]);

  function machineFor(input: JsonObject): { arn: string; machine: LocalStateMachine } {
    const arn = requiredArn(input.stateMachineArn, 'stateMachineArn');
    const machine = Object.hasOwn(stateMachines, arn) ? stateMachines[arn] : undefined;
    if (!machine)
      throw new ServiceError(400, 'StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return { arn, machine };
  }

  async function startExecution(input: JsonObject) {
    const { arn, machine } = machineFor(input);
    const name = executionName(input.name);
    const { text, value } = executionInput(input.input);
    if (name !== undefined) {
      const existing = executions.byName(arn, name);
      if (existing) {
        // AWS: the same name and input while running is the same execution; anything else is a conflict.
        if (existing.status === 'RUNNING' && existing.input === text) return started(existing);
        throw new ServiceError(
          400,
          'ExecutionAlreadyExists',
          `Execution Already Exists: '${existing.executionArn}'`,
        );
      }
    }
    return started(executions.start(machine, arn, { name, input: text, value, reserveName: true }));
  }

  /** The waiting callback task's token, refused as AWS does when unknown or no longer waiting. */
  function taskToken(input: JsonObject): string {
    const token = input.taskToken;
    if (typeof token !== 'string' || token.length < 1 || token.length > 2048) {
      throw new ServiceError(400, 'InvalidToken', 'taskToken must be a string of 1 to 2048 characters');
    }
    return token;
  }

  function completing(work: () => void) {
    try {
      work();
      return {};
    } catch (error) {
      if (error instanceof TaskTokenError) throw new ServiceError(400, error.code, error.message);
      throw error;
    }
  }

  async function sendTaskSuccess(input: JsonObject) {
    const token = taskToken(input);
    if (typeof input.output !== 'string') throw new ServiceError(400, 'InvalidOutput', 'output is required');
    let output: unknown;
    try {
      output = JSON.parse(input.output);
    } catch {
      throw new ServiceError(400, 'InvalidOutput', 'output must be valid JSON');
    }
    return completing(() => options.taskTokens?.succeed(token, output) ?? unknownToken());
  }

  async function sendTaskFailure(input: JsonObject) {
    const token = taskToken(input);
    const error = typeof input.error === 'string' ? input.error.slice(0, 256) : 'TaskFailed';
    const cause = typeof input.cause === 'string' ? input.cause.slice(0, 32768) : '';
    return completing(() => options.taskTokens?.fail(token, error, cause) ?? unknownToken());
  }

  async function sendTaskHeartbeat(input: JsonObject) {
    const token = taskToken(input);
    return completing(() => (options.taskTokens?.isWaiting(token) ? undefined : unknownToken()));
  }

  function unknownToken(): never {
    throw new ServiceError(400, 'TaskDoesNotExist', 'Task does not exist anymore');
  }

  async function startSyncExecution(input: JsonObject) {
    const { arn, machine } = machineFor(input);
    const name = executionName(input.name);
    const { text, value } = executionInput(input.input);
    const execution = executions.start(machine, arn, { name, input: text, value, reserveName: false });
    await execution.settled;
    return description(execution);
  }

  async function describeExecution(input: JsonObject) {
    const arn = requiredArn(input.executionArn, 'executionArn');
    const execution = executions.get(arn);
    if (!execution)
      throw new ServiceError(400, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return description(execution);
  }

  async function putEvents(input: JsonObject) {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_PUT_EVENTS_ENTRIES) {
      const count = Array.isArray(entries) ? entries.length : 'no';
      throw new ServiceError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: ` +
          `Member must have length between 1 and ${MAX_PUT_EVENTS_ENTRIES} (got ${count} entries)`,
      );
    }
    const checked = entries.map(domainEventOf);
    const accepted = checked.filter((entry): entry is AcceptedEntry => 'event' in entry);
    await eventBus.publishEntries(accepted);
    return {
      FailedEntryCount: checked.length - accepted.length,
      // LocalEventBus assigns envelope ids itself; these ids identify the entries only.
      Entries: checked.map((entry) => ('event' in entry ? { EventId: randomUUID() } : entry)),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    if (!isLoopbackAddress(req.socket.remoteAddress) || !isLoopbackHost(req.headers.host)) {
      throw new ServiceError(
        403,
        'AccessDeniedException',
        'Local AWS services answer loopback requests only',
      );
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      throw new ServiceError(405, 'UnknownOperationException', 'AWS JSON protocol requests are POSTs');
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const [service, operationName = ''] = target.split('.', 2);
    const route =
      service === 'AWSStepFunctions'
        ? { operations: sfn, contentType: SFN_CONTENT_TYPE }
        : service === 'AWSEvents'
          ? { operations: events, contentType: EVENTS_CONTENT_TYPE }
          : undefined;
    const operation = route?.operations.get(operationName);
    if (!route || !operation) {
      throw new ServiceError(400, 'UnknownOperationException', `Unknown operation ${JSON.stringify(target)}`);
    }
    res.setHeader('Content-Type', route.contentType);
    const contentType = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (contentType !== route.contentType) {
      throw new ServiceError(
        400,
        'SerializationException',
        `${target} expects Content-Type ${route.contentType}`,
      );
    }
    const body = await readBody(req);
    let input: unknown;
    try {
      input = JSON.parse(body.length ? body.toString('utf8') : '{}');
    } catch {
      throw new ServiceError(400, 'SerializationException', 'Request body is not valid JSON');
    }
    if (!isObject(input))
      throw new ServiceError(400, 'SerializationException', 'Request body is not an object');
    sendJson(res, 200, await operation(input));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      if (error instanceof ServiceError) {
        sendJson(res, error.status, { __type: error.type, message: error.message }, error.type);
        return;
      }
      logger.error('Local AWS JSON request failed', {
        target: req.headers['x-amz-target'],
        error: error instanceof Error ? error.stack : String(error),
      });
      sendJson(res, 500, { __type: 'InternalFailure', message: 'Internal server error' }, 'InternalFailure');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error('Local AWS JSON server error', { error: error.message }));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  logger.info('Local Step Functions and EventBridge listening', { endpoint });

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    executions: {
      get running() {
        return executions.running;
      },
      drain: () => executions.drain(),
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SDK clients keep sockets alive; without this close() waits for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Executions by ARN, oldest first, bounded; plus the name index and the set still running. */
class ExecutionStore {
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly names = new Map<string, ExecutionRecord>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly logger: AwsJsonServicesLogger) {}

  get running(): number {
    return this.inFlight.size;
  }

  get(executionArn: string): ExecutionRecord | undefined {
    return this.records.get(executionArn);
  }

  byName(stateMachineArn: string, name: string): ExecutionRecord | undefined {
    return this.names.get(nameKey(stateMachineArn, name));
  }

  start(
    machine: LocalStateMachine,
    stateMachineArn: string,
    /** `input` as sent and parsed; `reserveName` makes the name unusable for another execution. */
    request: { name: string | undefined; input: string; value: unknown; reserveName: boolean },
  ): ExecutionRecord {
    const { name, input, value, reserveName } = request;
    const logger = this.logger;
    const startDate = Date.now();
    let executionArn: string;
    let result: Promise<unknown>;
    try {
      ({ executionId: executionArn, result } = machine.start(value));
    } catch (error) {
      executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${randomUUID()}`;
      result = Promise.reject(error);
    }
    const outcome = result.then(
      (output): Outcome => ({ status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      failureOf,
    );
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      // The runner names its executions itself (the ARN's last part); a caller's name is reported as given.
      name: name ?? executionArn.slice(executionArn.lastIndexOf(':') + 1),
      input,
      startDate,
      status: 'RUNNING',
      settled: outcome.then((settled) => {
        Object.assign(record, settled, { stopDate: Math.max(Date.now(), startDate) });
        if (settled.status === 'SUCCEEDED') return;
        try {
          logger.error('Local execution failed', { executionArn, ...settled });
        } catch {
          // A failing logger must not turn into an unhandled rejection.
        }
      }),
    };
    this.inFlight.add(record.settled);
    void record.settled.finally(() => this.inFlight.delete(record.settled));
    this.retain(record, reserveName && name !== undefined ? nameKey(stateMachineArn, name) : undefined);
    return record;
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private retain(record: ExecutionRecord, key: string | undefined) {
    this.records.set(record.executionArn, record);
    if (key !== undefined) {
      record.nameKey = key;
      this.names.set(key, record);
    }
    if (this.records.size <= RETAINED_EXECUTIONS) return;
    // Forget the oldest settled execution; a running one only when all are running.
    let evicted: ExecutionRecord | undefined;
    for (const candidate of this.records.values()) {
      evicted ??= candidate;
      if (candidate.status !== 'RUNNING') {
        evicted = candidate;
        break;
      }
    }
    if (!evicted) return;
    this.records.delete(evicted.executionArn);
    if (evicted.nameKey !== undefined && this.names.get(evicted.nameKey) === evicted) {
      this.names.delete(evicted.nameKey);
    }
  }
}

type Outcome = Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>;

const nameKey = (stateMachineArn: string, name: string) => `${stateMachineArn}\n${name}`;

/** The runner wraps what a state threw in an ExecutionError (cause); a Fail state throws Error/Cause. */
function failureOf(error: unknown): Outcome {
  if (error instanceof Error && error.name === 'ExecutionTimeoutError') {
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: error.message };
  }
  const caught = error instanceof Error && error.name === 'ExecutionError' ? error.cause : error;
  if (caught instanceof Error) return { status: 'FAILED', error: caught.name, cause: caught.message };
  return { status: 'FAILED', error: 'States.Runtime', cause: String(caught) };
}

const epochSeconds = (ms: number) => ms / 1000;

function started(execution: ExecutionRecord) {
  return { executionArn: execution.executionArn, startDate: epochSeconds(execution.startDate) };
}

/** DescribeExecution's shape, which StartSyncExecution's output shares. */
function description(execution: ExecutionRecord) {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: epochSeconds(execution.startDate),
    stopDate: execution.stopDate === undefined ? undefined : epochSeconds(execution.stopDate),
    input: execution.input,
    output: execution.output,
    error: execution.error,
    cause: execution.cause,
  };
}

/** AWS: 1–80 characters, none of whitespace, brackets, wildcards, `"#%\^|~`$&,;:/` or control characters. */
function executionName(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const valid =
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_EXECUTION_NAME_LENGTH &&
    ![...value].some((char) => {
      const code = char.codePointAt(0)!;
      return code <= 0x20 || (code >= 0x7f && code <= 0x9f) || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(char);
    });
  if (!valid) throw new ServiceError(400, 'InvalidName', `Invalid Name: ${JSON.stringify(value)}`);
  return value;
}

function executionInput(value: unknown): { text: string; value: unknown } {
  if (value === undefined || value === null) return { text: '{}', value: {} };
  if (typeof value !== 'string') {
    throw new ServiceError(
      400,
      'InvalidExecutionInput',
      'Invalid State Machine Execution Input: not a string',
    );
  }
  try {
    return { text: value, value: JSON.parse(value) };
  } catch (error) {
    throw new ServiceError(
      400,
      'InvalidExecutionInput',
      `Invalid State Machine Execution Input: ${(error as Error).message}`,
    );
  }
}

/** An entry's `Time` is kept: it is the event's time for rules and consumers, as on EventBridge. */
type AcceptedEntry = { event: DomainEvent; time?: Date };
type CheckedEntry = AcceptedEntry | { ErrorCode: string; ErrorMessage: string };

/** One PutEvents entry as a domain event, or the per-entry error EventBridge would report. */
function domainEventOf(entry: unknown): CheckedEntry {
  const invalid = (ErrorMessage: string) => ({ ErrorCode: 'InvalidArgument', ErrorMessage });
  if (!isObject(entry)) return invalid('Entry is not an object');
  const { Source, DetailType, Detail, Time } = entry;
  if (typeof Source !== 'string' || !Source)
    return invalid('Parameter Source is not valid. Reason: Source is a required argument.');
  if (Source !== EVENT_SOURCE)
    return invalid(`Parameter Source is not valid. Reason: the local bus accepts "${EVENT_SOURCE}" only.`);
  if (typeof DetailType !== 'string' || !DetailType) {
    return invalid('Parameter DetailType is not valid. Reason: DetailType is a required argument.');
  }
  if (typeof Detail !== 'string')
    return invalid('Parameter Detail is not valid. Reason: Detail is a required argument.');
  let detail: unknown;
  try {
    detail = JSON.parse(Detail);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (!isObject(detail))
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not a JSON object.' };
  if (detail.type !== DetailType) {
    return invalid(
      `DetailType "${DetailType}" does not match the detail's type ${JSON.stringify(detail.type ?? null)}`,
    );
  }
  // The JSON protocols send timestamps as epoch seconds; an ISO string is accepted too.
  const time =
    Time === undefined || Time === null
      ? undefined
      : new Date(typeof Time === 'number' ? Time * 1000 : typeof Time === 'string' ? Time : Number.NaN);
  if (time && Number.isNaN(time.getTime()))
    return invalid('Parameter Time is not valid. Reason: not a timestamp.');
  return { event: detail as unknown as DomainEvent, ...(time ? { time } : {}) };
}

function requiredArn(value: unknown, field: string): string {
  if (typeof value === 'string' && value) return value;
  throw new ServiceError(400, 'InvalidArn', `Invalid Arn: '${field}' is required`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DISCARDED_BYTES || declared > MAX_DISCARDED_BYTES) req.destroy();
      else if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reject(new ServiceError(413, 'ValidationException', `Request body exceeds ${MAX_BODY_BYTES} bytes`));
      } else {
        resolve(Buffer.concat(chunks));
      }
    });
    req.on('error', reject);
    // Settles nothing once 'end' has fired; covers a client that went away or a body cut off above.
    req.on('close', () => reject(new Error('Request closed before its body was read')));
  });
}

function sendJson(res: ServerResponse, status: number, body: object, errorType?: string) {
  const text = JSON.stringify(body);
  if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', EVENTS_CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('x-amzn-RequestId', randomUUID());
  if (errorType) res.setHeader('x-amzn-ErrorType', errorType);
  res.writeHead(status).end(text);
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** Rejects DNS-rebinding requests: a browser page would send its own host name. */
function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}
