/**
 * The e-mail channel on AWS, synthesized (without bundling) with e-mail, the Salesforce CRM and customer
 * tokens configured: SES receiving and sending, the mail bucket, intake, who may send, and cdk-nag. One
 * bundled check keeps the intake function under 1 MB with its packages in layers.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '#adapters/tableDefinitions';
import type { AppConfig } from '../../lib/config';
import { AppFunction } from '../../lib/constructs/appFunction';
import {
  CRM_PACKAGES,
  CRM_PACKAGES_EXCLUDE,
  DESK_PACKAGES,
  MAIL_PARSER_PACKAGES,
  PackageLayer,
} from '../../lib/constructs/packageLayer';
import { SES_BOUNCE_RATE_ALARM, SES_COMPLAINT_RATE_ALARM } from '../../lib/stacks/observabilityStack';
import { type SynthesizedApp, synthSupportMax } from './synthApp';
import { grantsOf, list, logicalId, type Statement, statementsOfRole } from './templateQueries';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
type Variables = Record<string, unknown>;

const SUPPORT_ADDRESS = 'help@example.com';
const TOKEN_SECRET = 'supportmax/customer-token';
const CONFIG: Partial<AppConfig> = {
  email: { domain: 'example.com', supportAddress: SUPPORT_ADDRESS, inboundRetentionDays: 90 },
  crm: { backend: 'salesforce', salesforceSecretName: 'supportmax/salesforce' },
  customerTokenSecretName: TOKEN_SECRET,
};
const MAIL_BUCKET = 'supportmax-mail-123456789012-us-east-1';
const SES = 'arn:aws:ses:us-east-1:123456789012';

let synth: SynthesizedApp;

beforeAll(() => {
  synth = synthSupportMax({ config: CONFIG });
}, 120_000);

afterAll(() => synth?.dispose());

const stacks = () => Object.values(synth.stacks) as Stack[];
const resourcesOf = (stack: Stack, type: string) =>
  synth.template(stack).findResources(type) as Record<string, Resource>;
const roleOf = (fn: IConstruct) => (fn as IConstruct & { role: IConstruct }).role;
const variablesOf = (stack: Stack, fn: IConstruct): Variables =>
  (
    resourcesOf(stack, 'AWS::Lambda::Function')[logicalId(stack, fn)]!.Properties.Environment as {
      Variables: Variables;
    }
  ).Variables;
/** An ARN of a template, with the partition filled in (`arn:${Partition}:…` joins), for plain comparisons. */
const arnOf = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const node = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (node.Ref === 'AWS::Partition') return 'aws';
  if (node['Fn::Join']) return node['Fn::Join'][1].map(arnOf).join(node['Fn::Join'][0]);
  return JSON.stringify(value);
};
const arnsOf = (resource: unknown) => list(resource as string | string[]).map(arnOf);

/** The functions that send e-mail replies, as `<stack id>/<role logical id>`. */
const senders = () => {
  const { workflow, api } = synth.stacks;
  return [
    [workflow, workflow.turns.answer],
    [workflow, workflow.turns.escalate],
    [workflow, workflow.emailIntake!.handler],
    [api, api.cases],
  ] as const;
};

describe('e-mail channel', () => {
  it('verifies the domain with DKIM and sends through a configuration set that suppresses bounces and complaints', () => {
    // Prepare
    const email = synth.stacks.email!;
    const template = synth.template(email);

    // Act
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Assess
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'example.com',
      DkimAttributes: { SigningEnabled: true },
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      Name: 'SupportMax-email',
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
      ReputationOptions: { ReputationMetricsEnabled: true },
    });
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({
        Enabled: true,
        CloudWatchDestination: Match.anyValue(),
        MatchingEventTypes: Match.arrayWith(['bounce', 'complaint']),
      }),
    });
    expect(Object.keys(outputs).sort()).toEqual([
      'ActivateReceiptRules',
      'DkimRecord1',
      'DkimRecord2',
      'DkimRecord3',
      'MxRecord',
    ]);
    expect(outputs.MxRecord!.Value).toBe('example.com MX 10 inbound-smtp.us-east-1.amazonaws.com');
    expect(outputs.ActivateReceiptRules!.Value).toBe(
      'aws ses set-active-receipt-rule-set --rule-set-name SupportMax-inbound --region us-east-1',
    );
  });

  it('receives mail to the support address only, virus/spam-scanned, over TLS, into the mail bucket under inbound/', () => {
    // Prepare
    const template = synth.template(synth.stacks.email!);

    // Assess
    template.resourceCountIs('AWS::SES::ReceiptRule', 1);
    template.hasResourceProperties('AWS::SES::ReceiptRule', {
      RuleSetName: { Ref: Match.anyValue() },
      Rule: {
        Name: 'SupportMax-support-address',
        Enabled: true,
        Recipients: [SUPPORT_ADDRESS],
        ScanEnabled: true,
        TlsPolicy: 'Require',
        // No KmsKeyArn: SES client-side encryption would hide the mail from a plain GetObject.
        Actions: [{ S3Action: { BucketName: MAIL_BUCKET, ObjectKeyPrefix: 'inbound/' } }],
      },
    });
    template.hasResourceProperties('AWS::SES::ReceiptRuleSet', { RuleSetName: 'SupportMax-inbound' });
    // The bucket and its policies exist before the rule (SES checks that it may write when it is created).
    expect(synth.stacks.email!.dependencies).toContain(synth.stacks.data);
  });

  it('keeps inbound mail encrypted, private, logged and 90 days only, writable by this receipt rule only', () => {
    // Prepare
    const { data } = synth.stacks;
    const template = synth.template(data);
    const [bucketId] = Object.entries(resourcesOf(data, 'AWS::S3::Bucket')).find(
      ([, b]) => b.Properties.BucketName === MAIL_BUCKET,
    )!;

    // Act
    const policy = Object.values(resourcesOf(data, 'AWS::S3::BucketPolicy')).find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
    )!;
    const sesStatements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
      (s) => JSON.stringify(s).includes('ses.amazonaws.com'),
    );
    const keyPolicy = JSON.stringify(
      Object.values(resourcesOf(data, 'AWS::KMS::Key'))[0]!.Properties.KeyPolicy,
    );

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: MAIL_BUCKET,
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
          }),
        ],
      },
      PublicAccessBlockConfiguration: Match.objectLike({ RestrictPublicBuckets: true }),
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'mail/' }),
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })] },
    });
    expect(sesStatements).toHaveLength(1);
    expect(sesStatements[0]).toMatchObject({ Effect: 'Allow', Action: 's3:PutObject' });
    expect(arnsOf(sesStatements[0]!.Resource)).toEqual([expect.stringMatching(/\/inbound\/\*$/)]);
    const conditions = JSON.stringify(sesStatements[0]!.Condition);
    expect(conditions).toContain('"aws:SourceAccount"');
    expect(conditions).toContain(
      ':receipt-rule-set/SupportMax-inbound:receipt-rule/SupportMax-support-address',
    );
    // SES may use the data key through S3 for this bucket's objects only.
    expect(keyPolicy).toMatch(/"Service":"ses\.amazonaws\.com"/);
    expect(keyPolicy).toContain(`:s3:::${MAIL_BUCKET}/*`);
    expect(keyPolicy).toContain('"kms:ViaService"');
  });

  it('queues every mail created under inbound/ for intake, with a dead-letter queue and six intake timeouts of visibility', () => {
    // Prepare
    const { workflow } = synth.stacks;
    const intake = workflow.emailIntake!;
    const queueId = logicalId(workflow, intake.queue);

    // Act
    const notifications = Object.values(resourcesOf(workflow, 'Custom::S3BucketNotifications'));
    const queue = resourcesOf(workflow, 'AWS::SQS::Queue')[queueId]!;
    const handler = resourcesOf(workflow, 'AWS::Lambda::Function')[logicalId(workflow, intake.handler)]!;
    const mappings = Object.values(resourcesOf(workflow, 'AWS::Lambda::EventSourceMapping')).filter((m) =>
      JSON.stringify(m.Properties.EventSourceArn).includes(queueId),
    );

    // Assess
    expect(notifications).toHaveLength(1);
    expect(notifications[0]!.Properties).toMatchObject({
      BucketName: MAIL_BUCKET,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'inbound/' }] } },
            QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
          },
        ],
      },
    });
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: expect.anything(), maxReceiveCount: 3 },
    });
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * (handler.Properties.Timeout as number),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(workflow.deadLetterQueues.get('email-intake')).toBe(intake.deadLetterQueue);
  });

  it('gives intake the desk, the e-mail channel, the CRM and the turn workflow, reading only inbound mail and writing only attachments', () => {
    // Prepare
    const { workflow } = synth.stacks;
    const intake = workflow.emailIntake!.handler;
    const template = synth.template(workflow);
    const statements = statementsOfRole(template, logicalId(workflow, roleOf(intake)));
    const allowing = (action: string) => statements.filter((s) => list(s.Action).includes(action));
    const turnMachine = logicalId(workflow, workflow.turns.stateMachine);
    const layers = resourcesOf(workflow, 'AWS::Lambda::Function')[logicalId(workflow, intake)]!.Properties
      .Layers as { Ref: string }[];

    // Assess
    expect(variablesOf(workflow, intake)).toMatchObject({
      [TABLES.conversations.envVar]: expect.anything(),
      [TABLES.customers.envVar]: expect.anything(),
      EVENT_BUS_NAME: expect.anything(),
      WEBSOCKET_CALLBACK_URL: expect.anything(),
      TURN_STATE_MACHINE_ARN: { Ref: turnMachine },
      EMAIL_THREADS_TABLE: expect.anything(),
      SUPPORT_EMAIL_ADDRESS: SUPPORT_ADDRESS,
      SES_CONFIGURATION_SET: 'SupportMax-email',
      CRM_BACKEND: 'salesforce',
      SALESFORCE_SECRET_ARN: 'supportmax/salesforce',
    });
    expect(allowing('s3:GetObject').flatMap((s) => arnsOf(s.Resource))).toEqual([
      `arn:aws:s3:::${MAIL_BUCKET}/inbound/*`,
    ]);
    expect(allowing('kms:Decrypt').some((s) => JSON.stringify(s.Condition).includes('"s3.'))).toBe(true);
    expect(allowing('states:StartExecution').map((s) => s.Resource)).toEqual([{ Ref: turnMachine }]);
    expect(allowing('events:PutEvents')).toHaveLength(1);
    expect(allowing('secretsmanager:GetSecretValue')).toHaveLength(1);
    // Attachments: written under attachments/ of the content bucket only.
    expect(allowing('s3:PutObject').flatMap((s) => arnsOf(s.Resource))).toEqual([
      'arn:aws:s3:::supportmax-content-123456789012-us-east-1/attachments/*',
    ]);
    expect(variablesOf(workflow, intake).TRANSCRIPT_BUCKET).toBe('supportmax-content-123456789012-us-east-1');
    expect(layers.map((l) => l.Ref.replace(/Layer[0-9A-F]{8}$/, '')).sort()).toEqual([
      'CrmPackages',
      'DeskPackages',
      'MailParserPackages',
    ]);
  });

  it('lets exactly the reply senders mail, as the domain or support address through the configuration set', () => {
    // Prepare
    const expected = senders()
      .map(([stack, fn]) => `${stack.node.id}/${logicalId(stack, roleOf(fn))}`)
      .sort();
    const allowed = [
      `${SES}:identity/example.com`,
      `${SES}:identity/${SUPPORT_ADDRESS}`,
      `${SES}:configuration-set/SupportMax-email`,
    ].sort();

    // Act
    const send = grantsOf(stacks(), synth.template, 'ses:SendEmail');
    const raw = grantsOf(stacks(), synth.template, 'ses:SendRawEmail');
    const threadsEnv = stacks().flatMap((stack) =>
      Object.entries(resourcesOf(stack, 'AWS::Lambda::Function'))
        .filter(([, fn]) => JSON.stringify(fn.Properties.Environment ?? {}).includes('EMAIL_THREADS_TABLE'))
        .map(([id]) => `${stack.node.id}/${id}`),
    );

    // Assess
    expect([...send.keys()].sort()).toEqual(expected);
    expect([...raw.keys()].sort()).toEqual(expected);
    for (const [role, statements] of send) {
      for (const statement of statements) {
        expect(arnsOf(statement.Resource).sort(), role).toEqual(allowed);
        expect(list(statement.Action).sort()).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
      }
    }
    // The senders use the thread table; so does the GDPR function, which erases threads but sends nothing.
    const { api } = synth.stacks;
    expect(threadsEnv.sort()).toEqual(
      [
        ...senders().map(([stack, fn]) => `${stack.node.id}/${logicalId(stack, fn)}`),
        `Api/${logicalId(api, api.customers)}`,
      ].sort(),
    );
  });

  it('lets the GDPR function list and delete attachments only, under attachments/', () => {
    // Prepare
    const { api } = synth.stacks;
    const statements = statementsOfRole(synth.template(api), logicalId(api, roleOf(api.customers)));
    const allowing = (action: string) => statements.filter((s) => list(s.Action).includes(action));

    // Assess
    expect(allowing('s3:DeleteObject').flatMap((s) => arnsOf(s.Resource))).toEqual([
      'arn:aws:s3:::supportmax-content-123456789012-us-east-1/attachments/*',
    ]);
    expect(JSON.stringify(allowing('s3:ListBucket')[0]!.Condition)).toContain('attachments/*');
    expect(allowing('s3:PutObject').flatMap((s) => arnsOf(s.Resource))).not.toContain(
      'arn:aws:s3:::supportmax-content-123456789012-us-east-1/attachments/*',
    );
  });

  it('verifies customer tokens on $connect with the configured secret, which only that function reads', () => {
    // Prepare
    const { api } = synth.stacks;
    const connect = api.chat.connect;

    // Act
    const readers = [...grantsOf(stacks(), synth.template, 'secretsmanager:GetSecretValue')].filter(
      ([, statements]) => statements.some((s) => JSON.stringify(s.Resource).includes(TOKEN_SECRET)),
    );

    // Assess
    expect(variablesOf(api, connect).CUSTOMER_TOKEN_SECRET_ARN).toBe(TOKEN_SECRET);
    expect(readers.map(([role]) => role)).toEqual([`Api/${logicalId(api, roleOf(connect))}`]);
    expect(JSON.stringify(readers[0]![1].map((s) => s.Resource))).toContain(`:secret:${TOKEN_SECRET}-??????`);
  });

  it('alarms when the SES bounce or complaint rate reaches the level at which SES reviews the account', () => {
    // Prepare
    const template = synth.template(synth.stacks.observability);

    // Assess
    for (const [metricName, threshold] of [
      ['Reputation.BounceRate', SES_BOUNCE_RATE_ALARM],
      ['Reputation.ComplaintRate', SES_COMPLAINT_RATE_ALARM],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SES',
        MetricName: metricName,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [Match.anyValue()],
      });
    }
  });

  it('passes the AWS Solutions checks with e-mail, Salesforce and customer tokens configured', () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(synth.app);

    // Assess
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    for (const stack of stacks()) {
      expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual(
        [],
      );
    }
  });
});

describe('e-mail intake bundle', () => {
  it('stays under 1 MB with nodemailer, jsforce and mailparser in layers', () => {
    // Prepare
    const outdir = mkdtempSync(join(tmpdir(), 'supportmax-intake-'));
    // Only the function's stack is bundled: the layers (another stack) need no copying for this check.
    const app = new App({
      outdir,
      context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:bundling-stacks': ['Intake'] },
    });
    const env = { account: '123456789012', region: 'us-east-1' };
    const stack = new Stack(app, 'Intake', { env });
    const layers = new Stack(app, 'Layers', { env });
    const layer = (id: string, packages: readonly string[], exclude?: readonly string[]) =>
      new PackageLayer(layers, id, { packages, exclude, description: id });
    const dirSize = (dir: string): number =>
      readdirSync(dir).reduce((sum, entry) => {
        const path = join(dir, entry);
        return sum + (statSync(path).isDirectory() ? dirSize(path) : statSync(path).size);
      }, 0);

    try {
      // Act
      const intake = new AppFunction(stack, 'EmailIntake', {
        handler: 'queue/emailIntake',
        description: 'intake',
        packageLayers: [
          layer('Desk', DESK_PACKAGES),
          layer('Crm', CRM_PACKAGES, CRM_PACKAGES_EXCLUDE),
          layer('MailParser', MAIL_PARSER_PACKAGES),
        ],
      });
      const assembly = app.synth();
      const fn = assembly.getStackByName('Intake').template.Resources[logicalId(stack, intake)] as {
        Metadata: Record<string, string>;
      };

      // Assess
      const bundle = join(outdir, fn.Metadata['aws:asset:path']!);
      expect(readdirSync(bundle).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      expect(dirSize(bundle)).toBeGreaterThan(100 * 1024);
      expect(dirSize(bundle)).toBeLessThan(1024 * 1024);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
