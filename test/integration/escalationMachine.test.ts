import { join } from 'node:path';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { SfnTaskCallbacks } from '#adapters/sfnTaskCallbacks';
import { type AwsJsonServices, startAwsJsonServices } from '#local/awsJsonServices';
import { LocalEventBus } from '#local/eventBus';
import { LocalStateMachine, LocalTaskTokens, loadStateMachineDefinition } from '#local/stepFunctionsRunner';

const STEP_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:case-step';
const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:escalation';
const DEFINITION = join(import.meta.dirname, '..', '..', 'statemachines', 'escalation.asl.json');

type StepInput = { step: string; caseId: string; taskToken?: string; outcome?: string };

/**
 * The escalation ASL with a scripted case-step function: `plan` answers prepare/slaBreached, awaitAgent
 * tokens are captured, every call is recorded.
 */
async function escalationFixture(plan: (input: StepInput, calls: StepInput[]) => object) {
  const calls: StepInput[] = [];
  const tokens = new LocalTaskTokens();
  const parked: string[] = [];
  let onParked: (() => void) | undefined;
  const machine = new LocalStateMachine(
    await loadStateMachineDefinition(DEFINITION, { CaseStepFunctionArn: STEP_ARN }),
    {
      name: 'escalation',
      taskTokens: tokens,
      resources: {
        [STEP_ARN]: async (input) => {
          const step = input as StepInput;
          calls.push(step);
          if (step.step === 'awaitAgent') {
            parked.push(step.taskToken!);
            onParked?.();
            return { waiting: true };
          }
          if (step.step === 'finish') return { caseId: step.caseId, outcome: step.outcome };
          return plan(step, calls);
        },
      },
    },
  );
  const services = await startAwsJsonServices({
    stateMachines: { [MACHINE_ARN]: machine },
    eventBus: new LocalEventBus(),
    taskTokens: tokens,
    logger: { info: () => undefined, error: () => undefined },
  });
  const client = new SFNClient({
    endpoint: services.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const nextParked = (count: number) =>
    new Promise<string>((resolve) => {
      const check = () => {
        if (parked.length >= count) resolve(parked[count - 1]!);
      };
      onParked = check;
      check();
    });
  return { calls, tokens, machine, services, client, nextParked };
}

let open: { services: AwsJsonServices; client: SFNClient; tokens: LocalTaskTokens }[] = [];
afterEach(async () => {
  for (const f of open) {
    f.tokens.abortAll();
    await f.services.executions.drain();
    await f.services.close();
    f.client.destroy();
  }
  open = [];
});

describe('statemachines/escalation.asl.json on the local runner', () => {
  it('waits for an agent with a task token and finishes with the outcome SendTaskSuccess carries', async () => {
    // Prepare
    const f = await escalationFixture(() => ({
      caseId: 'CS-AAAA1111',
      done: false,
      level: 'L1',
      timeoutSeconds: 60,
    }));
    open.push(f);
    const execution = f.machine.start({ caseId: 'CS-AAAA1111', conversationId: 'c-1' });

    // Act
    const token = await f.nextParked(1);
    await new SfnTaskCallbacks(f.client).succeed(token, { outcome: 'replied' });
    const output = (await execution.result) as Record<string, unknown>;

    // Assess
    expect(f.calls.map((c) => c.step)).toEqual(['prepare', 'awaitAgent', 'finish']);
    expect(f.calls[2]).toMatchObject({ outcome: 'replied' });
    expect(output.wait).toEqual({ outcome: 'replied' });
    expect(f.tokens.size).toBe(0);
  });

  it('moves up a level each time the timer expires, then finishes when released', async () => {
    // Prepare
    const f = await escalationFixture((input) =>
      input.step === 'prepare'
        ? { caseId: input.caseId, done: false, level: 'L1', timeoutSeconds: 1 }
        : { caseId: input.caseId, done: false, level: 'L2', timeoutSeconds: 60 },
    );
    open.push(f);
    const execution = f.machine.start({ caseId: 'CS-BBBB2222', conversationId: 'c-2' });

    // Act
    const second = await f.nextParked(2);
    await new SfnTaskCallbacks(f.client).succeed(second, { outcome: 'resolved' });
    await execution.result;

    // Assess
    expect(f.calls.map((c) => c.step)).toEqual([
      'prepare',
      'awaitAgent',
      'slaBreached',
      'awaitAgent',
      'finish',
    ]);
  });

  it('skips the wait when prepare finds the case already answered (restart)', async () => {
    // Prepare
    const f = await escalationFixture(() => ({ caseId: 'CS-CCCC3333', done: true }));
    open.push(f);

    // Act
    await f.client.send(
      new StartExecutionCommand({
        stateMachineArn: MACHINE_ARN,
        name: 'CS-CCCC3333',
        input: JSON.stringify({ caseId: 'CS-CCCC3333', conversationId: 'c-3' }),
      }),
    );
    await f.services.executions.drain();

    // Assess
    expect(f.calls.map((c) => c.step)).toEqual(['prepare']);
  });

  it('refuses unknown and stale tokens the way Step Functions does', async () => {
    // Prepare
    const f = await escalationFixture(() => ({
      caseId: 'CS-DDDD4444',
      done: false,
      level: 'L1',
      timeoutSeconds: 60,
    }));
    open.push(f);
    const execution = f.machine.start({ caseId: 'CS-DDDD4444', conversationId: 'c-4' });
    const token = await f.nextParked(1);
    const callbacks = new SfnTaskCallbacks(f.client);
    await callbacks.succeed(token, { outcome: 'replied' });
    await execution.result;

    // Act
    const raw = (taskToken: string) =>
      f.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })).then(
        () => 'ok',
        (error: Error) => error.name,
      );

    // Assess
    expect(await raw(token)).toBe('TaskDoesNotExist');
    expect(await raw('forged')).toBe('InvalidToken');
    await expect(callbacks.succeed(token, { outcome: 'replied' })).resolves.toBeUndefined();
  });

  it('ends waiting executions on shutdown instead of hanging', async () => {
    // Prepare
    const f = await escalationFixture(() => ({
      caseId: 'CS-EEEE5555',
      done: false,
      level: 'L1',
      timeoutSeconds: 600,
    }));
    open.push(f);
    const execution = f.machine.start({ caseId: 'CS-EEEE5555', conversationId: 'c-5' });
    await f.nextParked(1);

    // Act
    f.tokens.abortAll();

    // Assess
    await expect(execution.result).rejects.toThrow();
  });
});
