import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KB_INDEX_EMBEDDINGS_KEY, KB_INDEX_FAQS_KEY } from '#core/knowledgeBase';
import { type SynthesizedApp, synthSupportMax } from './synthApp';
import { logicalId, statementsOfRole, withAction } from './templateQueries';

type Resource = { Properties: Record<string, unknown> };

let synth: SynthesizedApp;

const bucketName = () => `supportmax-content-${synth.config.account}-${synth.config.region}`;
const indexObjects = () =>
  [KB_INDEX_FAQS_KEY, KB_INDEX_EMBEDDINGS_KEY].map((key) => `${bucketName()}/${key}`);

beforeAll(() => {
  synth = synthSupportMax({ config: { searchBackend: 'embedded' } });
}, 120_000);

afterAll(() => synth?.dispose());

describe('embedded KB index', () => {
  it('lets every engine function read the index objects of the content bucket, and nothing else there', () => {
    // Prepare
    const { workflow, api } = synth.stacks;
    const health = api.node.findChild('Health') as IConstruct & { role: IConstruct };
    const engineFunctions = [
      [workflow, workflow.turns.classify],
      [workflow, workflow.turns.retrieve],
      [workflow, workflow.turns.answer],
      [api, health],
    ] as const;

    for (const [stack, fn] of engineFunctions) {
      // Act
      const template = synth.template(stack);
      const env = (template.toJSON().Resources[logicalId(stack, fn)] as Resource).Properties.Environment as {
        Variables: Record<string, unknown>;
      };
      const statements = statementsOfRole(template, logicalId(stack, (fn as { role: IConstruct }).role));
      const reads = withAction(statements, 's3:GetObject');

      // Assess
      expect(env.Variables.KNOWLEDGE_BASE_BUCKET).toBe(bucketName());
      expect(reads).toHaveLength(1);
      const resources = JSON.stringify(reads[0]!.Resource);
      for (const object of indexObjects()) expect(resources).toContain(`:s3:::${object}`);
      expect(JSON.stringify(statements)).not.toContain(`${bucketName()}/kb/`);
      const viaS3 = { StringEquals: { 'kms:ViaService': `s3.${synth.config.region}.amazonaws.com` } };
      expect(
        withAction(statements, 'kms:Decrypt').filter(
          (d) => JSON.stringify(d.Condition) === JSON.stringify(viaS3),
        ),
      ).toHaveLength(1);
    }
  });

  it('lets the indexer list kb/, write the index objects, and runs it in embedded mode with room to embed', () => {
    // Prepare
    const { search } = synth.stacks;
    const template = synth.template(search);
    const fn = search.indexer.function;

    // Act
    const statements = statementsOfRole(template, logicalId(search, fn.role!));
    const props = (template.toJSON().Resources[logicalId(search, fn)] as Resource).Properties;

    // Assess
    const writes = withAction(statements, 's3:PutObject');
    expect(writes).toHaveLength(1);
    const resources = JSON.stringify(writes[0]!.Resource);
    for (const object of indexObjects()) expect(resources).toContain(`:s3:::${object}`);
    expect(resources).not.toContain('/kb/');
    const lists = withAction(statements, 's3:ListBucket');
    expect(lists).toHaveLength(1);
    expect(lists[0]!.Condition).toEqual({ StringEquals: { 's3:prefix': 'kb/' } });
    expect(withAction(statements, 'kms:GenerateDataKey')).toHaveLength(1);
    expect(props.Environment).toMatchObject({ Variables: { SEARCH_BACKEND: 'embedded' } });
    expect(props).toMatchObject({ MemorySize: 1536, Timeout: 600 });
  });

  it('gives engine functions no index bucket when retrieval runs on OpenSearch', () => {
    // Prepare
    const other = synthSupportMax({ config: { searchBackend: 'opensearch' } });

    // Act
    const text = JSON.stringify(other.template(other.stacks.workflow).toJSON());
    other.dispose();

    // Assess
    expect(text).not.toContain('KNOWLEDGE_BASE_BUCKET');
  }, 120_000);
});
