/**
 * Construct assertions on the whole synthesized app (bundled once for this file): what each stack must
 * guarantee (encryption, recovery, authorization, logging, least privilege), cdk-nag and bundle sizes.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_ROUTES } from '#adapters/eventRoutes';
import { TABLES } from '#adapters/tableDefinitions';
import { ALL_METRIC_NAMES, METRIC_NAMESPACE } from '#core/metricNames';
import { AUDIT_DENIED_OBJECT_ACTIONS } from '../../lib/constructs/auditArchive';
import { ENGINE_ENVIRONMENT } from '../../lib/constructs/engineAssets';
import { CRM_PACKAGES, DESK_PACKAGES } from '../../lib/constructs/packageLayer';
import { TURN_DEFINITION_PATH } from '../../lib/constructs/turnWorkflow';
import { DASHBOARD_METRIC_NAMES } from '../../lib/stacks/observabilityStack';
import { type SynthesizedApp, synthSupportMax } from './synthApp';
import { logicalId, statementsOfRole, withAction } from './templateQueries';

type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  Metadata?: Record<string, string>;
};
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

let synth: SynthesizedApp;
let templates: Map<string, Template>;

const resourcesOf = (template: Template, type: string) =>
  template.findResources(type) as Record<string, Resource>;
const allResources = (type: string) =>
  [...templates.values()].flatMap((t) => Object.entries(resourcesOf(t, type)));
const statementsOf = (policy: Resource) =>
  (policy.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement;
const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
/** Functions bundled from lambdas/handlers (CDK's inline custom-resource handlers carry no asset). */
const appFunctions = () =>
  allResources('AWS::Lambda::Function').filter(([, fn]) => fn.Metadata?.['aws:asset:path'] !== undefined);

beforeAll(() => {
  synth = synthSupportMax({ bundle: true });
  templates = synth.templates();
}, 120_000);

afterAll(() => synth?.dispose());

describe('data stack', () => {
  it('creates every table of TABLES but the local-only ones on demand with PITR, the data key, its indexes and TTL, retained', () => {
    // Prepare
    const template = synth.template(synth.stacks.data);
    const deployed = Object.values(TABLES).filter((definition) => !('localOnly' in definition));

    // Act
    const tables = Object.values(resourcesOf(template, 'AWS::DynamoDB::Table'));

    // Assess
    expect(tables).toHaveLength(deployed.length);
    expect(JSON.stringify(tables)).not.toMatch(/"AttributeName":"(sessionHash|username)"/);
    for (const definition of deployed) {
      const keySchema = [
        { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
        ...('sortKey' in definition ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
      ];
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          KeySchema: keySchema,
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
          GlobalSecondaryIndexes:
            'indexes' in definition
              ? definition.indexes.map((index) => Match.objectLike({ IndexName: index.name }))
              : Match.absent(),
          TimeToLiveSpecification:
            'ttlAttribute' in definition
              ? { AttributeName: definition.ttlAttribute, Enabled: true }
              : Match.absent(),
        }),
      });
    }
  });

  it('rotates the customer managed data key', () => {
    synth.template(synth.stacks.data).hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('keeps KB sources and transcripts encrypted, versioned, private, SSL-only and access-logged', () => {
    // Prepare
    const template = synth.template(synth.stacks.data);

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('audit log', () => {
  /** Every role statement (stack/policy id with it) whose resources name the audit table or its indexes. */
  const auditTableStatements = () =>
    allResources('AWS::IAM::Policy').flatMap(([id, policy]) =>
      statementsOf(policy)
        .filter((s) => JSON.stringify(s.Resource).includes('AuditTable'))
        .map((statement) => ({ id, statement })),
    );

  it('locks every archive object in compliance mode for auditRetentionDays, encrypted, private and logged', () => {
    // Prepare
    const template = synth.template(synth.stacks.data);

    // Assess
    expect(synth.config.auditRetentionDays).toBe(2557);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketName: `supportmax-audit-${synth.config.account}-${synth.config.region}`,
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2557 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
            }),
          ],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicPolicy: true }),
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'audit/' }),
      }),
    });
  });

  it("refuses deletes and retention changes of archive objects to every principal, in the bucket's policy", () => {
    // Prepare
    const template = synth.template(synth.stacks.data);
    const [bucketId] = Object.entries(resourcesOf(template, 'AWS::S3::Bucket')).find(
      ([, b]) => b.Properties?.ObjectLockEnabled,
    )!;

    // Act
    const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find(
      (p) => JSON.stringify(p.Properties?.Bucket) === JSON.stringify({ Ref: bucketId }),
    )!;
    const denies = statementsOf(policy).filter((s) => s.Effect === 'Deny' && !s.Condition);
    const lockConfiguration = statementsOf(policy).find((s) =>
      list(s.Action).includes('s3:PutBucketObjectLockConfiguration'),
    )!;

    // Assess
    expect(denies).toHaveLength(1);
    expect(list(denies[0]!.Action).sort()).toEqual([...AUDIT_DENIED_OBJECT_ACTIONS].sort());
    expect(denies[0]).toMatchObject({ Principal: { AWS: '*' } });
    expect(JSON.stringify(denies[0]!.Resource)).toContain('/*');
    // The default retention changes through deployments (CloudFormation's role) only.
    expect(lockConfiguration).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
    expect(JSON.stringify(lockConfiguration.Condition)).toMatch(/ArnNotLike.*cdk-\*-cfn-exec-role-\*/);
  });

  it('lets no role update, delete or batch-write audit items; only the recorder, case and GDPR APIs put them', () => {
    // Act
    const statements = auditTableStatements();
    const actions = statements.flatMap(({ statement }) => list(statement.Action));
    const puts = statements.filter(({ statement }) => list(statement.Action).includes('dynamodb:PutItem'));

    // Assess
    expect(actions).not.toContain('dynamodb:UpdateItem');
    expect(actions).not.toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:BatchWriteItem');
    expect(actions.filter((a) => a.startsWith('dynamodb:PartiQL'))).toEqual([]);
    expect(puts.map(({ id }) => id).sort()).toEqual([
      expect.stringMatching(/^AuditRecorderRole/),
      expect.stringMatching(/^CasesRole/),
      expect.stringMatching(/^CustomersRole/),
    ]);
    for (const { statement } of puts) expect(statement.Action).toBe('dynamodb:PutItem');
  });

  it('gives the audit writers PutObject under audit/ only, and nobody deletes or re-times archive objects', () => {
    // Prepare
    const { workflow, api } = synth.stacks;
    const archive = `supportmax-audit-${synth.config.account}-${synth.config.region}`;
    const statements = allResources('AWS::IAM::Policy').flatMap(([id, policy]) =>
      statementsOf(policy).map((statement) => ({ id, statement })),
    );

    // Act
    const onArchive = statements.filter(({ statement }) =>
      JSON.stringify(statement.Resource).includes(archive),
    );
    const objectActions = statements.flatMap(({ statement }) => list(statement.Action));
    const variables = [workflow.auditRecorder, api.cases].map((fn) => {
      const stack = fn === api.cases ? api : workflow;
      return (
        resourcesOf(synth.template(stack), 'AWS::Lambda::Function')[logicalId(stack, fn)]!.Properties as {
          Environment: { Variables: Record<string, unknown> };
        }
      ).Environment.Variables;
    });

    // Assess
    expect(onArchive.map(({ id }) => id).sort()).toEqual([
      expect.stringMatching(/^AuditRecorderRole/),
      expect.stringMatching(/^CasesRole/),
      expect.stringMatching(/^CustomersRole/),
    ]);
    for (const { statement } of onArchive) {
      expect(statement.Action).toBe('s3:PutObject');
      expect(JSON.stringify(statement.Resource)).toContain(`:s3:::${archive}/audit/*`);
    }
    for (const action of objectActions) {
      expect(action).not.toMatch(/^s3:(DeleteObject|PutObjectRetention|PutObjectLegalHold|BypassGovernance)/);
      expect(action).not.toBe('s3:PutBucketObjectLockConfiguration');
    }
    for (const env of variables) {
      expect(env).toMatchObject({ AUDIT_TABLE: expect.anything(), AUDIT_BUCKET: archive });
    }
  });

  it('records the audit events and mirrors agent work into the CRM from their own functions', () => {
    // Prepare
    const { workflow } = synth.stacks;
    const template = synth.template(workflow);
    const targetOf = (rule: string) =>
      Object.values(resourcesOf(template, 'AWS::Events::Rule')).find(
        (r) =>
          JSON.stringify(r.Properties?.EventPattern) ===
          JSON.stringify(EVENT_ROUTES.find((route) => route.rule === rule)!.pattern),
      )!.Properties?.Targets as { Arn: unknown }[];

    // Act
    const audit = targetOf('audit');
    const crm = targetOf('crm-sync');

    // Assess
    expect(audit).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [logicalId(workflow, workflow.auditRecorder), 'Arn'] },
      }),
    ]);
    expect(crm).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [logicalId(workflow, workflow.crmSync), 'Arn'] } }),
    ]);
    expect(workflow.auditRecorder.handlerModule).toBe('events/auditRecorder');
    expect(workflow.crmSync.handlerModule).toBe('events/crmSync');
  });
});

describe('search stack', () => {
  it('creates a vector-search collection after its encryption and network policies', () => {
    // Prepare
    const template = synth.template(synth.stacks.search);

    // Act
    const collection = Object.values(
      resourcesOf(template, 'AWS::OpenSearchServerless::Collection'),
    )[0] as Resource & {
      DependsOn: string[];
    };

    // Assess
    expect(collection.Properties).toMatchObject({ Type: 'VECTORSEARCH' });
    expect(collection.DependsOn).toHaveLength(2);
    template.hasResourceProperties('AWS::OpenSearchServerless::SecurityPolicy', { Type: 'encryption' });
    template.hasResourceProperties('AWS::OpenSearchServerless::SecurityPolicy', { Type: 'network' });
    template.hasResourceProperties('AWS::OpenSearchServerless::AccessPolicy', { Type: 'data' });
  });

  it('runs the collection without a standby replica when retrieval is embedded (the default)', () => {
    const template = synth.template(synth.stacks.search);
    template.hasResourceProperties('AWS::OpenSearchServerless::Collection', { StandbyReplicas: 'DISABLED' });
  });

  it('lets only the KB indexer write the collection, through its own data-access policy', () => {
    // Prepare
    const template = synth.template(synth.stacks.search);
    const indexerRole = synth.stacks.search.getLogicalId(
      synth.stacks.search.indexer.function.role!.node.defaultChild as never,
    );

    // Act
    const policies = Object.values(resourcesOf(template, 'AWS::OpenSearchServerless::AccessPolicy'));
    const text = JSON.stringify(policies);

    // Assess
    expect(policies).toHaveLength(1);
    expect(text).toContain(indexerRole);
    expect(text).toContain('aoss:WriteDocument');
  });

  it('gives the retrieve stage no collection access while retrieval runs on the embedded index', () => {
    // Prepare
    const template = synth.template(synth.stacks.workflow);

    // Act
    const statements = JSON.stringify(resourcesOf(template, 'AWS::IAM::Policy'));

    // Assess
    expect(synth.config.searchBackend).toBe('embedded');
    template.resourceCountIs('AWS::OpenSearchServerless::AccessPolicy', 0);
    expect(statements).not.toContain('aoss:');
  });
});

describe('WebSocket and API stacks', () => {
  it('serves the chat on a throttled, access-logged WebSocket stage', () => {
    // Prepare
    const template = synth.template(synth.stacks.webSocket);

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: Match.anyValue(),
      RetentionInDays: 90,
    });
  });

  it('routes $connect, $disconnect and the three message routes to their handlers', () => {
    // Prepare
    const template = synth.template(synth.stacks.api);

    // Act
    const routeKeys = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties?.RouteKey,
    );

    // Assess
    expect(routeKeys.sort()).toEqual([
      '$connect',
      '$default',
      '$disconnect',
      'sendMessage',
      'subscribeConsole',
    ]);
    expect(Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Integration'))).toHaveLength(5);
  });

  it('lets the message handler start the turn workflow and post to connections', () => {
    // Prepare
    const template = synth.template(synth.stacks.api);
    const role = synth.stacks.api.getLogicalId(
      synth.stacks.api.chat.message.role!.node.defaultChild as never,
    );

    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: role }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'execute-api:ManageConnections',
            Resource: Match.objectLike({
              'Fn::Join': Match.arrayWith([Match.arrayWith(['/prod/POST/@connections/*'])]),
            }),
          }),
          Match.objectLike({ Action: 'states:StartExecution' }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TURN_STATE_MACHINE_ARN: Match.anyValue(),
          WEBSOCKET_CALLBACK_URL: Match.anyValue(),
          EVENT_BUS_NAME: Match.anyValue(),
        }),
      },
    });
  });

  it('requires a Cognito token on every /api route except /api/health', () => {
    // Prepare
    const template = synth.template(synth.stacks.api);
    const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
    const pathOf = (id: string): string => {
      const props = resources[id]?.Properties as { PathPart: string; ParentId: { Ref?: string } } | undefined;
      if (!props) return '';
      return `${props.ParentId.Ref ? pathOf(props.ParentId.Ref) : ''}/${props.PathPart}`;
    };

    // Act
    const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).map((m) => {
      const props = m.Properties as {
        HttpMethod: string;
        AuthorizationType: string;
        ResourceId: { Ref: string };
      };
      return { route: `${props.HttpMethod} ${pathOf(props.ResourceId.Ref)}`, auth: props.AuthorizationType };
    });

    // Assess
    expect(methods).toEqual(
      expect.arrayContaining([
        { route: 'GET /api/health', auth: 'NONE' },
        { route: 'GET /api/metrics', auth: 'COGNITO_USER_POOLS' },
        { route: 'GET /api/cases', auth: 'COGNITO_USER_POOLS' },
        { route: 'GET /api/cases/{caseId}', auth: 'COGNITO_USER_POOLS' },
        { route: 'POST /api/cases/{caseId}/takeover', auth: 'COGNITO_USER_POOLS' },
        { route: 'POST /api/cases/{caseId}/reply', auth: 'COGNITO_USER_POOLS' },
        { route: 'POST /api/cases/{caseId}/resolve', auth: 'COGNITO_USER_POOLS' },
        { route: 'GET /api/audit', auth: 'COGNITO_USER_POOLS' },
        { route: 'GET /api/customers/{customerId}', auth: 'COGNITO_USER_POOLS' },
        { route: 'DELETE /api/customers/{customerId}', auth: 'COGNITO_USER_POOLS' },
      ]),
    );
    expect(methods.filter((m) => m.auth === 'NONE').map((m) => m.route)).toEqual(['GET /api/health']);
    // The audit day is required before the handler runs; limit and cursor are optional.
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: Match.anyValue(),
      RequestParameters: {
        'method.request.querystring.day': true,
        'method.request.querystring.limit': false,
        'method.request.querystring.cursor': false,
      },
    });
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
  });

  it('lets the GDPR function find and delete customer records but never write them', () => {
    // Prepare
    const template = synth.template(synth.stacks.api);
    const roleId = logicalId(synth.stacks.api, synth.stacks.api.customers.role!);

    // Act
    const statements = statementsOfRole(template, roleId);

    // Assess
    expect(withAction(statements, 'dynamodb:DeleteItem').length).toBeGreaterThan(0);
    expect(withAction(statements, 'dynamodb:Query').length).toBeGreaterThan(0);
    expect(withAction(statements, 'dynamodb:UpdateItem')).toEqual([]);
    expect(withAction(statements, 's3:DeleteObject')).toEqual([]);
    expect(withAction(statements, 'states:SendTaskSuccess').length).toBe(1);
  });

  it('logs, traces and throttles the REST stage and protects it with a WAF web ACL', () => {
    // Prepare
    const template = synth.template(synth.stacks.api);

    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [
        Match.objectLike({ LoggingLevel: 'ERROR', ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 }),
      ],
    });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: [
        Match.objectLike({
          Name: 'RateLimitPerIp',
          Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'IP' }) },
        }),
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }),
        Match.objectLike({ Name: 'AWSManagedRulesKnownBadInputsRuleSet' }),
      ],
    });
    const stage = Object.keys(resourcesOf(template, 'AWS::ApiGateway::Stage'))[0]!;
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: stage }])] },
    });
  });

  it('gives operators a user pool with groups, a strong password policy and mandatory MFA', () => {
    // Prepare
    const template = synth.template(synth.stacks.identity);

    // Assess
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
    for (const group of ['agent', 'supervisor', 'admin']) {
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: group });
    }
  });
});

describe('workflow stack', () => {
  it('runs the turn definition as an Express state machine with full, encrypted logging and tracing', () => {
    // Prepare
    const template = synth.template(synth.stacks.workflow);

    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'EXPRESS',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/'),
      KmsKeyId: Match.anyValue(),
    });
  });

  it('ships a valid ASL whose substitutions are exactly the four agent functions', () => {
    // Prepare
    const validate = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
      isValid: boolean;
      errorsText: (separator?: string) => string;
    };
    const asl = readFileSync(TURN_DEFINITION_PATH, 'utf8');
    const template = synth.template(synth.stacks.workflow);
    const functions = resourcesOf(template, 'AWS::Lambda::Function');

    // Act
    const result = validate(JSON.parse(asl));
    const machine = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine')).find(
      (m) => m.Properties?.StateMachineType === 'EXPRESS',
    )!;
    const substitutions = machine.Properties?.DefinitionSubstitutions as Record<
      string,
      { 'Fn::GetAtt': [string, string] }
    >;
    const placeholders = new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));

    // Assess
    expect(result.isValid, result.errorsText('\n')).toBe(true);
    expect(new Set(Object.keys(substitutions))).toEqual(placeholders);
    expect(Object.keys(substitutions).sort()).toEqual([
      'AnswerFunctionArn',
      'ClassifyFunctionArn',
      'EscalateFunctionArn',
      'RetrieveFunctionArn',
    ]);
    for (const [name, value] of Object.entries(substitutions)) {
      const [logicalId, attribute] = value['Fn::GetAtt'];
      expect(functions[logicalId], `${name} → ${logicalId}`).toBeDefined();
      expect(attribute).toBe('Arn');
    }
  });

  it('looks customers up in the built-in CRM from the case-step function only, with no secret or e-mail access', () => {
    // Prepare
    const workflow = synth.stacks.workflow;
    const template = synth.template(workflow);
    const caseStep = workflow.escalationWorkflow.caseStep;
    const variables = (id: string) =>
      (
        resourcesOf(template, 'AWS::Lambda::Function')[id]!.Properties as {
          Environment: { Variables: Record<string, unknown> };
        }
      ).Environment.Variables;
    const customerReaders = allResources('AWS::IAM::Policy').filter(([, policy]) =>
      statementsOf(policy).some(
        (s) =>
          list(s.Action).includes('dynamodb:GetItem') &&
          JSON.stringify(s.Resource).includes('CustomersTable'),
      ),
    );
    const actions = allResources('AWS::IAM::Policy').flatMap(([, policy]) =>
      statementsOf(policy).flatMap((s) => list(s.Action)),
    );

    // Act
    const caseStepEnv = variables(workflow.getLogicalId(caseStep.node.defaultChild as never));
    const notifierEnv = variables(
      workflow.getLogicalId(workflow.teamNotifier.handler.node.defaultChild as never),
    );

    // Assess
    expect(synth.config.crm).toEqual({ backend: 'builtin' });
    expect(caseStepEnv).toMatchObject({ CRM_BACKEND: 'builtin', CUSTOMERS_TABLE: expect.anything() });
    expect(caseStepEnv.SALESFORCE_SECRET_ARN).toBeUndefined();
    expect(customerReaders.map(([id]) => id)).toEqual([
      expect.stringMatching(/^EscalationWorkflowCaseStepRole/),
    ]);
    expect(actions.filter((a) => a.startsWith('secretsmanager:') || a.startsWith('ses:'))).toEqual([]);
    expect(Object.keys(notifierEnv).filter((name) => /^(TEAM_|SES_|CONSOLE_)/.test(name))).toEqual([]);
  });

  it('gives the answer stage its prompt budget, maxInputTokensPerQuery (3000 by default)', () => {
    // Prepare
    const { workflow } = synth.stacks;

    // Act
    const fn = resourcesOf(synth.template(workflow), 'AWS::Lambda::Function')[
      logicalId(workflow, workflow.turns.answer)
    ]!;

    // Assess
    expect(synth.config.maxInputTokensPerQuery).toBe(3000);
    expect(fn.Properties).toMatchObject({
      Environment: { Variables: expect.objectContaining({ MAX_INPUT_TOKENS_PER_QUERY: '3000' }) },
    });
  });

  it('creates no e-mail resources and mails from no handler while the e-mail channel is not configured', () => {
    // Act
    const types = [...templates.values()].flatMap((t) =>
      Object.values(t.toJSON().Resources as Record<string, Resource>).map((r) => r.Type),
    );
    const variables = allResources('AWS::Lambda::Function').map(([, fn]) =>
      JSON.stringify((fn.Properties as { Environment?: unknown }).Environment ?? {}),
    );

    // Assess
    expect(synth.config.email).toBeUndefined();
    expect(synth.stacks.email).toBeUndefined();
    expect(types.filter((type) => type.startsWith('AWS::SES::'))).toEqual([]);
    expect(synth.stacks.workflow.emailIntake).toBeUndefined();
    for (const env of variables) {
      expect(env).not.toMatch(/EMAIL_THREADS_TABLE|SUPPORT_EMAIL_ADDRESS|SES_CONFIGURATION_SET/);
    }
  });

  it('invokes only the four agent functions from the state machine, without version wildcards', () => {
    // Prepare
    const workflow = synth.stacks.workflow;
    const role = workflow.getLogicalId(workflow.turns.stateMachine.role.node.defaultChild as never);
    const policy = Object.values(resourcesOf(synth.template(workflow), 'AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties?.Roles).includes(role),
    )!;

    // Act
    const invoke = statementsOf(policy).filter((s) => list(s.Action).includes('lambda:InvokeFunction'));

    // Assess
    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.Resource).toHaveLength(4);
    expect(JSON.stringify(invoke[0]!.Resource)).not.toContain(':*');
  });

  it('queues escalations with SSE, SSL-only access and a dead-letter queue after 3 receives', () => {
    // Prepare
    const template = synth.template(synth.stacks.workflow);

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
    });
    for (const queue of Object.values(resourcesOf(template, 'AWS::SQS::Queue'))) {
      expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    }
    const queues = Object.keys(resourcesOf(template, 'AWS::SQS::Queue'));
    const sslOnly = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy')).filter((p) =>
      JSON.stringify(p.Properties).includes('"aws:SecureTransport":"false"'),
    );
    expect(sslOnly).toHaveLength(queues.length);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('routes every EVENT_ROUTES entry to its consumer with retries and a dead-letter queue', () => {
    // Prepare
    const template = synth.template(synth.stacks.workflow);
    const queues = Object.keys(resourcesOf(template, 'AWS::SQS::Queue'));

    // Act
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule'));
    const invokeConfigs = Object.values(resourcesOf(template, 'AWS::Lambda::EventInvokeConfig')).map(
      (c) => c.Properties as { FunctionName: { Ref: string }; DestinationConfig: unknown },
    );
    const consumers = new Set(
      rules.flatMap((r) =>
        (r.Properties?.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[]).map(
          (t) => t.Arn['Fn::GetAtt'][0],
        ),
      ),
    );

    // Assess
    expect(rules).toHaveLength(EVENT_ROUTES.length);
    for (const route of EVENT_ROUTES) {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: route.pattern,
        Targets: [
          Match.objectLike({
            DeadLetterConfig: { Arn: Match.anyValue() },
            RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
          }),
        ],
      });
    }
    // EventBridge invokes asynchronously: the consumers' own failures reach a dead-letter queue too.
    expect(invokeConfigs.map((c) => c.FunctionName.Ref).sort()).toEqual([...consumers].sort());
    for (const config of invokeConfigs) {
      const destination = JSON.stringify(config.DestinationConfig);
      expect(
        queues.some((queue) =>
          destination.includes(`{"OnFailure":{"Destination":{"Fn::GetAtt":["${queue}","Arn"]}}}`),
        ),
      ).toBe(true);
    }
  });

  it('scopes Bedrock to the configured models, and only for the answer stage', () => {
    // Prepare (the KB indexer's embedding model is covered in searchIndexing.test.ts)
    const { region, account, bedrockSimpleModelId, bedrockComplexModelId } = synth.config;
    const bedrock = allResources('AWS::IAM::Policy').flatMap(([id, policy]) =>
      statementsOf(policy)
        .filter((s) => list(s.Action).some((a) => a.startsWith('bedrock:')))
        .filter((s) => !JSON.stringify(s.Resource).includes('foundation-model/amazon.titan-embed-text'))
        .map((s) => ({ id, statement: s })),
    );

    // Act
    const resources = bedrock.flatMap(({ statement }) => list(statement.Resource as string | string[]));
    const text = JSON.stringify(resources);

    // Assess
    expect(new Set(bedrock.map((b) => b.id)).size).toBe(1);
    expect(bedrock[0]!.id).toMatch(/^TurnsAnswer/);
    expect(bedrock.every(({ statement }) => list(statement.Action).join() === 'bedrock:InvokeModel')).toBe(
      true,
    );
    for (const modelId of [bedrockSimpleModelId, bedrockComplexModelId]) {
      expect(text).toContain(`:bedrock:${region}:${account}:inference-profile/${modelId}`);
      expect(text).toContain(`:bedrock:*::foundation-model/${modelId.replace(/^us\./, '')}`);
    }
    for (const { statement } of bedrock) {
      const arns = JSON.stringify(statement.Resource);
      if (arns.includes('foundation-model')) {
        expect(JSON.stringify(statement.Condition)).toMatch(
          /^\{"StringEquals":\{"bedrock:InferenceProfileArn":.*inference-profile\//,
        );
      }
    }
  });
});

describe('IAM across the app', () => {
  it('grants no Action "*" and uses Resource "*" only for X-Ray and log delivery', () => {
    // Prepare
    const unscopable =
      /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;

    // Act
    const statements = allResources('AWS::IAM::Policy').flatMap(([, policy]) => statementsOf(policy));

    // Assess
    expect(statements.length).toBeGreaterThan(20);
    for (const statement of statements) {
      for (const action of list(statement.Action)) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/:\*$/);
      }
      if (statement.Resource === '*') {
        expect(
          list(statement.Action).every((a) => unscopable.test(a)),
          JSON.stringify(statement),
        ).toBe(true);
      }
    }
  });

  it('uses no AWS managed policy except the API Gateway logging and CDK S3 notification handler roles', () => {
    // Act
    const managed = allResources('AWS::IAM::Role').filter(([, role]) => role.Properties?.ManagedPolicyArns);

    // Assess
    expect(managed.map(([id]) => id).sort()).toEqual([
      expect.stringMatching(/^ApiGatewayLoggingRole/),
      expect.stringMatching(/^KbIndexerNotificationsHandlerRole/),
    ]);
  });
});

describe('observability stack', () => {
  it('alarms on dead letters, REST 5xx, workflow failures, low automation and cost anomalies', () => {
    // Prepare
    const template = synth.template(synth.stacks.observability);
    const topic = Object.keys(resourcesOf(template, 'AWS::SNS::Topic'))[0]!;

    // Act
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as Record<string, unknown>,
    );
    const text = JSON.stringify(alarms);

    // Assess
    expect(alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(
      synth.stacks.workflow.deadLetterQueues.size,
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
    });
    expect(text).toContain('ExecutionsFailed');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanThreshold',
      Threshold: synth.config.automationTarget,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'answered / (answered + escalated)' }),
        Match.objectLike({ Id: 'answered', MetricStat: Match.objectLike({ Period: 3600 }) }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanUpperThreshold',
      ThresholdMetricId: Match.anyValue(),
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('ANOMALY_DETECTION_BAND') }),
      ]),
    });
    // Every alarm notifies the topic, itself or through the composite alarm it is part of.
    const composites = Object.values(resourcesOf(template, 'AWS::CloudWatch::CompositeAlarm')).map(
      (a) => a.Properties as Record<string, unknown>,
    );
    for (const composite of composites) expect(composite.AlarmActions).toEqual([{ Ref: topic }]);
    const children = JSON.stringify(composites.map((c) => c.AlarmRule));
    for (const [id, alarm] of Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm'))) {
      if (alarm.Properties?.AlarmActions === undefined) expect(children, id).toContain(id);
      else expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topic }]);
    }
    expect(text).toContain('"priority","Value":"P1"');
    expect(composites).toHaveLength(1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it('shows the escalation workflow on the operations dashboard', () => {
    // Prepare
    const template = synth.template(synth.stacks.observability);

    // Act
    const operations = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'))
      .map((d) => JSON.stringify(d.Properties))
      .find((body) => body.includes('-operations'))!;

    // Assess
    expect(operations).toContain('Escalation workflow executions');
    expect(operations).toMatch(
      /ExecutionsFailed[^{}]*\{"Fn::ImportValue":"[^"]*EscalationWorkflowStateMachine/,
    );
  });

  it('reads only metric names the handlers emit, and every name it declares', () => {
    // Prepare
    const template = synth.template(synth.stacks.observability);
    const bodies = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard')).map((d) =>
      JSON.stringify(d.Properties?.DashboardBody),
    );

    // Act: metric arrays ["SupportMax","<name>",...] and SEARCH expressions MetricName="<name>"
    const used = new Set(
      bodies.flatMap((body) => [
        ...[...body.matchAll(new RegExp(`\\[\\\\"${METRIC_NAMESPACE}\\\\",\\\\"(\\w+)\\\\"`, 'g'))].map(
          (m) => m[1]!,
        ),
        ...[...body.matchAll(/MetricName=\\\\\\"(\w+)\\\\\\"/g)].map((m) => m[1]!),
      ]),
    );

    // Assess
    expect(bodies).toHaveLength(3);
    expect(DASHBOARD_METRIC_NAMES.every((name) => ALL_METRIC_NAMES.includes(name))).toBe(true);
    expect([...used].filter((name) => !(ALL_METRIC_NAMES as readonly string[]).includes(name))).toEqual([]);
    expect([...used].sort()).toEqual([...DASHBOARD_METRIC_NAMES].sort());
  });
});

describe('cdk-nag, bundles and layers', () => {
  it('passes the AWS Solutions checks with no unacknowledged finding', () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(synth.app);

    // Assess
    const findings = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    for (const stack of Object.values(synth.stacks)) {
      expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual(
        [],
      );
    }
  });

  it('keeps every function bundle under 1 MB (engine assets live in the layer)', () => {
    // Prepare
    const dirSize = (dir: string): number =>
      readdirSync(dir).reduce((sum, entry) => {
        const path = join(dir, entry);
        return sum + (statSync(path).isDirectory() ? dirSize(path) : statSync(path).size);
      }, 0);

    // Act
    const bundles = appFunctions().map(([id, fn]) => ({
      id,
      size: dirSize(join(synth.outdir, fn.Metadata!['aws:asset:path']!)),
    }));

    // Assess
    expect(bundles).toHaveLength(20);
    for (const bundle of bundles) expect(bundle.size, bundle.id).toBeLessThan(1024 * 1024);
  });

  it("imports at start only packages the Lambda runtime or the function's own layers provide", () => {
    // Prepare: the packages each layer puts under nodejs/node_modules
    const layerPackages = new Map(
      [...templates.values()].flatMap((t) =>
        Object.entries(resourcesOf(t, 'AWS::Lambda::LayerVersion')).map(([id, layer]) => {
          const root = join(synth.outdir, layer.Metadata!['aws:asset:path']!, 'nodejs', 'node_modules');
          return [id, (name: string) => existsSync(join(root, name, 'package.json'))] as const;
        }),
      ),
    );
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const packageOf = (specifier: string) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');

    // Act: static imports (ESM `import … from "x"` and `import "x"`) fail the cold start if unresolved
    const unresolved = appFunctions().flatMap(([id, fn]) => {
      const code = readFileSync(join(synth.outdir, fn.Metadata!['aws:asset:path']!, 'index.mjs'), 'utf8');
      const layers = ((fn.Properties?.Layers as { Ref: string }[] | undefined) ?? []).map(
        (layer) => layerPackages.get(layer.Ref)!,
      );
      const imported = [...code.matchAll(/\bimport\s*(?:[\w$*{}\s,]+?from\s*)?["']([^"']+)["']/g)]
        .map((m) => m[1]!)
        .filter((specifier) => !builtins.has(specifier) && !specifier.startsWith('@aws-sdk/'));
      return imported
        .filter((specifier) => !layers.some((provides) => provides(packageOf(specifier))))
        .map((specifier) => `${id}: ${specifier}`);
    });
    const importers = (pkg: string) =>
      appFunctions().filter(([, fn]) =>
        readFileSync(join(synth.outdir, fn.Metadata!['aws:asset:path']!, 'index.mjs'), 'utf8').includes(
          `from"${pkg}"`,
        ),
      );

    // Assess
    expect(unresolved).toEqual([]);
    // jsforce is loaded by the CRM functions only: the case step and the CRM sync (and e-mail intake).
    expect(
      importers(CRM_PACKAGES[0]!)
        .map(([id]) => id)
        .sort(),
    ).toEqual([expect.stringMatching(/^CrmSync/), expect.stringMatching(/^EscalationWorkflowCaseStep/)]);
    expect(importers(DESK_PACKAGES[0]!).length).toBeGreaterThan(10);
  });

  it('bundles each handler as minified ESM with the require banner, a source map and the SDK left out', () => {
    // Act
    const bundles = appFunctions().map(([, fn]) => join(synth.outdir, fn.Metadata!['aws:asset:path']!));

    // Assess
    for (const dir of bundles) {
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire } from 'module'; const require = createRequire(")).toBe(
        true,
      );
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      expect(code).not.toContain('class BedrockRuntimeClient');
      // Minified: a few very long lines (template literals keep their own line breaks).
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    }
  });

  it('ships jsforce without its browser bundles in the CRM layer and nodemailer in the desk layer', () => {
    // Prepare
    const layers = Object.entries(
      resourcesOf(synth.template(synth.stacks.workflow), 'AWS::Lambda::LayerVersion'),
    );
    const rootOf = (prefix: string) =>
      join(
        synth.outdir,
        layers.find(([id]) => id.startsWith(prefix))![1].Metadata!['aws:asset:path']!,
        'nodejs',
        'node_modules',
      );

    // Act
    const crm = rootOf('CrmPackages');
    const desk = rootOf('DeskPackages');

    // Assess
    expect(existsSync(join(crm, 'jsforce', 'lib', 'connection.js'))).toBe(true);
    expect(existsSync(join(crm, 'jsforce', 'dist'))).toBe(false);
    expect(existsSync(join(crm, 'jsforce', 'browser'))).toBe(false);
    expect(existsSync(join(crm, '@types'))).toBe(false);
    expect(readdirSync(desk)).toEqual(['nodemailer']);
  });

  it('puts models, the KB and the embedding packages where the engine functions look for them', () => {
    // Prepare
    const [, layer] = allResources('AWS::Lambda::LayerVersion').find(([id]) =>
      id.startsWith('EngineAssets'),
    )!;
    const root = join(synth.outdir, layer.Metadata!['aws:asset:path']!);
    const atOpt = (path: string) => join(root, path.replace(/^\/opt\//, ''));

    // Assess
    expect(existsSync(join(atOpt(ENGINE_ENVIRONMENT.MODELS_DIR), 'classifier.json'))).toBe(true);
    expect(readdirSync(atOpt(ENGINE_ENVIRONMENT.KNOWLEDGE_BASE_PATH)).some((f) => f.endsWith('.jsonl'))).toBe(
      true,
    );
    for (const pkg of ['core', 'embeddings', 'model-embeddings-en']) {
      expect(existsSync(join(root, 'nodejs', 'node_modules', '@energetic-ai', pkg, 'package.json'))).toBe(
        true,
      );
    }
    expect(existsSync(join(root, 'nodejs', 'node_modules', 'node-fetch', 'package.json'))).toBe(true);
  });
});
