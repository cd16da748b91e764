/**
 * Construct-level behaviour in small stacks (no bundling): defaults, prop validation and grants.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { TABLES } from '#adapters/tableDefinitions';
import { AppFunction, SERVICE_NAME } from '../../lib/constructs/appFunction';
import { AuditArchive } from '../../lib/constructs/auditArchive';
import { modelPermissions } from '../../lib/constructs/bedrockAccess';
import { ENGINE_ENVIRONMENT, EngineAssets } from '../../lib/constructs/engineAssets';
import { KnowledgeBaseIndexer } from '../../lib/constructs/knowledgeBaseIndexer';
import { PackageLayer } from '../../lib/constructs/packageLayer';
import { SupportTables } from '../../lib/constructs/supportTables';
import { VectorCollection } from '../../lib/constructs/vectorCollection';
import { ObservabilityStack, P1_FIRST_RESPONSE_ALARM_SECONDS } from '../../lib/stacks/observabilityStack';

const env = { account: '123456789012', region: 'us-east-1' };
const newStack = (id = 'Test') =>
  new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), id, { env });

describe('AppFunction', () => {
  it('runs a handler on Node.js 22 / arm64 with tracing, JSON logs, a month of retention and merged env', () => {
    // Prepare
    const stack = newStack();

    // Act
    new AppFunction(stack, 'Metrics', {
      handler: 'api/getMetrics',
      description: 'metrics',
      environment: { METRICS_TABLE: 'metrics' },
    });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 10,
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({
        LogFormat: 'JSON',
        LogGroup: { Ref: Match.stringLikeRegexp('^MetricsLogs') },
      }),
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          NODE_OPTIONS: '--enable-source-maps',
          METRICS_TABLE: 'metrics',
        },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  it('gives engine functions the engine layer, its paths, more memory and a longer timeout', () => {
    // Prepare
    const stack = newStack();
    const engineAssets = new EngineAssets(stack, 'Engine');

    // Act
    new AppFunction(stack, 'Retrieve', { handler: 'turn/retrieve', description: 'retrieve', engineAssets });

    // Assess
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1536,
      Timeout: 30,
      Layers: [{ Ref: Match.stringLikeRegexp('^EngineLayer') }],
      Environment: { Variables: Match.objectLike(ENGINE_ENVIRONMENT) },
    });
  });

  it('rejects a handler that is not in lambdas/handlers and out-of-range sizes', () => {
    // Prepare
    const stack = newStack();

    // Act
    const missing = () => new AppFunction(stack, 'Nope', { handler: 'api/nope', description: 'x' });
    const tooSmall = () =>
      new AppFunction(stack, 'Small', { handler: 'api/health', description: 'x', memorySize: 64 });
    const tooLong = () =>
      new AppFunction(stack, 'Long', {
        handler: 'api/health',
        description: 'x',
        timeout: Duration.minutes(16),
      });

    // Assess
    expect(missing).toThrow('handler "api/nope" is not a module in lambdas/handlers');
    expect(tooSmall).toThrow('memorySize must be an integer in 128..10240 MB, got 64');
    expect(tooLong).toThrow('timeout must be within 1..900 s, got 960 s');
  });
  it('attaches package layers and refuses more layers than Lambda allows', () => {
    // Prepare
    const stack = newStack();
    const layers = ['nodemailer', 'zod', 'ws', 'stemmer', 'mailparser', 'jsforce'].map(
      (name, i) => new PackageLayer(stack, `Packages${i}`, { packages: [name], description: name }),
    );

    // Act
    new AppFunction(stack, 'Mailer', {
      handler: 'api/cases',
      description: 'cases',
      packageLayers: [layers[0]!, layers[0]!],
    });
    const tooMany = () =>
      new AppFunction(stack, 'Greedy', { handler: 'api/cases', description: 'x', packageLayers: layers });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Layers: [{ Ref: Match.stringLikeRegexp('^Packages0Layer') }],
    });
    expect(tooMany).toThrow('Lambda allows 5 layers, got 6');
  });
});

describe('PackageLayer', () => {
  it('refuses names that are not npm packages, exclusions outside them and uninstalled packages', () => {
    // Prepare
    const stack = newStack();
    let layers = 0;
    const build = (packages: string[], exclude?: string[]) => () =>
      new PackageLayer(stack, `Layer${layers++}`, { packages, exclude, description: 'x' });

    // Assess
    expect(build([])).toThrow('name at least one package');
    expect(build(['../etc'])).toThrow('"../etc" is not an npm package name');
    expect(build(['jsforce'], ['nodemailer/lib'])).toThrow(
      'exclude "nodemailer/lib" is not a directory of jsforce',
    );
    expect(build(['jsforce'], ['jsforce/../x'])).toThrow('exclude "jsforce/../x"');
    expect(build(['not-a-supportmax-dependency'])).toThrow(
      'package not-a-supportmax-dependency is not installed',
    );
  });
});

describe('SupportTables', () => {
  it('grants item access on the named tables and their indexes only, and the key only through DynamoDB', () => {
    // Prepare
    const stack = newStack();
    const tables = new SupportTables(stack, 'Tables', { encryptionKey: new Key(stack, 'Key') });
    const role = new Role(stack, 'Reader', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });

    // Act
    tables.grant(role, 'read', 'cases');

    // Assess
    const statements = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(statements).toContain('/index/byStatus');
    expect(statements).toContain('/index/byConversation');
    expect(statements).not.toContain('/index/*');
    expect(statements).not.toContain('dynamodb:PutItem');
    expect(statements).not.toMatch(/kms:[A-Za-z]+\*/);
    expect(statements).toContain('kms:ViaService');
    expect(tables.environment('cases', 'metrics')).toEqual({
      CASES_TABLE: expect.any(String),
      METRICS_TABLE: expect.any(String),
    });
  });

  it('keeps the audit table append-only: PutItem on the table alone, and no read-write grant', () => {
    // Prepare
    const stack = newStack();
    const tables = new SupportTables(stack, 'Tables', { encryptionKey: new Key(stack, 'Key') });
    const role = new Role(stack, 'Recorder', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });

    // Act
    tables.grant(role, 'append', 'audit');
    const readWrite = () => tables.grant(role, 'readWrite', 'cases', 'audit');

    // Assess
    const statements = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const text = JSON.stringify(statements);
    expect(text).toContain('"Action":"dynamodb:PutItem"');
    expect(text).not.toMatch(/UpdateItem|DeleteItem|BatchWriteItem|GetItem|\/index\//);
    expect(text).toContain('kms:ViaService');
    expect(readWrite).toThrow("audit is append-only; grant 'append' (PutItem) and 'read'");
  });

  it('leaves out the local-only operator tables: on AWS, Cognito holds the operators', () => {
    // Prepare
    const stack = newStack();
    const deployed = Object.values(TABLES).filter((definition) => !('localOnly' in definition));

    // Act
    const tables = new SupportTables(stack, 'Tables', { encryptionKey: new Key(stack, 'Key') });

    // Assess
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', deployed.length);
    expect(deployed.length).toBeLessThan(Object.keys(TABLES).length);
    expect(() => tables.table('operatorSessions')).toThrow('local-only');
  });
});

describe('AuditArchive', () => {
  it('refuses a retention object lock cannot apply and a bucket name S3 would refuse', () => {
    // Prepare
    const stack = newStack();
    const common = { encryptionKey: new Key(stack, 'Key'), accessLogsBucket: new Bucket(stack, 'Logs') };

    // Act
    const none = () =>
      new AuditArchive(stack, 'A', { ...common, bucketName: 'audit-archive', retentionDays: 0 });
    const badName = () =>
      new AuditArchive(stack, 'B', { ...common, bucketName: 'Audit_Archive', retentionDays: 30 });

    // Assess
    expect(none).toThrow('retentionDays must be an integer in 1..36500, got 0');
    expect(badName).toThrow('bucketName "Audit_Archive" is not a valid S3 bucket name');
  });
});

describe('VectorCollection', () => {
  it('rejects names OpenSearch Serverless or the policy names would not accept', () => {
    // Prepare
    const stack = newStack();

    // Act
    const build = (collectionName: string) => () =>
      new VectorCollection(stack, collectionName, { collectionName });

    // Assess
    expect(build('KB')).toThrow('must be 3-20 lowercase letters');
    expect(build('a-very-long-collection-name')).toThrow('must be 3-20 lowercase letters');
  });

  it('rejects an index name OpenSearch would refuse and an embedding model that is not Titan v2', () => {
    // Prepare
    const stack = newStack();

    // Act
    const badIndex = () => new VectorCollection(stack, 'A', { collectionName: 'kb-a', indexName: 'FAQs' });
    const badModel = () =>
      new VectorCollection(stack, 'B', {
        collectionName: 'kb-b',
        embeddingModelId: 'amazon.titan-embed-text-v1',
      });

    // Assess
    expect(badIndex).toThrow('indexName "FAQs" must be a lower-case OpenSearch index name');
    expect(badModel).toThrow('must be a Titan Text Embeddings v2 model id');
  });

  it('names a granted role in a data-access policy in the role stack and allows the API on this collection', () => {
    // Prepare
    const app = new App();
    const search = new Stack(app, 'Search', { env });
    const compute = new Stack(app, 'Compute', { env });
    const collection = new VectorCollection(search, 'Kb', { collectionName: 'supportmax-kb' });
    const role = new Role(compute, 'Retriever', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });

    // Act
    collection.grant(role, 'read');

    // Assess
    const template = Template.fromStack(compute);
    template.hasResourceProperties('AWS::OpenSearchServerless::AccessPolicy', {
      Type: 'data',
      Name: Match.stringLikeRegexp('^supportmax-kb-r-'),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'aoss:APIAccessAll' })] },
    });
    Template.fromStack(search).resourceCountIs('AWS::OpenSearchServerless::AccessPolicy', 0);
  });
});

describe('KnowledgeBaseIndexer', () => {
  it('rejects a source bucket name S3 would not accept', () => {
    // Prepare
    const stack = newStack();
    const collection = new VectorCollection(stack, 'Kb', { collectionName: 'supportmax-kb' });

    // Act
    const build = () =>
      new KnowledgeBaseIndexer(stack, 'Indexer', {
        sourceBucketName: 'Content_Bucket',
        collection,
        // Validation fails before the layer is used; building a real one would copy ~40 MB.
        engineAssets: {} as EngineAssets,
      });

    // Assess
    expect(build).toThrow('sourceBucketName "Content_Bucket" is not an S3 bucket name');
  });
});

describe('Bedrock model permissions', () => {
  it('allows a base model in the deployment region only', () => {
    // Act
    const permissions = modelPermissions('amazon.nova-lite-v1:0', 'us-east-1', '123456789012');

    // Assess
    expect(permissions).toHaveLength(1);
    expect(permissions[0]!.resourceArns[0]).toMatch(
      /:bedrock:us-east-1::foundation-model\/amazon\.nova-lite-v1:0$/,
    );
  });

  it('allows an inference profile and its base model in any region, only through that profile', () => {
    // Act
    const [profile, base] = modelPermissions('eu.amazon.nova-micro-v1:0', 'eu-west-1', '123456789012');

    // Assess
    expect(profile!.resourceArns[0]).toMatch(
      /:bedrock:eu-west-1:123456789012:inference-profile\/eu\.amazon\.nova-micro-v1:0$/,
    );
    expect(base!.resourceArns[0]).toMatch(/:bedrock:\*::foundation-model\/amazon\.nova-micro-v1:0$/);
    expect(base!.conditions).toEqual({
      StringEquals: { 'bedrock:InferenceProfileArn': profile!.resourceArns[0] },
    });
  });
});

describe('ObservabilityStack', () => {
  const build = (props: {
    hourlyCostBaselineUsd?: number;
    automationTarget?: number;
    alarmEmail?: string;
  }) => {
    const app = new App();
    const sources = new Stack(app, 'Sources', { env });
    const api = new RestApi(sources, 'Api');
    api.root.addMethod('GET');
    const observability = new ObservabilityStack(app, 'Observability', {
      env,
      deadLetterQueues: new Map([['escalations', new Queue(sources, 'Dlq')]]),
      turnStateMachine: StateMachine.fromStateMachineArn(
        sources,
        'Machine',
        'arn:aws:states:us-east-1:123456789012:stateMachine:turn',
      ),
      escalationStateMachine: StateMachine.fromStateMachineArn(
        sources,
        'Escalation',
        'arn:aws:states:us-east-1:123456789012:stateMachine:escalation',
      ),
      restApi: api,
      automationTarget: props.automationTarget ?? 0.6,
      alarmEmail: props.alarmEmail,
      hourlyCostBaselineUsd: props.hourlyCostBaselineUsd,
      dashboardPrefix: 'Test',
    });
    return Template.fromStack(observability);
  };

  it('alarms when hourly model cost exceeds the configured baseline by 20 %', () => {
    // Act
    const template = build({ hourlyCostBaselineUsd: 2, alarmEmail: 'ops@example.com' });

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 2.4,
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ModelCostUsd', Namespace: 'SupportMax' }),
            Period: 3600,
            Stat: 'Sum',
          }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('relies on anomaly detection alone when no baseline is configured', () => {
    // Act
    const template = build({});

    // Assess
    const costAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      JSON.stringify(alarm).includes('ModelCostUsd'),
    );
    expect(costAlarms).toHaveLength(1);
    expect(costAlarms[0]!.Properties.ComparisonOperator).toBe('GreaterThanUpperThreshold');
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('pages once when a P1 case waits past its SLA or gets its first reply after five minutes', () => {
    // Act
    const template = build({});

    // Assess
    type Stat = { Metric: Record<string, unknown>; Stat: string; Period: number };
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
    const statOf = (alarm: { Properties?: Record<string, unknown> }) =>
      (alarm.Properties?.Metrics as { MetricStat?: Stat }[] | undefined)?.[0]?.MetricStat;
    const named = (name: string) => alarms.find(([, a]) => statOf(a)?.Metric.MetricName === name)!;
    const late = named('FirstResponseSeconds');
    const breached = named('SlaBreaches');
    const p1 = {
      Namespace: 'SupportMax',
      MetricName: expect.any(String),
      Dimensions: expect.arrayContaining([{ Name: 'priority', Value: 'P1' }]),
    };
    expect(statOf(late[1])).toMatchObject({ Metric: p1, Stat: 'Maximum', Period: 300 });
    expect(late[1].Properties).toMatchObject({ Threshold: 300, ComparisonOperator: 'GreaterThanThreshold' });
    expect(statOf(breached[1])).toMatchObject({ Metric: p1, Stat: 'Sum', Period: 300 });
    expect(breached[1].Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const [, child] of [late, breached]) expect(child.Properties.AlarmActions).toBeUndefined();
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmRule: {
        'Fn::Join': [
          '',
          [
            '(ALARM("',
            { 'Fn::GetAtt': [late[0], 'Arn'] },
            '") OR ALARM("',
            { 'Fn::GetAtt': [breached[0], 'Arn'] },
            '"))',
          ],
        ],
      },
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
    expect(P1_FIRST_RESPONSE_ALARM_SECONDS).toBe(300);
  });

  it('alarms on any failed, timed-out or aborted escalation workflow execution', () => {
    // Act
    const template = build({});

    // Assess
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      JSON.stringify(a).includes('failed + timedOut + aborted'),
    )!;
    expect(alarm.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: expect.stringMatching(/^AlarmTopic/) }],
    });
    const metrics = (
      alarm.Properties.Metrics as {
        Id: string;
        MetricStat?: { Metric: Record<string, unknown>; Stat: string; Period: number };
      }[]
    ).filter((m) => m.MetricStat);
    expect(Object.fromEntries(metrics.map((m) => [m.Id, m.MetricStat!.Metric.MetricName]))).toEqual({
      failed: 'ExecutionsFailed',
      timedOut: 'ExecutionsTimedOut',
      aborted: 'ExecutionsAborted',
    });
    for (const { MetricStat } of metrics) {
      expect(MetricStat).toMatchObject({
        Metric: {
          Namespace: 'AWS/States',
          Dimensions: [
            {
              Name: 'StateMachineArn',
              Value: 'arn:aws:states:us-east-1:123456789012:stateMachine:escalation',
            },
          ],
        },
        Stat: 'Sum',
        Period: 300,
      });
    }
  });

  it('rejects an automation target outside [0, 1]', () => {
    expect(() => build({ automationTarget: 60 })).toThrow('automationTarget must be within [0, 1], got 60');
  });
});
