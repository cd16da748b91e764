/**
 * The escalation workflow on AWS, synthesized (without bundling) with every escalation setting configured:
 * Salesforce CRM, an operator rule table and SLA overrides, SES team notifications.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '#adapters/tableDefinitions';
import type { AppConfig } from '../../lib/config';
import { END_WAIT_ACTIONS, ESCALATION_DEFINITION_PATH } from '../../lib/constructs/escalationWorkflow';
import { type SynthesizedApp, synthSupportMax } from './synthApp';
import { grantsOf as grantsOfRoles, list, logicalId, statementsOfRole, withAction } from './templateQueries';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Variables = Record<string, unknown>;

const SECRET_NAME = 'supportmax/salesforce';
const CONFIG: Partial<AppConfig> = {
  crm: { backend: 'salesforce', salesforceSecretName: SECRET_NAME },
  triage: {
    rules: [
      { when: { signals: ['security'] }, priority: 'P1', why: 'Security incident' },
      { when: {}, priority: 'P3', why: 'Anything else' },
    ],
    slaFirstResponseMinutes: { P1: { enterprise: 10 } },
    slaTimeScale: 0.5,
  },
  notifications: {
    fromAddress: 'support@example.com',
    queueEmails: { billing: 'billing@example.com', '*': 'team@example.org' },
    sesConfigurationSet: 'supportmax-team',
    consoleUrl: 'https://support.example.com/console',
  },
};

let synth: SynthesizedApp;

beforeAll(() => {
  synth = synthSupportMax({ config: CONFIG });
}, 120_000);

afterAll(() => synth?.dispose());

const machineOf = (template: Template) =>
  Object.entries(template.findResources('AWS::StepFunctions::StateMachine') as Record<string, Resource>).find(
    ([, machine]) => machine.Properties.StateMachineType === 'STANDARD',
  )!;

const variablesOf = (stack: Stack, fn: IConstruct): Variables =>
  (
    (synth.template(stack).toJSON().Resources[logicalId(stack, fn)] as Resource).Properties.Environment as {
      Variables: Variables;
    }
  ).Variables;

const roleOf = (fn: IConstruct) => (fn as IConstruct & { role: IConstruct }).role;

/** Every role (stack id/logical id) whose policies allow `action`, with those statements. */
const grantsOf = (action: string) =>
  grantsOfRoles(Object.values(synth.stacks) as Stack[], synth.template, action);

describe('escalation workflow', () => {
  it('runs escalation.asl.json as a Standard state machine with full, encrypted logging and tracing', () => {
    // Prepare
    const { workflow } = synth.stacks;
    const template = synth.template(workflow);

    // Act
    const [, machine] = machineOf(template);

    // Assess
    expect(machine.Properties).toMatchObject({
      StateMachineName: 'SupportMax-Workflow-escalation',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    const logGroupId = (
      machine.Properties.LoggingConfiguration as {
        Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[];
      }
    ).Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(template.toJSON().Resources[logGroupId].Properties).toMatchObject({
      LogGroupName: '/aws/vendedlogs/states/SupportMax-Workflow-escalation',
      KmsKeyId: { 'Fn::ImportValue': expect.stringMatching(/DataKey/) },
    });
  });

  it('deploys the file definition unchanged, every placeholder substituted with the case-step function', () => {
    // Prepare
    const validate = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
      isValid: boolean;
      errorsText: (separator?: string) => string;
    };
    const { workflow } = synth.stacks;
    const asl = readFileSync(ESCALATION_DEFINITION_PATH, 'utf8');
    const [, machine] = machineOf(synth.template(workflow));
    const { Key } = machine.Properties.DefinitionS3Location as { Key: string };

    // Act
    const deployed = readFileSync(join(synth.outdir, `asset.${Key}`), 'utf8');
    const placeholders = new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    const substitutions = machine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    const resolved = asl.replace(
      /\$\{CaseStepFunctionArn\}/g,
      'arn:aws:lambda:us-east-1:123456789012:function:case-step',
    );

    // Assess
    expect(deployed).toBe(asl);
    expect(placeholders).toEqual(new Set(['CaseStepFunctionArn']));
    expect(substitutions).toEqual({
      CaseStepFunctionArn: {
        'Fn::GetAtt': [logicalId(workflow, workflow.escalationWorkflow.caseStep), 'Arn'],
      },
    });
    expect(resolved).not.toMatch(/\$\{/);
    const result = validate(JSON.parse(resolved));
    expect(result.isValid, result.errorsText('\n')).toBe(true);
  });

  it('lets the state machine invoke the case-step function and nothing else', () => {
    // Prepare
    const { workflow } = synth.stacks;
    const template = synth.template(workflow);
    const role = logicalId(workflow, workflow.escalationWorkflow.stateMachine.role);

    // Act
    const statements = statementsOfRole(template, role);
    const lambda = statements.filter((s) => list(s.Action).some((a) => a.startsWith('lambda:')));

    // Assess
    expect(lambda).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [logicalId(workflow, workflow.escalationWorkflow.caseStep), 'Arn'] },
      },
    ]);
    expect(statements.filter((s) => s.Resource !== '*')).toHaveLength(1);
  });

  it('lets exactly the case-step, case API, chat message and GDPR functions end waits, on this machine only', () => {
    // Prepare
    const { workflow, api } = synth.stacks;
    const [machineId] = machineOf(synth.template(workflow));
    const exports = synth.template(workflow).toJSON().Outputs as Record<
      string,
      { Value: unknown; Export: { Name: string } }
    >;
    const exported = (name: string) => Object.values(exports).find((o) => o.Export.Name === name)?.Value;
    const isThisMachine = (resource: unknown) => {
      const text = JSON.stringify(resource);
      if (text.includes('ImportValue')) {
        return (
          JSON.stringify(exported((resource as { 'Fn::ImportValue': string })['Fn::ImportValue'])) ===
          JSON.stringify({ Ref: machineId })
        );
      }
      return text.endsWith(':states:us-east-1:123456789012:stateMachine:SupportMax-Workflow-escalation"]]}');
    };

    // Act
    const success = grantsOf('states:SendTaskSuccess');
    const failure = grantsOf('states:SendTaskFailure');

    // Assess
    const expected = [
      `Workflow/${logicalId(workflow, roleOf(workflow.escalationWorkflow.caseStep))}`,
      `Api/${logicalId(api, roleOf(api.cases))}`,
      `Api/${logicalId(api, roleOf(api.chat.message))}`,
      `Api/${logicalId(api, roleOf(api.customers))}`,
    ].sort();
    expect([...success.keys()].sort()).toEqual(expected);
    expect([...failure.keys()].sort()).toEqual(expected);
    for (const [role, statements] of success) {
      for (const statement of statements) {
        expect(list(statement.Action).sort(), role).toEqual([...END_WAIT_ACTIONS].sort());
        expect(isThisMachine(statement.Resource), `${role}: ${JSON.stringify(statement.Resource)}`).toBe(
          true,
        );
      }
    }
  });

  it('lets the escalation intake start executions of this machine, whose ARN it is given', () => {
    // Prepare
    const { workflow } = synth.stacks;
    const template = synth.template(workflow);
    const [machineId] = machineOf(template);
    const intake = workflow.escalations.handler;

    // Act
    const start = withAction(
      statementsOfRole(template, logicalId(workflow, roleOf(intake))),
      'states:StartExecution',
    );

    // Assess
    expect(start).toHaveLength(1);
    expect(start[0]!.Resource).toEqual({ Ref: machineId });
    expect(variablesOf(workflow, intake).ESCALATION_STATE_MACHINE_ARN).toEqual({ Ref: machineId });
    expect(variablesOf(workflow, intake).SALESFORCE_SECRET_ARN).toBeUndefined();
  });

  it('gives the functions that reach Salesforce (case step, CRM sync) its secret name, backend and read access to that secret only', () => {
    // Prepare
    const { workflow, api } = synth.stacks;
    const crmFunctions = [
      [workflow, workflow.escalationWorkflow.caseStep],
      [workflow, workflow.crmSync],
    ] as const;

    // Act
    const readers = grantsOf('secretsmanager:GetSecretValue');

    // Assess
    expect([...readers.keys()].sort()).toEqual(
      crmFunctions.map(([stack, fn]) => `${stack.node.id}/${logicalId(stack, roleOf(fn))}`).sort(),
    );
    for (const [role, statements] of readers) {
      expect(JSON.stringify(statements.map((s) => s.Resource)), role).toMatch(
        new RegExp(`:secretsmanager:us-east-1:123456789012:secret:${SECRET_NAME}-\\?\\?\\?\\?\\?\\?"`),
      );
    }
    for (const [stack, fn] of crmFunctions) {
      expect(variablesOf(stack, fn)).toMatchObject({
        CRM_BACKEND: 'salesforce',
        SALESFORCE_SECRET_ARN: SECRET_NAME,
        [TABLES.customers.envVar]: expect.anything(),
      });
    }
    // Salesforce holds the customers: nobody reads the customers table.
    expect(JSON.stringify([...grantsOf('dynamodb:GetItem').values()])).not.toContain('CustomersTable');
    // Agent replies and closures reach the CRM through the CRM sync, not from the request handlers.
    for (const fn of [api.cases, api.chat.message]) {
      expect(variablesOf(api, fn).CRM_BACKEND).toBeUndefined();
      expect(variablesOf(api, fn).SALESFORCE_SECRET_ARN).toBeUndefined();
    }
  });

  it('gives the triaging functions the rule table and SLA settings, as the runtime parses them', () => {
    // Prepare
    const { workflow } = synth.stacks;

    // Act
    const triaging = [workflow.turns.escalate, workflow.escalationWorkflow.caseStep].map((fn) =>
      variablesOf(workflow, fn),
    );

    // Assess
    for (const variables of triaging) {
      expect(JSON.parse(variables.TRIAGE_RULES as string)).toEqual(CONFIG.triage!.rules);
      expect(JSON.parse(variables.SLA_FIRST_RESPONSE_MINUTES as string)).toEqual({ P1: { enterprise: 10 } });
      expect(variables.SLA_TIME_SCALE).toBe('0.5');
    }
    expect(variablesOf(workflow, workflow.escalations.handler).TRIAGE_RULES).toBeUndefined();
  });

  it('routes CaseOpened and SlaBreached to the team notifier, which may e-mail only as the sender', () => {
    // Prepare
    const { workflow } = synth.stacks;
    const template = synth.template(workflow);
    const notifier = workflow.teamNotifier.handler;

    // Act
    const variables = variablesOf(workflow, notifier);
    const send = withAction(
      statementsOfRole(template, logicalId(workflow, roleOf(notifier))),
      'ses:SendEmail',
    );

    // Assess
    expect(variables).toMatchObject({
      TEAM_NOTIFY_FROM: 'support@example.com',
      SES_CONFIGURATION_SET: 'supportmax-team',
      CONSOLE_URL: 'https://support.example.com/console',
      [TABLES.cases.envVar]: expect.anything(),
    });
    expect(JSON.parse(variables.TEAM_QUEUE_EMAILS as string)).toEqual(CONFIG.notifications!.queueEmails);
    expect(send).toHaveLength(1);
    expect(send[0]!.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'support@example.com' } });
    const resources = JSON.stringify(send[0]!.Resource);
    for (const identity of ['support@example.com', 'example.com']) {
      expect(resources).toContain(`:ses:us-east-1:123456789012:identity/${identity}"`);
    }
    expect(resources).toContain(':ses:us-east-1:123456789012:configuration-set/supportmax-team"');
    expect(resources).not.toContain('*');
    expect(grantsOf('ses:SendEmail').size).toBe(1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['CaseOpened', 'SlaBreached'] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(workflow, notifier), 'Arn'] } })],
    });
  });

  it('passes the AWS Solutions checks with this configuration too', () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(synth.app);

    // Assess
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    for (const stack of Object.values(synth.stacks) as Stack[]) {
      expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual(
        [],
      );
    }
  });
});
