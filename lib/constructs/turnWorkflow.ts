/**
 * The per-turn workflow: four agent functions (classify, retrieve, answer, escalate) and the Express state
 * machine of statemachines/turn.asl.json that runs them, the same definition the local face executes.
 */
import { join } from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AppFunction } from './appFunction';
import { grantInvokeModels } from './bedrockAccess';
import type { EngineAssets } from './engineAssets';
import { type TriageSettings, triageEnvironment } from './escalationWorkflow';
import { grantKnowledgeBaseIndexRead, type KnowledgeBaseIndexSource } from './knowledgeBaseIndexAccess';
import { PROJECT_ROOT } from './projectRoot';
import type { SupportDeskWiring } from './supportDeskWiring';
import type { VectorCollection } from './vectorCollection';

export const TURN_DEFINITION_PATH = join(PROJECT_ROOT, 'statemachines', 'turn.asl.json');

/** The Bedrock models of the answer stage and the limits the handler applies to them. */
export interface AnswerModels {
  readonly simpleModelId: string;
  readonly complexModelId: string;
  readonly maxOutputTokens: number;
  readonly timeoutMs: number;
  /** Prompt budget of one answer (MAX_INPUT_TOKENS_PER_QUERY): history and context are trimmed to fit. */
  readonly maxInputTokensPerQuery: number;
}

export interface TurnWorkflowProps {
  readonly desk: SupportDeskWiring;
  readonly engineAssets: EngineAssets;
  /** Cases the escalate stage hands to the humans' queue. */
  readonly escalationQueue: IQueue;
  readonly answerModels: AnswerModels;
  /** Calibrated confidence below which the turn escalates, in [0, 1]. */
  readonly confidenceThreshold: number;
  /** Where the retrieve stage searches: the engine layer's index or the KB collection. */
  readonly searchBackend: 'embedded' | 'opensearch';
  /** The KB collection; the retrieve stage may query it (and embed queries) when the backend is 'opensearch'. */
  readonly knowledgeCollection: VectorCollection;
  /**
   * The KB index the indexer builds in S3; the engine functions load it at cold start (searchBackend 'embedded').
   * @default none: the engine layer's KB
   */
  readonly knowledgeBaseIndex?: KnowledgeBaseIndexSource;
  /** Encrypts the execution log (it holds masked customer text). */
  readonly logKey: IKey;
  /** Priority rules the escalate stage triages with. @default the default rules and SLA targets */
  readonly triage?: TriageSettings;
}

export class TurnWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly classify: AppFunction;
  readonly retrieve: AppFunction;
  readonly answer: AppFunction;
  readonly escalate: AppFunction;

  constructor(scope: Construct, id: string, props: TurnWorkflowProps) {
    super(scope, id);
    if (!(props.confidenceThreshold >= 0 && props.confidenceThreshold <= 1)) {
      throw new Error(
        `TurnWorkflow ${id}: confidenceThreshold must be within [0, 1], got ${props.confidenceThreshold}`,
      );
    }
    const { desk, engineAssets } = props;
    const { maxInputTokensPerQuery } = props.answerModels;
    if (!(Number.isInteger(maxInputTokensPerQuery) && maxInputTokensPerQuery > 0)) {
      throw new Error(
        `TurnWorkflow ${id}: maxInputTokensPerQuery must be a positive integer, got ${maxInputTokensPerQuery}`,
      );
    }
    // Every stage builds its part of the desk through runtime.ts.
    const packageLayers = desk.packageLayers;
    const engineEnvironment = {
      CONFIDENCE_THRESHOLD: String(props.confidenceThreshold),
      SEARCH_BACKEND: props.searchBackend,
      ...props.knowledgeCollection.environment,
    };

    this.classify = new AppFunction(this, 'Classify', {
      handler: 'turn/classify',
      description: 'Turn step 1: intent, product area and sentiment of the customer message',
      engineAssets,
      packageLayers,
      environment: { ...desk.environment, ...engineEnvironment },
    });
    desk.grant(this.classify, { tables: { messages: 'read' } });

    this.retrieve = new AppFunction(this, 'Retrieve', {
      handler: 'turn/retrieve',
      description: 'Turn step 2: ranked FAQs, calibrated confidence and the escalation decision',
      engineAssets,
      packageLayers,
      environment: engineEnvironment,
    });
    // Only retrieval searches; the other engine functions never send a query to the backend.
    if (props.searchBackend === 'opensearch') {
      props.knowledgeCollection.grant(this.retrieve.role!, 'read');
      props.knowledgeCollection.grantEmbedding(this.retrieve.role!);
    }

    this.answer = new AppFunction(this, 'Answer', {
      handler: 'turn/answer',
      description: 'Turn step 3a: grounded answer (Bedrock, local fallback), stored, sent, published',
      engineAssets,
      packageLayers,
      environment: {
        ...desk.environment,
        ...desk.emailEnvironment,
        ...engineEnvironment,
        BEDROCK_SIMPLE_MODEL_ID: props.answerModels.simpleModelId,
        BEDROCK_COMPLEX_MODEL_ID: props.answerModels.complexModelId,
        MAX_OUTPUT_TOKENS: String(props.answerModels.maxOutputTokens),
        MAX_INPUT_TOKENS_PER_QUERY: String(maxInputTokensPerQuery),
        MODEL_TIMEOUT_MS: String(props.answerModels.timeoutMs),
      },
    });
    desk.grant(this.answer, {
      tables: { conversations: 'readWrite', messages: 'readWrite', connections: 'readWrite' },
      publishesEvents: true,
      notifiesClients: true,
      // Answers to e-mail conversations go out as replies.
      sendsEmail: true,
    });
    if (props.knowledgeBaseIndex) {
      for (const fn of [this.classify, this.retrieve, this.answer]) {
        grantKnowledgeBaseIndexRead(fn, props.knowledgeBaseIndex);
      }
    }
    const stack = Stack.of(this);
    grantInvokeModels(
      this.answer.role!,
      [props.answerModels.simpleModelId, props.answerModels.complexModelId],
      stack.region,
      stack.account,
    );

    this.escalate = new AppFunction(this, 'Escalate', {
      handler: 'turn/escalate',
      description: 'Turn step 3b: case with handoff packet, customer told, case queued for humans',
      packageLayers,
      environment: {
        ...desk.environment,
        ...desk.emailEnvironment,
        ...triageEnvironment(props.triage),
        ESCALATION_QUEUE_URL: props.escalationQueue.queueUrl,
      },
    });
    desk.grant(this.escalate, {
      tables: {
        conversations: 'readWrite',
        messages: 'readWrite',
        cases: 'readWrite',
        connections: 'readWrite',
      },
      publishesEvents: true,
      notifiesClients: true,
      // E-mail customers are told by mail (with the SLA promise).
      sendsEmail: true,
    });
    props.escalationQueue.grantSendMessages(this.escalate);

    const executionLogs = new LogGroup(this, 'ExecutionLogs', {
      // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's log resource policy.
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-turn`,
      retention: RetentionDays.ONE_MONTH,
      encryptionKey: props.logKey,
    });
    const stages = {
      Classify: this.classify,
      Retrieve: this.retrieve,
      Answer: this.answer,
      Escalate: this.escalate,
    };
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'SupportMax per-turn workflow (statemachines/turn.asl.json)',
      stateMachineType: StateMachineType.EXPRESS,
      definitionBody: DefinitionBody.fromFile(TURN_DEFINITION_PATH),
      definitionSubstitutions: Object.fromEntries(
        Object.entries(stages).map(([name, fn]) => [`${name}FunctionArn`, fn.functionArn]),
      ),
      timeout: Duration.minutes(2),
      tracingEnabled: true,
      logs: { destination: executionLogs, level: LogLevel.ALL, includeExecutionData: true },
    });
    // The definition calls the unqualified function ARNs: no `:*` version wildcard needed.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: Object.values(stages).map((fn) => fn.functionArn),
      }),
    );
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery (logs:CreateLogDelivery etc.) and X-Ray (PutTraceSegments etc.) support no ' +
        'resource-level permissions; test/cdk asserts every Resource "*" statement holds only those actions.',
    });
  }
}
