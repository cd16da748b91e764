/**
 * The KB search contract on AWS, with retrieval served from OpenSearch (searchBackend 'opensearch'): the KB
 * indexer's trigger and permissions, and the variables and grants of the functions that query the collection.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TITAN_EMBED_TEXT_V2 } from '#adapters/titanEmbedder';
import { type SynthesizedApp, synthSupportMax } from './synthApp';
import { list, logicalId, statementsOfRole } from './templateQueries';

type Resource = { Properties: Record<string, unknown> };

let synth: SynthesizedApp;
let search: Template;
let workflow: Template;

/** The data-access policy naming the role (its policy document is a Fn::Join around the role ARN), as text. */
const dataAccessPolicyOf = (template: Template, roleId: string) => {
  const policies = Object.values(template.findResources('AWS::OpenSearchServerless::AccessPolicy'))
    .map((policy) => JSON.stringify(policy))
    .filter((text) => text.includes(`"${roleId}"`) && text.includes('"Type":"data"'));
  expect(policies).toHaveLength(1);
  return policies[0]!;
};
const envOf = (template: Template, functionId: string) =>
  (template.toJSON().Resources[functionId] as Resource).Properties.Environment as {
    Variables: Record<string, unknown>;
  };

beforeAll(() => {
  synth = synthSupportMax({ config: { searchBackend: 'opensearch' } });
  search = synth.template(synth.stacks.search);
  workflow = synth.template(synth.stacks.workflow);
}, 120_000);

afterAll(() => synth?.dispose());

/** The content bucket's physical name, as lib/supportMax.ts derives it. */
const contentBucketName = () => `supportmax-content-${synth.config.account}-${synth.config.region}`;

describe('KB indexer', () => {
  it('runs on every object created under kb/ with a .jsonl suffix in the content bucket', () => {
    // Prepare
    const indexer = logicalId(synth.stacks.search, synth.stacks.search.indexer.function);

    // Act
    const notifications = Object.values(
      search.findResources('Custom::S3BucketNotifications') as Record<string, Resource>,
    );
    const configurations = notifications.flatMap(
      (n) =>
        (
          n.Properties.NotificationConfiguration as {
            LambdaFunctionConfigurations: Record<string, unknown>[];
          }
        ).LambdaFunctionConfigurations,
    );

    // Assess
    expect(notifications.map((n) => n.Properties.BucketName)).toEqual([contentBucketName()]);
    expect(configurations).toHaveLength(1);
    expect(configurations[0]).toEqual({
      Events: ['s3:ObjectCreated:*'],
      Filter: {
        Key: {
          FilterRules: expect.arrayContaining([
            { Name: 'prefix', Value: 'kb/' },
            { Name: 'suffix', Value: '.jsonl' },
          ]),
        },
      },
      LambdaFunctionArn: { 'Fn::GetAtt': [indexer, 'Arn'] },
    });
    search.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [indexer, 'Arn'] },
      Principal: 's3.amazonaws.com',
      SourceAccount: synth.config.account,
    });
  });

  it('may invoke the Titan v2 embedding model and no other Bedrock model', () => {
    // Prepare
    const role = logicalId(synth.stacks.search, synth.stacks.search.indexer.function.role!);

    // Act
    const bedrock = statementsOfRole(search, role).filter((s) =>
      list(s.Action).some((a) => a.startsWith('bedrock:')),
    );

    // Assess
    expect(bedrock).toHaveLength(1);
    expect(bedrock[0]!.Action).toBe('bedrock:InvokeModel');
    expect(JSON.stringify(bedrock[0]!.Resource)).toMatch(
      new RegExp(`":bedrock:${synth.config.region}::foundation-model/${TITAN_EMBED_TEXT_V2}"`),
    );
  });

  it('reads only KB sources, decrypts only through S3 and writes only its collection', () => {
    // Prepare
    const role = logicalId(synth.stacks.search, synth.stacks.search.indexer.function.role!);

    // Act
    const statements = statementsOfRole(search, role);
    const text = JSON.stringify(statements);

    // Assess
    expect(text).toContain(`:s3:::${contentBucketName()}/kb/*`);
    expect(statements.find((s) => list(s.Action).includes('kms:Decrypt'))?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': `s3.${synth.config.region}.amazonaws.com` },
    });
    expect(statements.find((s) => s.Action === 'aoss:APIAccessAll')?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^KnowledgeCollection/), 'Arn'],
    });
    expect(dataAccessPolicyOf(search, role)).toContain('aoss:WriteDocument');
  });

  it('is told the collection endpoint, index and embedding model', () => {
    // Act
    const env = envOf(search, logicalId(synth.stacks.search, synth.stacks.search.indexer.function));

    // Assess
    expect(env.Variables).toMatchObject({
      OPENSEARCH_ENDPOINT: {
        'Fn::GetAtt': [expect.stringMatching(/^KnowledgeCollection/), 'CollectionEndpoint'],
      },
      OPENSEARCH_INDEX: 'faqs',
      TITAN_MODEL_ID: TITAN_EMBED_TEXT_V2,
    });
  });
});

describe('retrieval on OpenSearch', () => {
  it('gives the engine functions the search backend variables of the runtime contract', () => {
    // Prepare
    const { turns } = synth.stacks.workflow;

    // Act
    const envs = [turns.classify, turns.retrieve, turns.answer].map(
      (fn) => envOf(workflow, logicalId(synth.stacks.workflow, fn)).Variables,
    );

    // Assess
    for (const env of envs) {
      expect(env).toMatchObject({
        SEARCH_BACKEND: 'opensearch',
        OPENSEARCH_ENDPOINT: {
          'Fn::ImportValue': expect.stringMatching(/KnowledgeCollection.*CollectionEndpoint/),
        },
        OPENSEARCH_INDEX: 'faqs',
        TITAN_MODEL_ID: TITAN_EMBED_TEXT_V2,
      });
      expect(env).not.toHaveProperty('KNOWLEDGE_COLLECTION_ENDPOINT');
    }
  });

  it('lets the retrieve stage read the collection and embed queries with Titan, and no other stage', () => {
    // Prepare
    const { turns } = synth.stacks.workflow;
    const roleOf = (fn: typeof turns.retrieve) => logicalId(synth.stacks.workflow, fn.role!);

    // Act
    const retrieve = JSON.stringify(statementsOfRole(workflow, roleOf(turns.retrieve)));
    const others = JSON.stringify(
      [turns.classify, turns.escalate].map((fn) => statementsOfRole(workflow, roleOf(fn))),
    );

    // Assess
    expect(retrieve).toContain('aoss:APIAccessAll');
    expect(retrieve).toContain(`foundation-model/${TITAN_EMBED_TEXT_V2}`);
    expect(others).not.toContain('aoss:');
    expect(others).not.toContain('bedrock:');
    expect(dataAccessPolicyOf(workflow, roleOf(turns.retrieve))).toContain(
      '\\"Permissions\\":[\\"aoss:DescribeIndex\\",\\"aoss:ReadDocument\\"]',
    );
  });

  it('passes the AWS Solutions checks with no unacknowledged finding', () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(synth.app);

    // Assess
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
