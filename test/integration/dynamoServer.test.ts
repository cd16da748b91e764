import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { TABLES, type TableName } from '#adapters/tableDefinitions';
import { type DynamoServer, ensureTables, localAwsClientConfig, startDynamo } from '#local/dynamoServer';

const tableNames = Object.fromEntries(Object.keys(TABLES).map((name) => [name, `test-${name}`])) as Record<
  TableName,
  string
>;

describe('startDynamo', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function tempDataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'supportmax-dynamo-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async function start(dataDir: string): Promise<{ server: DynamoServer; client: DynamoDBClient }> {
    const server = await startDynamo({ dataDir });
    const client = new DynamoDBClient(localAwsClientConfig(server.endpoint));
    cleanups.push(async () => {
      client.destroy();
      await server.close();
    });
    return { server, client };
  }

  it('creates every table with its key schema and ALL-projected GSIs', async () => {
    // Prepare
    const { client } = await start(await tempDataDir());

    // Act
    await ensureTables(client, tableNames);
    await ensureTables(client, tableNames);

    // Assess
    const cases = (await client.send(new DescribeTableCommand({ TableName: tableNames.cases }))).Table!;
    expect(cases.TableStatus).toBe('ACTIVE');
    expect(cases.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(cases.KeySchema).toEqual([{ AttributeName: 'caseId', KeyType: 'HASH' }]);
    const indexes = cases.GlobalSecondaryIndexes ?? [];
    expect(indexes.map((i) => i.IndexName).sort()).toEqual(['byConversation', 'byStatus']);
    expect(indexes.every((i) => i.Projection?.ProjectionType === 'ALL')).toBe(true);
    const byStatus = indexes.find((i) => i.IndexName === 'byStatus')!;
    expect(byStatus.KeySchema).toEqual([
      { AttributeName: 'status', KeyType: 'HASH' },
      { AttributeName: 'createdAt', KeyType: 'RANGE' },
    ]);
    const messages = (await client.send(new DescribeTableCommand({ TableName: tableNames.messages }))).Table!;
    expect(messages.KeySchema).toEqual([
      { AttributeName: 'conversationId', KeyType: 'HASH' },
      { AttributeName: 'messageId', KeyType: 'RANGE' },
    ]);
  });

  it('keeps data across a close and a restart on the same data directory', async () => {
    // Prepare
    const dataDir = await tempDataDir();
    const first = await startDynamo({ dataDir });
    const firstClient = new DynamoDBClient(localAwsClientConfig(first.endpoint));
    await ensureTables(firstClient, tableNames);
    await DynamoDBDocumentClient.from(firstClient).send(
      new PutCommand({
        TableName: tableNames.customers,
        Item: { customerId: 'c-1', email: 'a@example.com' },
      }),
    );
    firstClient.destroy();
    await first.close();

    // Act
    const { client } = await start(dataDir);
    await ensureTables(client, tableNames);
    const read = await DynamoDBDocumentClient.from(client).send(
      new GetCommand({ TableName: tableNames.customers, Key: { customerId: 'c-1' } }),
    );

    // Assess
    expect(read.Item).toEqual({ customerId: 'c-1', email: 'a@example.com' });
  });

  it('refuses a second server on a data directory that a live process holds', async () => {
    // Prepare
    const dataDir = await tempDataDir();
    await start(dataDir);

    // Act
    const second = startDynamo({ dataDir });

    // Assess
    await expect(second).rejects.toThrow(`in use by process ${process.pid}`);
    expect(await readFile(join(dataDir, 'dynamo.lock'), 'utf8')).toBe(String(process.pid));
  });

  it('takes over a stale lock left by a dead process', async () => {
    // Prepare
    const dataDir = await tempDataDir();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    await writeFile(join(dataDir, 'dynamo.lock'), String(deadPid));

    // Act
    const { server } = await start(dataDir);

    // Assess
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await readFile(join(dataDir, 'dynamo.lock'), 'utf8')).toBe(String(process.pid));
  });

  it('rejects a duplicate put guarded by attribute_not_exists', async () => {
    // Prepare
    const { client } = await start(await tempDataDir());
    await ensureTables(client, tableNames);
    const documents = DynamoDBDocumentClient.from(client);
    const put = () =>
      documents.send(
        new PutCommand({
          TableName: tableNames.cases,
          Item: { caseId: 'case-1', status: 'open', createdAt: '2024-01-01T00:00:00Z' },
          ConditionExpression: 'attribute_not_exists(caseId)',
        }),
      );
    await put();

    // Act
    const duplicate = put();

    // Assess
    await expect(duplicate).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  });
});
