/**
 * The escalation workflow: the Standard state machine of statemachines/escalation.asl.json (the same file the
 * local face runs) and the case-step function behind all its tasks. Per case it looks the customer up,
 * sets priority and SLA, mirrors the case into the CRM, then waits for an agent with a task token whose
 * timer is the first-response deadline; an agent reply, a resolution or the customer leaving ends the wait.
 */
import { join } from 'node:path';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type FirstResponseOverrides, parseSlaOverrides } from '#core/slaPolicy';
import { type PriorityRule, parsePriorityRules } from '#core/triageRules';
import { AppFunction } from './appFunction';
import type { PackageLayer } from './packageLayer';
import { PROJECT_ROOT } from './projectRoot';
import type { SupportDeskWiring } from './supportDeskWiring';

export const ESCALATION_DEFINITION_PATH = join(PROJECT_ROOT, 'statemachines', 'escalation.asl.json');

/** What ends a wait: Step Functions authorises task-token callbacks on the state machine's ARN. */
export const END_WAIT_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure'];

/** How escalations are triaged (runtime `priorityRules()` and `slaPolicy()`). */
export interface TriageSettings {
  /** @default the default rule table of lambdas/core/triageRules.ts */
  readonly rules?: readonly PriorityRule[];
  /** Cells replacing the default first-response targets (minutes). @default none */
  readonly slaFirstResponseMinutes?: FirstResponseOverrides;
  /** Multiplies every SLA duration, in (0, 1000]. @default 1 */
  readonly slaTimeScale?: number;
}

/**
 * TRIAGE_RULES, SLA_FIRST_RESPONSE_MINUTES and SLA_TIME_SCALE for the functions that triage, validated by
 * the runtime's own parsers so a table the functions would refuse fails the synth instead.
 */
export function triageEnvironment(triage: TriageSettings = {}): Record<string, string> {
  const env: Record<string, string> = {};
  if (triage.rules !== undefined) {
    env.TRIAGE_RULES = JSON.stringify(triage.rules);
    parsePriorityRules(env.TRIAGE_RULES, 'triage.rules');
  }
  if (triage.slaFirstResponseMinutes !== undefined) {
    env.SLA_FIRST_RESPONSE_MINUTES = JSON.stringify(triage.slaFirstResponseMinutes);
    parseSlaOverrides(env.SLA_FIRST_RESPONSE_MINUTES, 'triage.slaFirstResponseMinutes');
  }
  if (triage.slaTimeScale !== undefined) {
    if (!(triage.slaTimeScale > 0 && triage.slaTimeScale <= 1000)) {
      throw new Error(`triage.slaTimeScale must be > 0 and <= 1000, got ${triage.slaTimeScale}`);
    }
    env.SLA_TIME_SCALE = String(triage.slaTimeScale);
  }
  return env;
}

/** Allows ending waits of the escalation workflow (SendTaskSuccess/Failure on that state machine only). */
export function grantEndWait(grantee: IGrantable, stateMachineArn: string): Grant {
  return Grant.addToPrincipal({ grantee, actions: END_WAIT_ACTIONS, resourceArns: [stateMachineArn] });
}

export interface EscalationWorkflowProps {
  readonly desk: SupportDeskWiring;
  /**
   * Physical name of the state machine. Fixed, so its ARN is known without a reference to it: the case-step
   * function ends waits too, and a Ref would close the loop function → policy → state machine → function.
   */
  readonly stateMachineName: string;
  /** @default the default rules and SLA targets */
  readonly triage?: TriageSettings;
  /** Encrypts the execution log (it holds case ids and task tokens, no customer text). */
  readonly logKey: IKey;
  /** The CRM client's layer (jsforce), which the case-step function imports through crmRuntime.ts. */
  readonly crmPackages: PackageLayer;
}

export class EscalationWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  /** The state machine's ARN, built from its name (no reference to the resource). */
  readonly stateMachineArn: string;
  readonly caseStep: AppFunction;

  constructor(scope: Construct, id: string, props: EscalationWorkflowProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(props.stateMachineName)) {
      throw new Error(
        `EscalationWorkflow ${id}: stateMachineName "${props.stateMachineName}" must be 1-80 letters, digits, _ or -`,
      );
    }
    const stack = Stack.of(this);
    const { desk } = props;
    this.stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: props.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.caseStep = new AppFunction(this, 'CaseStep', {
      handler: 'case/caseStep',
      description: 'Escalation workflow steps: customer, priority, SLA, CRM mirror, agent wait, SLA breach',
      // Inside the ASL's 30 s task timeout, with room for a CRM login plus two guarded CRM calls.
      timeout: Duration.seconds(25),
      packageLayers: [...desk.packageLayers, props.crmPackages],
      environment: { ...desk.environment, ...desk.crmEnvironment, ...triageEnvironment(props.triage) },
    });
    desk.grant(this.caseStep, {
      tables: { cases: 'readWrite', conversations: 'read' },
      publishesEvents: true,
      crm: 'lookup',
    });
    // A case answered while its token was being parked is released by the step itself.
    grantEndWait(this.caseStep, this.stateMachineArn);

    const executionLogs = new LogGroup(this, 'ExecutionLogs', {
      // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's log resource policy.
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: RetentionDays.THREE_MONTHS,
      encryptionKey: props.logKey,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      comment: 'SupportMax escalation workflow (statemachines/escalation.asl.json)',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(ESCALATION_DEFINITION_PATH),
      definitionSubstitutions: { CaseStepFunctionArn: this.caseStep.functionArn },
      tracingEnabled: true,
      logs: { destination: executionLogs, level: LogLevel.ALL, includeExecutionData: true },
    });
    // Both the plain tasks and lambda:invoke.waitForTaskToken call the unqualified function ARN.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.caseStep.functionArn] }),
    );
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery (logs:CreateLogDelivery etc.) and X-Ray (PutTraceSegments etc.) support no ' +
        'resource-level permissions; test/cdk asserts every Resource "*" statement holds only those actions.',
    });
  }

  /** Allows starting executions (one per case, named after it). */
  grantStartExecution(grantee: IGrantable): Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }
}
