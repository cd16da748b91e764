/**
 * Local face of Step Functions: runs the same statemachines/*.asl.json that CDK deploys, with each Task
 * bound to a local function instead of a Lambda. Imported by the local entry point and tests only.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type TaskHandler = TaskHandlers[string];

// aws-local-stepfunctions targets Node 22 and calls Promise.withResolvers (ES2024) in every Task.
const promiseStatics = Promise as unknown as { withResolvers?: unknown };
if (typeof promiseStatics.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

interface AslValidationResult {
  readonly isValid: boolean;
  readonly errorsText: (separator?: string) => string;
}
// asl-validator is CommonJS without typings.
const aslValidator = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
  options: { checkPaths: boolean; checkArn: boolean },
) => AslValidationResult;

export type LocalTaskFunction = (input: unknown) => Promise<unknown>;

export interface LocalStateMachineOptions {
  /**
   * Local functions keyed by a Task's Resource (Lambda ARN or the value substituted for a placeholder),
   * or, for `arn:aws:states:::lambda:invoke` Tasks, by their Parameters.FunctionName.
   */
  readonly resources: Readonly<Record<string, LocalTaskFunction>>;
  /** State machine name, used in execution ids. */
  readonly name: string;
  /** Fixed pause between retries instead of IntervalSeconds × BackoffRate (fast tests). */
  readonly retryIntervalMs?: number;
  /**
   * Executions running at once; later ones wait their turn (like a Lambda concurrency limit), so an
   * overload queues work instead of thrashing every execution into a timeout. @default unlimited
   */
  readonly maxConcurrentExecutions?: number;
  /**
   * Where `arn:aws:states:::lambda:invoke.waitForTaskToken` Tasks wait for SendTaskSuccess/Failure
   * (aws-local-stepfunctions has no callback pattern: the bound function gets a fresh token, then the
   * Task waits here). Required when the definition has such a Task.
   */
  readonly taskTokens?: LocalTaskTokens;
}

export interface LocalExecution {
  /** Same shape as `$$.Execution.Id` on AWS. */
  readonly executionId: string;
  readonly result: Promise<unknown>;
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_INVOKE_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** `$$.Task.Token` of an execution; each callback Task swaps it for a fresh token of its own. */
const TOKEN_PREFIX = 'local-task-token:';

/** SendTask* refusals, with the error codes AWS answers. */
export class TaskTokenError extends Error {
  constructor(
    readonly code: 'TaskDoesNotExist' | 'InvalidToken',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** Thrown into every waiting callback Task when the local face stops: the execution ends, nothing hangs. */
export class LocalShutdownError extends Error {
  override readonly name = 'Local.Shutdown';
}

interface Waiter {
  readonly execution: string;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** Callback tasks waiting for their token, by token. One waiting token per execution at most. */
export class LocalTaskTokens {
  private readonly waiting = new Map<string, Waiter>();

  /** Registers a token of an execution and waits for its completion; drops the execution's older tokens. */
  wait(token: string, execution: string): Promise<unknown> {
    this.dropExecution(execution);
    return new Promise((resolve, reject) => this.waiting.set(token, { execution, resolve, reject }));
  }

  isWaiting(token: string): boolean {
    return this.waiting.has(token);
  }

  succeed(token: string, output: unknown): void {
    this.take(token).resolve(output);
  }

  fail(token: string, error: string, cause: string): void {
    const failure = new Error(cause || error);
    failure.name = error;
    this.take(token).reject(failure);
  }

  /** A timed-out or finished execution's tokens are no longer valid (a late SendTaskSuccess is refused). */
  dropExecution(execution: string): void {
    for (const [token, waiter] of this.waiting)
      if (waiter.execution === execution) this.waiting.delete(token);
  }

  /** Fails every waiting task (shutdown). */
  abortAll(): void {
    const waiters = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiter of waiters) waiter.reject(new LocalShutdownError('the local face is stopping'));
  }

  get size(): number {
    return this.waiting.size;
  }

  private take(token: string): Waiter {
    if (!token.startsWith(TOKEN_PREFIX)) throw new TaskTokenError('InvalidToken', 'Invalid Token');
    const waiter = this.waiting.get(token);
    if (!waiter) throw new TaskTokenError('TaskDoesNotExist', 'Task does not exist anymore');
    this.waiting.delete(token);
    return waiter;
  }
}
const LOCAL_ARN_PREFIX = 'arn:aws:states:us-east-1:000000000000';

type StateDefinition = Record<string, unknown>;

export class LocalStateMachine {
  readonly name: string;
  private readonly machine: StateMachine;
  private readonly taskHandlers: TaskHandlers;
  private readonly retryIntervals: Record<string, number>;
  private readonly maxConcurrent: number;
  private readonly taskTokens: LocalTaskTokens | undefined;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(definition: object | string, options: LocalStateMachineOptions) {
    this.name = options.name;
    this.maxConcurrent = options.maxConcurrentExecutions ?? Number.POSITIVE_INFINITY;
    this.taskTokens = options.taskTokens;
    const parsed = parseDefinition(definition, options.name);
    // The validator annotates states in place; keep the caller's object untouched.
    // ARNs are not checked: locally every Resource is bound to a function, whatever its value.
    const validation = aslValidator(structuredClone(parsed), { checkPaths: true, checkArn: false });
    if (!validation.isValid) {
      throw new Error(`State machine "${options.name}" is invalid:\n${validation.errorsText('\n')}`);
    }
    // The runner gets a copy whose callback Tasks time out in the bound function (see moveCallbackTimeouts).
    const runnable = structuredClone(parsed);
    const states = collectStates(runnable);
    moveCallbackTimeouts(states);
    this.taskHandlers = bindTasks(states, options, options.name);
    this.retryIntervals =
      options.retryIntervalMs === undefined
        ? {}
        : Object.fromEntries(
            [...states]
              .filter(([, state]) => Array.isArray(state.Retry))
              .map(([n]) => [n, options.retryIntervalMs!]),
          );
    // Already validated above, with a newer asl-validator than the one bundled with the runner.
    this.machine = new StateMachine(runnable as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
  }

  start(input: unknown): LocalExecution {
    const executionName = randomUUID();
    const executionId = `${LOCAL_ARN_PREFIX}:execution:${this.name}:${executionName}`;
    const json = toJson(input, 'execution input');
    const result = this.slot().then(async () => {
      try {
        return await this.machine.run(json as never, {
          overrides: {
            taskResourceLocalHandlers: this.taskHandlers,
            retryIntervalOverrides: this.retryIntervals,
          },
          context: {
            Execution: { Id: executionId, Name: executionName },
            StateMachine: { Id: `${LOCAL_ARN_PREFIX}:stateMachine:${this.name}`, Name: this.name },
            Task: { Token: `${TOKEN_PREFIX}${executionName}` },
          },
        }).result;
      } finally {
        this.taskTokens?.dropExecution(executionName);
        this.running--;
        this.waiting.shift()?.();
      }
    });
    return { executionId, result };
  }

  /** Executions started and not finished, including those waiting for a slot. */
  get inFlight(): number {
    return this.running + this.waiting.length;
  }

  private slot(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.running++;
        resolve();
      }),
    );
  }

  run(input: unknown): Promise<unknown> {
    return this.start(input).result;
  }
}

/**
 * Reads an ASL file and replaces `${Name}` placeholders as CDK's DefinitionBody.fromFile with
 * definitionSubstitutions does (Fn::Sub syntax: `${!Name}` stays a literal `${Name}`).
 */
export async function loadStateMachineDefinition(
  path: string,
  substitutions: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8');
  const missing = new Set<string>();
  const substituted = text.replace(/\$\{(!?)([^}]*)\}/g, (placeholder, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    if (Object.hasOwn(substitutions, name)) return substitutions[name]!;
    missing.add(name);
    return placeholder;
  });
  if (missing.size) {
    const names = [...missing].map((name) => `\${${name}}`).join(', ');
    throw new Error(`${path}: no substitution for ${names}`);
  }
  try {
    return JSON.parse(substituted) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path}: not valid JSON after substitution: ${(error as Error).message}`);
  }
}

function parseDefinition(definition: object | string, name: string): Record<string, unknown> {
  if (typeof definition !== 'string') return definition as Record<string, unknown>;
  try {
    return JSON.parse(definition) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`State machine "${name}": definition is not valid JSON: ${(error as Error).message}`);
  }
}

/** All states by name, including those of Parallel branches and Map processors (names are unique). */
function collectStates(machine: Record<string, unknown>, into = new Map<string, StateDefinition>()) {
  for (const [name, state] of Object.entries((machine.States ?? {}) as Record<string, StateDefinition>)) {
    into.set(name, state);
    for (const branch of (state.Branches as Record<string, unknown>[] | undefined) ?? [])
      collectStates(branch, into);
    const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
    if (processor) collectStates(processor, into);
  }
  return into;
}

/** The runner overrides Tasks by state name; map each Task state to the function bound to its resource. */
function bindTasks(
  states: Map<string, StateDefinition>,
  options: LocalStateMachineOptions,
  machineName: string,
) {
  const handlers: TaskHandlers = {};
  const unbound: string[] = [];
  for (const [stateName, state] of states) {
    if (state.Type !== 'Task') continue;
    const resource = String(state.Resource);
    if (resource === LAMBDA_INVOKE_CALLBACK) {
      const functionName = (state.Parameters as Record<string, unknown> | undefined)?.FunctionName;
      const fn = typeof functionName === 'string' ? options.resources[functionName] : undefined;
      const tokens = options.taskTokens;
      if (!fn || !tokens) {
        unbound.push(
          `${stateName} (${LAMBDA_INVOKE_CALLBACK} FunctionName ${JSON.stringify(functionName ?? null)}${tokens ? '' : ', no taskTokens registry'})`,
        );
        continue;
      }
      handlers[stateName] = (async ({
        [TIMEOUT_PARAMETER]: timeoutSeconds,
        ...parameters
      }: TaskParameters) => {
        const placeholder = findToken(parameters.Payload);
        if (!placeholder) {
          throw new Error(`${stateName}: a callback Task must pass $$.Task.Token in its Payload`);
        }
        const token = `${placeholder}:${randomUUID()}`;
        const execution = placeholder.slice(TOKEN_PREFIX.length);
        const completion = tokens.wait(token, execution);
        let timer: NodeJS.Timeout | undefined;
        try {
          await fn(replaceToken(parameters.Payload, placeholder, token));
          const timeout = new Promise<never>((_, reject) => {
            if (timeoutSeconds === undefined) return;
            const seconds = Number(timeoutSeconds);
            if (!Number.isInteger(seconds) || seconds < 1) {
              reject(
                new Error(`${stateName}: TimeoutSeconds must be an integer >= 1, got ${timeoutSeconds}`),
              );
              return;
            }
            timer = setTimeout(() => {
              const expired = new Error(`${stateName} was not completed within ${seconds} s`);
              expired.name = 'States.Timeout';
              reject(expired);
            }, seconds * 1000);
          });
          // Whatever SendTaskSuccess carried is the Task's result, as on AWS.
          return toJson(await Promise.race([completion, timeout]), `${stateName} result`);
        } catch (error) {
          tokens.dropExecution(execution);
          throw error;
        } finally {
          clearTimeout(timer);
        }
      }) as TaskHandler;
      continue;
    }
    if (resource === LAMBDA_INVOKE) {
      const functionName = (state.Parameters as Record<string, unknown> | undefined)?.FunctionName;
      const fn = typeof functionName === 'string' ? options.resources[functionName] : undefined;
      if (!fn) {
        unbound.push(`${stateName} (${LAMBDA_INVOKE} FunctionName ${JSON.stringify(functionName ?? null)})`);
        continue;
      }
      handlers[stateName] = (async (parameters: { Payload?: unknown }) => ({
        // Shape of the optimised lambda:invoke integration's result.
        ExecutedVersion: '$LATEST',
        Payload: toJson(await fn(parameters.Payload ?? {}), `${stateName} result`),
        StatusCode: 200,
      })) as TaskHandler;
      continue;
    }
    const fn = options.resources[resource];
    if (!fn) {
      unbound.push(`${stateName} (Resource ${resource})`);
      continue;
    }
    handlers[stateName] = (async (input: unknown) =>
      toJson(await fn(input), `${stateName} result`)) as TaskHandler;
  }
  if (unbound.length) {
    throw new Error(`State machine "${machineName}": no local function bound for Task ${unbound.join(', ')}`);
  }
  return handlers;
}

type TaskParameters = { Payload?: unknown; [TIMEOUT_PARAMETER]?: unknown };

/** Carries a callback Task's timeout from the state input to the bound function. */
const TIMEOUT_PARAMETER = '__localTimeoutSeconds';
/** Longer than any wait a test or a laptop session sees, and within setTimeout's 2^31 ms. */
const RUNNER_TIMEOUT_SECONDS = 2_000_000;

/**
 * aws-local-stepfunctions reads TimeoutSecondsPath from the Task's effective parameters (AWS: from the
 * state input) and defaults every Task to 60 s (AWS: callback Tasks wait up to the execution's limit).
 * For callback Tasks, hand the timeout to the bound function instead: an extra parameter evaluated against
 * the state input, as AWS evaluates TimeoutSecondsPath, and a runner timeout out of the way.
 */
function moveCallbackTimeouts(states: Map<string, StateDefinition>) {
  for (const state of states.values()) {
    if (state.Type !== 'Task' || state.Resource !== LAMBDA_INVOKE_CALLBACK) continue;
    const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
    if (typeof state.TimeoutSecondsPath === 'string') {
      parameters[`${TIMEOUT_PARAMETER}.$`] = state.TimeoutSecondsPath;
    } else if (typeof state.TimeoutSeconds === 'number') {
      parameters[TIMEOUT_PARAMETER] = state.TimeoutSeconds;
    }
    state.Parameters = parameters;
    delete state.TimeoutSecondsPath;
    state.TimeoutSeconds = RUNNER_TIMEOUT_SECONDS;
  }
}

/** The execution's `$$.Task.Token` wherever it sits in a Task's Payload. */
function findToken(value: unknown): string | undefined {
  if (typeof value === 'string') return value.startsWith(TOKEN_PREFIX) ? value : undefined;
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) {
      const found = findToken(item);
      if (found) return found;
    }
  }
  return undefined;
}

function replaceToken(value: unknown, placeholder: string, token: string): unknown {
  if (value === placeholder) return token;
  if (Array.isArray(value)) return value.map((item) => replaceToken(item, placeholder, token));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceToken(item, placeholder, token)]),
    );
  }
  return value;
}

/** Values cross Step Functions as JSON: drop what JSON drops, fail on what it cannot carry. */
function toJson(value: unknown, what: string): unknown {
  try {
    return JSON.parse(JSON.stringify(value ?? null));
  } catch (error) {
    throw new Error(`${what} is not JSON-serialisable: ${(error as Error).message}`);
  }
}
