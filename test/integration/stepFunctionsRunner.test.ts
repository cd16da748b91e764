// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${Name} is the ASL placeholder syntax under test.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStateMachine, loadStateMachineDefinition } from '#local/stepFunctionsRunner';

const CLASSIFY_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:classify';
const ESCALATE_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:escalate';

/** Task → Choice → Task, with the answer Task on the lambda:invoke integration, as CDK would deploy it. */
const turnAsl = {
  Comment: 'Classify a turn, then answer it or escalate it',
  StartAt: 'Classify',
  States: {
    Classify: {
      Type: 'Task',
      Resource: '${ClassifyFunctionArn}',
      ResultPath: '$.classification',
      Next: 'Route',
    },
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.classification.confidence', NumericGreaterThanEquals: 0.7, Next: 'Answer' }],
      Default: 'Escalate',
    },
    Answer: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '${AnswerFunctionArn}', 'Payload.$': '$' },
      ResultSelector: { 'text.$': '$.Payload.text' },
      ResultPath: '$.reply',
      Retry: [{ ErrorEquals: ['ModelThrottled'], IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Escalate' }],
      End: true,
    },
    Escalate: {
      Type: 'Task',
      Resource: '${EscalateFunctionArn}',
      Parameters: {
        'conversationId.$': '$.conversationId',
        'error.$': '$.error',
        'executionId.$': '$$.Execution.Id',
      },
      ResultPath: '$.case',
      End: true,
    },
  },
};

const substitutions = {
  ClassifyFunctionArn: CLASSIFY_ARN,
  AnswerFunctionArn: 'answer-function',
  EscalateFunctionArn: ESCALATE_ARN,
};

const throttled = () => Object.assign(new Error('model throttled'), { name: 'ModelThrottled' });

describe('LocalStateMachine', () => {
  let dir: string;
  let aslPath: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'supportmax-sfn-'));
    aslPath = join(dir, 'turnWorkflow.asl.json');
    await writeFile(aslPath, JSON.stringify(turnAsl, null, 2));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function turnWorkflow(confidence: number, answer: (input: unknown) => Promise<unknown>) {
    const calls: { task: string; input: unknown }[] = [];
    const record = (task: string, fn: (input: unknown) => Promise<unknown>) => async (input: unknown) => {
      calls.push({ task, input });
      return fn(input);
    };
    return {
      calls,
      resources: {
        [CLASSIFY_ARN]: record('classify', async () => ({ intent: 'billing_refund', confidence })),
        'answer-function': record('answer', answer),
        [ESCALATE_ARN]: record('escalate', async () => ({ caseId: 'case-1' })),
      },
    };
  }

  it('runs Classify → Choice → Answer against the bound local functions', async () => {
    // Prepare
    const { calls, resources } = turnWorkflow(0.9, async () => ({ text: 'Refunds take 5 days.' }));
    const definition = await loadStateMachineDefinition(aslPath, substitutions);
    const machine = new LocalStateMachine(definition, { name: 'turnWorkflow', resources });

    // Act
    const output = await machine.run({ conversationId: 'conv-1', text: 'refund please' });

    // Assess
    expect(output).toEqual({
      conversationId: 'conv-1',
      text: 'refund please',
      classification: { intent: 'billing_refund', confidence: 0.9 },
      reply: { text: 'Refunds take 5 days.' },
    });
    expect(calls.map((c) => c.task)).toEqual(['classify', 'answer']);
    expect(calls[1]!.input).toEqual({
      conversationId: 'conv-1',
      text: 'refund please',
      classification: { intent: 'billing_refund', confidence: 0.9 },
    });
  });

  it('takes the Choice default to Escalate when confidence is low, exposing the execution id', async () => {
    // Prepare
    const { calls, resources } = turnWorkflow(0.2, async () => ({ text: 'unused' }));
    const machine = new LocalStateMachine(await loadStateMachineDefinition(aslPath, substitutions), {
      name: 'turnWorkflow',
      resources,
    });

    // Act
    const execution = machine.start({ conversationId: 'conv-2', error: null });
    const output = (await execution.result) as { case: unknown };

    // Assess
    expect(calls.map((c) => c.task)).toEqual(['classify', 'escalate']);
    expect(calls[1]!.input).toEqual({
      conversationId: 'conv-2',
      error: null,
      executionId: execution.executionId,
    });
    expect(execution.executionId).toMatch(
      /^arn:aws:states:us-east-1:000000000000:execution:turnWorkflow:[0-9a-f-]{36}$/,
    );
    expect(output.case).toEqual({ caseId: 'case-1' });
  });

  it('retries a throttled task and continues when a retry succeeds', async () => {
    // Prepare
    let attempts = 0;
    const { calls, resources } = turnWorkflow(0.9, async () => {
      attempts++;
      if (attempts === 1) throw throttled();
      return { text: 'second time lucky' };
    });
    const machine = new LocalStateMachine(await loadStateMachineDefinition(aslPath, substitutions), {
      name: 'turnWorkflow',
      resources,
      retryIntervalMs: 1,
    });

    // Act
    const output = (await machine.run({ conversationId: 'conv-3' })) as { reply: unknown };

    // Assess
    expect(attempts).toBe(2);
    expect(output.reply).toEqual({ text: 'second time lucky' });
    expect(calls.map((c) => c.task)).toEqual(['classify', 'answer', 'answer']);
  });

  it('catches a task that keeps failing after its retries and routes to Escalate with the error', async () => {
    // Prepare
    const { calls, resources } = turnWorkflow(0.9, async () => {
      throw throttled();
    });
    const machine = new LocalStateMachine(await loadStateMachineDefinition(aslPath, substitutions), {
      name: 'turnWorkflow',
      resources,
      retryIntervalMs: 1,
    });

    // Act
    const output = (await machine.run({ conversationId: 'conv-4' })) as { case: unknown };

    // Assess
    expect(calls.map((c) => c.task)).toEqual(['classify', 'answer', 'answer', 'answer', 'escalate']);
    expect(calls[4]!.input).toMatchObject({
      conversationId: 'conv-4',
      error: { Error: 'ModelThrottled', Cause: 'model throttled' },
    });
    expect(output.case).toEqual({ caseId: 'case-1' });
  });

  it('rejects an invalid definition with the validator message', () => {
    // Prepare
    const broken = {
      StartAt: 'Classify',
      States: { Classify: { Type: 'Task', Resource: CLASSIFY_ARN, Next: 'Nowhere' } },
    };

    // Act
    const construct = () => new LocalStateMachine(broken, { name: 'broken', resources: {} });

    // Assess
    expect(construct).toThrow(/State machine "broken" is invalid:\n.*Nowhere/);
  });

  it('rejects a definition whose Task has no bound local function', async () => {
    // Prepare
    const definition = await loadStateMachineDefinition(aslPath, substitutions);

    // Act
    const construct = () => new LocalStateMachine(definition, { name: 'turnWorkflow', resources: {} });

    // Assess
    expect(construct).toThrow(
      'no local function bound for Task Classify (Resource arn:aws:lambda:us-east-1:000000000000:function:classify)',
    );
  });
});

describe('loadStateMachineDefinition', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'supportmax-asl-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces ${Name} placeholders and keeps ${!Name} as a literal', async () => {
    // Prepare
    const path = join(dir, 'machine.asl.json');
    await writeFile(path, JSON.stringify({ a: '${Table}', b: 'x-${Table}-${Queue}', c: '${!Literal}' }));

    // Act
    const definition = await loadStateMachineDefinition(path, { Table: 'cases', Queue: 'turns' });

    // Assess
    expect(definition).toEqual({ a: 'cases', b: 'x-cases-turns', c: '${Literal}' });
  });

  it('throws naming every placeholder left unsubstituted', async () => {
    // Prepare
    const path = join(dir, 'machine.asl.json');
    await writeFile(path, JSON.stringify({ a: '${Table}', b: '${Queue}', c: '${Topic}' }));

    // Act
    const load = loadStateMachineDefinition(path, { Table: 'cases' });

    // Assess
    await expect(load).rejects.toThrow(`${path}: no substitution for \${Queue}, \${Topic}`);
  });
});
