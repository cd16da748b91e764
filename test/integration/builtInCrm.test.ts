import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuiltInCrm, CorruptCustomerRecordError } from '#adapters/builtInCrm';
import { TABLES, type TableName } from '#adapters/tableDefinitions';
import { CUSTOMER_TIERS, type CustomerProfile } from '#core/crm';
import type { CaseRecord } from '#core/supportRecords';
import { type DynamoServer, ensureTables, localAwsClientConfig, startDynamo } from '#local/dynamoServer';

const SEED_FILE = new URL('../../data/crm/customers.json', import.meta.url);

const tableNames = Object.fromEntries(Object.keys(TABLES).map((name) => [name, `test-${name}`])) as Record<
  TableName,
  string
>;

const readSeed = async () => JSON.parse(await readFile(SEED_FILE, 'utf8')) as CustomerProfile[];

describe('built-in CRM over DynamoDB (dynalite)', () => {
  let dataDir: string;
  let server: DynamoServer;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  let nextTable = 0;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'supportmax-crm-'));
    server = await startDynamo({ dataDir });
    client = new DynamoDBClient(localAwsClientConfig(server.endpoint));
    documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    await ensureTables(client, tableNames);
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Each test gets its own customers table. */
  async function freshCrm(): Promise<{ crm: BuiltInCrm; tableName: string }> {
    const tableName = `test-customers-${nextTable++}`;
    await ensureTables(client, { ...tableNames, customers: tableName });
    return { crm: new BuiltInCrm(documents, tableName), tableName };
  }

  const countItems = async (tableName: string) =>
    (await documents.send(new ScanCommand({ TableName: tableName, Select: 'COUNT' }))).Count;

  it('ships seed customers of every tier, including the ids other tests rely on', async () => {
    // Prepare
    const seed = await readSeed();

    // Act
    const byId = new Map(seed.map((customer) => [customer.customerId, customer.tier]));
    const perTier = CUSTOMER_TIERS.map((tier) => seed.filter((customer) => customer.tier === tier).length);

    // Assess
    expect(byId.get('CUST-1001')).toBe('enterprise');
    expect(byId.get('CUST-2001')).toBe('pro');
    expect(byId.get('CUST-3001')).toBe('basic');
    expect(Math.min(...perTier)).toBeGreaterThanOrEqual(4);
    expect(seed.every((customer) => customer.email.endsWith('.example'))).toBe(true);
  });

  it('seeds every customer once; seeding again keeps them all', async () => {
    // Prepare
    const { crm, tableName } = await freshCrm();
    const seed = await readSeed();

    // Act
    const first = await crm.seedCustomers(seed);
    const second = await crm.seedCustomers(seed);

    // Assess
    expect(first).toEqual({ inserted: seed.length, kept: 0 });
    expect(second).toEqual({ inserted: 0, kept: seed.length });
    expect(await countItems(tableName)).toBe(seed.length);
  });

  it("keeps an operator's edit when the seed runs again at the next start", async () => {
    // Prepare
    const { crm } = await freshCrm();
    const seed = await readSeed();
    await crm.seedCustomers(seed);
    const dana = seed.find((customer) => customer.customerId === 'CUST-1001')!;
    await crm.putCustomer({ ...dana, tier: 'pro', company: 'Northwind Freight' });

    // Act
    const rerun = await crm.seedCustomers(seed);
    const stored = await crm.findCustomer({ customerId: 'CUST-1001' });

    // Assess
    expect(rerun.inserted).toBe(0);
    expect(stored).toMatchObject({ tier: 'pro', company: 'Northwind Freight' });
  });

  it('finds a customer by id, and by e-mail whatever its case', async () => {
    // Prepare
    const { crm } = await freshCrm();
    await crm.seedCustomers(await readSeed());

    // Act
    const byId = await crm.findCustomer({ customerId: 'CUST-2001' });
    const byEmail = await crm.findCustomer({ email: '  Dana@Northwind-Logistics.EXAMPLE ' });
    const unknownIdKnownEmail = await crm.findCustomer({
      customerId: 'CUST-9999',
      email: 'liam.murphy@mail.example',
    });

    // Assess
    expect(byId).toMatchObject({ name: 'Marco Bellini', tier: 'pro' });
    expect(byEmail).toEqual({
      customerId: 'CUST-1001',
      name: 'Dana Whitfield',
      email: 'dana@northwind-logistics.example',
      tier: 'enterprise',
      company: 'Northwind Logistics',
      consentToStoreTranscripts: true,
    });
    expect(unknownIdKnownEmail?.customerId).toBe('CUST-3001');
  });

  it('returns undefined for an unknown customer or an empty reference', async () => {
    // Prepare
    const { crm } = await freshCrm();
    await crm.seedCustomers(await readSeed());

    // Act
    const results = await Promise.all([
      crm.findCustomer({ customerId: 'CUST-9999' }),
      crm.findCustomer({ email: 'nobody@nowhere.example' }),
      crm.findCustomer({}),
    ]);

    // Assess
    expect(results).toEqual([undefined, undefined, undefined]);
  });

  it('stores e-mail addresses lower-cased so the byEmail index finds them', async () => {
    // Prepare
    const { crm } = await freshCrm();

    // Act
    const stored = await crm.putCustomer({
      customerId: 'CUST-5001',
      name: 'Ana Souza',
      email: 'Ana.Souza@Mixed-Case.example',
      tier: 'basic',
    });
    const found = await crm.findCustomer({ email: 'ana.souza@mixed-case.example' });

    // Assess
    expect(stored.email).toBe('ana.souza@mixed-case.example');
    expect(found?.customerId).toBe('CUST-5001');
  });

  it('refuses an invalid seed before writing any customer, naming the culprit', async () => {
    // Prepare
    const { crm, tableName } = await freshCrm();
    const seed = await readSeed();
    const broken = [
      ...seed,
      { customerId: 'CUST-4001', name: 'Typo Tier', email: 'typo@tier.example', tier: 'platinum' },
    ] as CustomerProfile[];

    // Act
    const failure = crm.seedCustomers(broken);

    // Assess
    await expect(failure).rejects.toThrow('Invalid customer CUST-4001: tier:');
    expect(await countItems(tableName)).toBe(0);
  });

  it('refuses a seed that lists a customer twice', async () => {
    // Prepare
    const { crm } = await freshCrm();
    const seed = await readSeed();

    // Act
    const failure = crm.seedCustomers([...seed, seed[0]!]);

    // Assess
    await expect(failure).rejects.toThrow('Customer seed lists CUST-1001 more than once');
  });

  it('raises a clear error for a corrupt record found by id, and skips one that shares an e-mail', async () => {
    // Prepare
    const { crm, tableName } = await freshCrm();
    await crm.putCustomer({
      customerId: 'CUST-6001',
      name: 'Valid',
      email: 'shared@twins.example',
      tier: 'pro',
    });
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { customerId: 'CUST-6002', name: 'Corrupt', email: 'shared@twins.example', tier: 'platinum' },
      }),
    );

    // Act
    const byId = await crm.findCustomer({ customerId: 'CUST-6002' }).catch((error: unknown) => error);
    const byEmail = await crm.findCustomer({ email: 'shared@twins.example' });

    // Assess
    expect(byId).toBeInstanceOf(CorruptCustomerRecordError);
    expect((byId as Error).message).toMatch(
      /^Customer record CUST-6002 in the customers table is invalid: tier:/,
    );
    expect(byEmail?.customerId).toBe('CUST-6001');
  });

  it('uses the support desk case as the CRM case: upsert returns its id, comments and closes write nothing', async () => {
    // Prepare
    const { crm, tableName } = await freshCrm();
    const record = { caseId: 'case-77' } as CaseRecord;

    // Act
    const upserted = await crm.upsertCase({ record, description: 'Handoff' });
    await crm.addComment(upserted.crmCaseId, { author: 'Alex', text: 'Hello' });
    await crm.closeCase(upserted.crmCaseId, { status: 'resolved' });

    // Assess
    expect(crm.name).toBe('builtin');
    expect(upserted).toEqual({ crmCaseId: 'case-77' });
    expect(await countItems(tableName)).toBe(0);
  });
});
