import { request } from 'node:http';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '#adapters/eventBridgePublisher';
import { executionNameFor, SfnTurnWorkflow } from '#adapters/turnWorkflow';
import type { DomainEvent, EventEnvelope, MessageReceived } from '#core/domainEvents';
import { type AwsJsonServicesLogger, startAwsJsonServices } from '#local/awsJsonServices';
import { LocalEventBus } from '#local/eventBus';
import { LocalStateMachine } from '#local/stepFunctionsRunner';

const TURN_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:turnWorkflow';
const ANSWER_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:answer';
const BUS_NAME = 'supportmax-events';

const clientConfig = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
});

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** One Task that hands its input to `answer`. */
function turnMachine(answer: (input: unknown) => Promise<unknown>) {
  const definition = {
    StartAt: 'Answer',
    States: { Answer: { Type: 'Task', Resource: ANSWER_ARN, ResultPath: '$.reply', End: true } },
  };
  return new LocalStateMachine(definition, { name: 'turnWorkflow', resources: { [ANSWER_ARN]: answer } });
}

const received = (messageId: string): MessageReceived => ({
  type: 'MessageReceived',
  conversationId: 'conv-1',
  messageId,
  channel: 'chat',
  firstMessage: messageId === 'm-0',
});

const entryFor = (event: object, overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  EventBusName: BUS_NAME,
  Source: 'supportmax',
  DetailType: (event as { type: string }).type,
  Detail: JSON.stringify(event),
  ...overrides,
});

describe('local Step Functions and EventBridge over the AWS JSON protocols', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(answer: (input: unknown) => Promise<unknown> = async () => ({ text: 'hi' })) {
    const logged: { msg: string; extra?: object }[] = [];
    const logger: AwsJsonServicesLogger = {
      info: () => {},
      error: (msg, extra) => logged.push({ msg, extra }),
    };
    const eventBus = new LocalEventBus({ retryDelayMs: 1 });
    const services = await startAwsJsonServices({
      stateMachines: { [TURN_MACHINE_ARN]: turnMachine(answer) },
      eventBus,
      logger,
    });
    const sfn = new SFNClient(clientConfig(services.endpoint));
    const events = new EventBridgeClient(clientConfig(services.endpoint));
    cleanups.push(async () => {
      sfn.destroy();
      events.destroy();
      await services.executions.drain();
      await eventBus.drain();
      await services.close();
    });
    return { services, sfn, events, eventBus, logged };
  }

  function collectEnvelopes(eventBus: LocalEventBus) {
    const envelopes: EventEnvelope[] = [];
    eventBus.addRule({
      name: 'audit',
      pattern: { source: ['supportmax'] },
      target: async (envelope) => {
        envelopes.push(envelope);
      },
    });
    return envelopes;
  }

  describe('Step Functions', () => {
    it('runs a started execution in the background and describes it as SUCCEEDED with its output', async () => {
      // Prepare
      const gate = deferred();
      const { sfn, services } = await setUp(async () => {
        await gate.promise;
        return { text: 'Refunds take 5 days.' };
      });

      // Act
      const started = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: TURN_MACHINE_ARN, input: '{"conversationId":"c-1"}' }),
      );
      const whileRunning = await sfn.send(
        new DescribeExecutionCommand({ executionArn: started.executionArn }),
      );
      gate.resolve();
      await services.executions.drain();
      const done = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));

      // Assess
      expect(started.executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:turnWorkflow:/);
      expect(started.startDate).toBeInstanceOf(Date);
      expect(Math.abs(started.startDate!.getTime() - Date.now())).toBeLessThan(60_000);
      expect(whileRunning.status).toBe('RUNNING');
      expect(whileRunning.stopDate).toBeUndefined();
      expect(done).toMatchObject({
        executionArn: started.executionArn,
        stateMachineArn: TURN_MACHINE_ARN,
        status: 'SUCCEEDED',
        input: '{"conversationId":"c-1"}',
      });
      expect(JSON.parse(done.output!)).toEqual({
        conversationId: 'c-1',
        reply: { text: 'Refunds take 5 days.' },
      });
      expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());
    });

    it('runs a named execution once: a repeat while running returns it, a repeat once ended is ExecutionAlreadyExists', async () => {
      // Prepare
      const gate = deferred();
      let runs = 0;
      const { sfn, services } = await setUp(async () => {
        runs++;
        await gate.promise;
        return {};
      });
      const start = () =>
        sfn.send(
          new StartExecutionCommand({ stateMachineArn: TURN_MACHINE_ARN, name: 'turn-m-1', input: '{}' }),
        );

      // Act
      const first = await start();
      const repeatWhileRunning = await start();
      gate.resolve();
      await services.executions.drain();
      const repeatAfterEnd = await start().catch((error: unknown) => error);

      // Assess
      expect(repeatWhileRunning.executionArn).toBe(first.executionArn);
      expect(repeatAfterEnd).toMatchObject({ name: 'ExecutionAlreadyExists' });
      expect(runs).toBe(1);
    });

    it('returns the output of a synchronous execution, and FAILED with error and cause when a task fails', async () => {
      // Prepare
      const { services, logged } = await setUp(async (input) => {
        if ((input as { fail?: boolean }).fail) {
          throw Object.assign(new Error('model unavailable'), { name: 'ModelUnavailable' });
        }
        return { text: 'ok' };
      });
      // StartSyncExecution's host prefix would make the host sync-127.0.0.1: an endpoint override needs it off.
      const sfn = new SFNClient({ ...clientConfig(services.endpoint), disableHostPrefix: true });
      cleanups.push(async () => sfn.destroy());

      // Act
      const succeeded = await sfn.send(
        new StartSyncExecutionCommand({ stateMachineArn: TURN_MACHINE_ARN, input: '{"fail":false}' }),
      );
      const failed = await sfn.send(
        new StartSyncExecutionCommand({ stateMachineArn: TURN_MACHINE_ARN, input: '{"fail":true}' }),
      );

      // Assess
      expect(succeeded.status).toBe('SUCCEEDED');
      expect(JSON.parse(succeeded.output!)).toEqual({ fail: false, reply: { text: 'ok' } });
      expect(succeeded.stopDate).toBeInstanceOf(Date);
      expect(failed).toMatchObject({
        status: 'FAILED',
        error: 'ModelUnavailable',
        cause: 'model unavailable',
      });
      expect(failed.output).toBeUndefined();
      expect(logged).toEqual([
        expect.objectContaining({ extra: expect.objectContaining({ executionArn: failed.executionArn }) }),
      ]);
    });

    it('rejects an unknown state machine, input that is not JSON and an unknown execution like AWS', async () => {
      // Prepare
      const { sfn } = await setUp();
      const unknownArn = `${TURN_MACHINE_ARN}-missing`;

      // Act
      const errors = await Promise.all([
        sfn.send(new StartExecutionCommand({ stateMachineArn: unknownArn })).catch((e: unknown) => e),
        sfn
          .send(new StartExecutionCommand({ stateMachineArn: TURN_MACHINE_ARN, input: '{not json' }))
          .catch((e: unknown) => e),
        sfn
          .send(new StartExecutionCommand({ stateMachineArn: TURN_MACHINE_ARN, name: 'has space' }))
          .catch((e: unknown) => e),
        sfn
          .send(new DescribeExecutionCommand({ executionArn: `${TURN_MACHINE_ARN}:nope` }))
          .catch((e: unknown) => e),
      ]);

      // Assess
      expect(errors.map((e) => (e as Error).name)).toEqual([
        'StateMachineDoesNotExist',
        'InvalidExecutionInput',
        'InvalidName',
        'ExecutionDoesNotExist',
      ]);
      expect((errors[0] as Error).message).toContain(unknownArn);
      expect(
        errors.map((e) => (e as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode),
      ).toEqual([400, 400, 400, 400]);
    });
  });

  describe('EventBridge', () => {
    it('delivers put events to matching rules in the EventBridge envelope and reports a bad entry without dropping the good one', async () => {
      // Prepare
      const { events, eventBus } = await setUp();
      const envelopes = collectEnvelopes(eventBus);
      const good = received('m-1');

      // Act
      const output = await events.send(
        new PutEventsCommand({
          Entries: [
            entryFor(good),
            entryFor(good, { Detail: '{"type":' }),
            entryFor(good, { DetailType: 'MessageAnswered' }),
            entryFor(good, { Source: 'someone-else' }),
          ],
        }),
      );
      await eventBus.drain();

      // Assess
      expect(output.FailedEntryCount).toBe(3);
      expect(output.Entries![0]).toEqual({ EventId: expect.any(String) });
      expect(output.Entries!.slice(1).map((entry) => entry.ErrorCode)).toEqual([
        'MalformedDetail',
        'InvalidArgument',
        'InvalidArgument',
      ]);
      expect(envelopes).toEqual([
        {
          id: expect.any(String),
          source: 'supportmax',
          'detail-type': 'MessageReceived',
          time: expect.any(String),
          detail: good,
        },
      ]);
    });

    it('refuses more than 10 entries per call and bodies over 256 KiB', async () => {
      // Prepare
      const { events, eventBus } = await setUp();
      const envelopes = collectEnvelopes(eventBus);
      const eleven = Array.from({ length: 11 }, (_, i) => entryFor(received(`m-${i}`)));
      const huge = entryFor({ ...received('m-big'), padding: 'x'.repeat(300 * 1024) });

      // Act
      const tooMany = await events.send(new PutEventsCommand({ Entries: eleven })).catch((e: unknown) => e);
      const tooLarge = await events.send(new PutEventsCommand({ Entries: [huge] })).catch((e: unknown) => e);
      await eventBus.drain();

      // Assess
      expect(tooMany).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect(tooLarge).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 413 } });
      expect(envelopes).toEqual([]);
    });
  });

  describe('protocol', () => {
    it('answers an unknown operation with UnknownOperationException and a foreign Host with 403', async () => {
      // Prepare
      const { services } = await setUp();
      const post = (target: string, headers: Record<string, string> = {}) =>
        fetch(`${services.endpoint}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target, ...headers },
          body: '{}',
        });

      // Act
      const unknown = await post('AWSStepFunctions.DeleteStateMachine');
      const unknownBody = await unknown.json();
      // fetch does not let a caller set Host; node:http does.
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = request(`${services.endpoint}/`, {
          method: 'POST',
          headers: {
            host: 'attacker.example',
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'AWSStepFunctions.StartExecution',
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end('{}');
      });

      // Assess
      expect(unknown.status).toBe(400);
      expect(unknownBody).toMatchObject({ __type: 'UnknownOperationException' });
      expect(rebound).toBe(403);
    });
  });

  describe('adapters', () => {
    it('SfnTurnWorkflow starts one execution per idempotency key, including keys that need sanitising', async () => {
      // Prepare
      const inputs: unknown[] = [];
      const { sfn, services } = await setUp(async (input) => {
        inputs.push(input);
        return {};
      });
      const workflow = new SfnTurnWorkflow({ client: sfn, stateMachineArn: TURN_MACHINE_ARN });
      const longKey = `conv-1#msg:${'x'.repeat(100)}`;

      // Act
      await workflow.start({ messageId: 'a' }, 'conv-1#msg-1');
      await workflow.start({ messageId: 'a' }, 'conv-1#msg-1');
      await services.executions.drain();
      await workflow.start({ messageId: 'a' }, 'conv-1#msg-1');
      await workflow.start({ messageId: 'b' }, longKey);
      await workflow.start({ messageId: 'c' }, `${longKey}y`);
      await services.executions.drain();

      // Assess
      expect(inputs).toEqual([{ messageId: 'a' }, { messageId: 'b' }, { messageId: 'c' }]);
      for (const key of ['conv-1#msg-1', longKey]) {
        expect(executionNameFor(key)).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
      }
      expect(executionNameFor('turn_1-a')).toBe('turn_1-a');
    });

    it('EventBridgePublisher delivers every event through the local bus in chunks of 10', async () => {
      // Prepare
      const { events, eventBus } = await setUp();
      const envelopes = collectEnvelopes(eventBus);
      const calls: number[] = [];
      events.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'PutEventsCommand') {
            calls.push((args.input as { Entries: unknown[] }).Entries.length);
          }
          return next(args);
        },
        { step: 'initialize', name: 'countEntries' },
      );
      const publisher = new EventBridgePublisher({ client: events, eventBusName: BUS_NAME });
      const published: DomainEvent[] = Array.from({ length: 23 }, (_, i) => received(`m-${i}`));

      // Act
      await publisher.publish(published);
      await eventBus.drain();

      // Assess
      expect(calls).toEqual([10, 10, 3]);
      expect(envelopes.map((envelope) => envelope.detail)).toEqual(published);
      expect(envelopes.every((envelope) => envelope['detail-type'] === 'MessageReceived')).toBe(true);
    });

    it("EventBridgePublisher stamps entries with its clock's time, which the local bus keeps as the event time", async () => {
      // Prepare: a clock a day ahead of real time, as the local face's controlled clock can be
      const { events, eventBus } = await setUp();
      const envelopes = collectEnvelopes(eventBus);
      const at = Date.UTC(2031, 2, 4, 13, 45, 30, 250);
      const publisher = new EventBridgePublisher({
        client: events,
        eventBusName: BUS_NAME,
        clock: { now: () => at },
      });

      // Act
      await publisher.publish([received('m-0')]);
      await events.send(new PutEventsCommand({ Entries: [entryFor(received('m-1'))] }));
      await eventBus.drain();

      // Assess: the stamped time survives the wire; an entry without Time gets the bus's own clock
      expect(envelopes.map((envelope) => envelope.time)).toEqual([
        '2031-03-04T13:45:30.250Z',
        expect.not.stringMatching(/^2031-/),
      ]);
    });

    it('EventBridgePublisher retries rejected entries once, then throws naming them', async () => {
      // Prepare
      const sent: PutEventsRequestEntry[][] = [];
      const rejectFirstTwice = {
        send: async (command: PutEventsCommand) => {
          const entries = command.input.Entries!;
          sent.push(entries);
          return {
            FailedEntryCount: 1,
            Entries: entries.map((_, i) =>
              i === 0
                ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }
                : { EventId: `e-${i}` },
            ),
          };
        },
      } as unknown as EventBridgeClient;
      const publisher = new EventBridgePublisher({ client: rejectFirstTwice, eventBusName: BUS_NAME });

      // Act
      const error = await publisher.publish([received('m-0'), received('m-1')]).catch((e: unknown) => e);

      // Assess
      expect(sent.map((entries) => entries.map((entry) => JSON.parse(entry.Detail!).messageId))).toEqual([
        ['m-0', 'm-1'],
        ['m-0'],
      ]);
      expect((error as Error).message).toMatch(
        /rejected 1 of 2 events on supportmax-events: MessageReceived: ThrottlingException/,
      );
    });
  });
});
