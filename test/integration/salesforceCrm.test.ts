import { Connection } from 'jsforce';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SalesforcePasswordCredentials } from '#adapters/salesforceCredentials';
import {
  ABANDONED_CASE_COMMENT,
  CrmUnavailableError,
  SalesforceCrm,
  soqlString,
} from '#adapters/salesforceCrm';
import type { CustomerProfile } from '#core/crm';
import type { CaseRecord } from '#core/supportRecords';
import {
  parseSoql,
  type SalesforceStub,
  type StubRecord,
  startSalesforceStub,
} from '../support/salesforceStub';

const NORTHWIND = '001000000000001AAA';
const BELLINI = '001000000000002AAA';
const GOLD_CO = '001000000000003AAA';
const DANA = '003000000000001AAA';
const MARCO = '003000000000002AAA';

const accounts: StubRecord[] = [
  { Id: NORTHWIND, Name: 'Northwind Logistics', SupportMax_Tier__c: 'Enterprise' },
  { Id: BELLINI, Name: 'Bellini Design Studio', SupportMax_Tier__c: 'PRO' },
  { Id: GOLD_CO, Name: 'Gold Partners', SupportMax_Tier__c: 'Gold' },
];
const contacts: StubRecord[] = [
  {
    Id: DANA,
    Name: 'Dana Whitfield',
    Email: 'dana@northwind-logistics.example',
    AccountId: NORTHWIND,
    SupportMax_Customer_Id__c: 'CUST-1001',
  },
  {
    Id: MARCO,
    Name: 'Marco Bellini',
    Email: 'marco@bellini-design.example',
    AccountId: BELLINI,
    SupportMax_Customer_Id__c: 'CUST-2001',
  },
  { Id: '003000000000003AAA', Name: 'Gina Gold', Email: 'gina@gold-partners.example', AccountId: GOLD_CO },
  { Id: '003000000000004AAA', Name: "Liam O'Brien", Email: "liam.o'brien@mail.example" },
];

const stubCredentials = (stub: SalesforceStub): SalesforcePasswordCredentials => ({
  loginUrl: stub.url,
  clientId: 'stub-client-id',
  clientSecret: 'stub-client-secret',
  username: 'integration@supportmax.example',
  password: 'correct-horse',
  securityToken: 'TOKEN123',
});

const caseRecord = (overrides: Partial<CaseRecord> = {}): CaseRecord => ({
  caseId: 'case-42',
  conversationId: 'conv-42',
  status: 'open',
  priority: 'P1',
  queue: 'billing-enterprise',
  reason: 'human_requested',
  subject: 'Refund for a duplicate invoice',
  intent: 'billing_question',
  productArea: 'billing_subscriptions',
  confidence: 0.41237,
  handoff: {
    summary: 'Customer was charged twice for May.',
    intent: 'billing_question',
    productArea: 'billing_subscriptions',
    confidence: 0.41237,
    reason: 'human_requested',
    sentiment: -0.4,
    urgency: 0.7,
    faqsTried: [],
    entities: {},
  },
  createdAt: '2024-05-01T12:00:00.000Z',
  updatedAt: '2024-05-01T12:00:00.000Z',
  ...overrides,
});

const dana: CustomerProfile = {
  customerId: 'CUST-1001',
  name: 'Dana Whitfield',
  email: 'dana@northwind-logistics.example',
  tier: 'enterprise',
  crmContactId: DANA,
  crmAccountId: NORTHWIND,
};

const tokenRequests = (stub: SalesforceStub) =>
  stub.requests.filter((request) => request.path === '/services/oauth2/token');

describe('Salesforce CRM (jsforce against a local Salesforce stub)', () => {
  let stub: SalesforceStub;

  beforeEach(async () => {
    stub = await startSalesforceStub({ accounts, contacts, password: 'correct-horseTOKEN123' });
  });

  afterEach(async () => {
    await stub.close();
  });

  it('finds a contact by SupportMax customer id, with its account as company and tier', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));

    // Act
    const customer = await crm.findCustomer({ customerId: 'CUST-1001' });

    // Assess
    expect(customer).toEqual({
      customerId: 'CUST-1001',
      name: 'Dana Whitfield',
      email: 'dana@northwind-logistics.example',
      tier: 'enterprise',
      company: 'Northwind Logistics',
      crmContactId: DANA,
      crmAccountId: NORTHWIND,
    });
    const query = stub.requests.find((request) => request.soql)!;
    expect(query.path).toBe('/services/data/v62.0/query');
    expect(query.soql).toContain('FROM Contact WHERE SupportMax_Customer_Id__c = ');
  });

  it('finds contacts by e-mail and maps the account tier case-insensitively, unknown tiers to basic', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));

    // Act
    const marco = await crm.findCustomer({ email: 'Marco@Bellini-Design.example' });
    const gina = await crm.findCustomer({ email: 'gina@gold-partners.example' });
    const liam = await crm.findCustomer({ email: "liam.o'brien@mail.example" });

    // Assess
    expect(marco).toMatchObject({ customerId: 'CUST-2001', tier: 'pro', company: 'Bellini Design Studio' });
    // No SupportMax id on the Contact yet: the Contact id stands in.
    expect(gina).toMatchObject({ customerId: '003000000000003AAA', tier: 'basic', company: 'Gold Partners' });
    expect(liam).toEqual({
      customerId: '003000000000004AAA',
      name: "Liam O'Brien",
      email: "liam.o'brien@mail.example",
      tier: 'basic',
      crmContactId: '003000000000004AAA',
    });
  });

  it('prefers the contact with the signed customer id over another one with the e-mail address', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));

    // Act
    const customer = await crm.findCustomer({
      customerId: 'CUST-2001',
      email: 'dana@northwind-logistics.example',
    });

    // Assess
    expect(customer?.crmContactId).toBe(MARCO);
  });

  it('returns undefined for an unknown customer and asks Salesforce nothing for an empty reference', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));

    // Act
    const unknown = await crm.findCustomer({ customerId: 'CUST-9999', email: 'nobody@nowhere.example' });
    const queriesBefore = stub.requests.length;
    const empty = await crm.findCustomer({ customerId: '  ' });

    // Assess
    expect(unknown).toBeUndefined();
    expect(empty).toBeUndefined();
    expect(stub.requests.length).toBe(queriesBefore);
  });

  it('escapes a SOQL injection attempt into one harmless string literal', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    const hostile = "x' OR Email = 'dana@northwind-logistics.example' OR Name = '\\' OR Id = '\n";

    // Act
    const customer = await crm.findCustomer({ customerId: hostile });

    // Assess
    expect(customer).toBeUndefined();
    const soql = stub.requests.find((request) => request.soql)!.soql!;
    expect(parseSoql(soql).where).toEqual({
      kind: 'eq',
      field: 'SupportMax_Customer_Id__c',
      value: hostile.trim(),
    });
    expect(soqlString('a\'b\\c"d\ne')).toBe(`'a\\'b\\\\c\\"d\\ne'`);
  });

  it('creates the case once and updates the same case on the next upsert (idempotent by caseId)', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));

    // Act
    const first = await crm.upsertCase({ record: caseRecord(), customer: dana, description: 'Handoff v1' });
    const second = await crm.upsertCase({
      record: caseRecord({ status: 'assigned', priority: 'P3', assignee: 'alex' }),
      customer: dana,
      description: 'Handoff v2',
    });

    // Assess
    expect(second.crmCaseId).toBe(first.crmCaseId);
    expect(stub.cases).toHaveLength(1);
    expect(stub.cases[0]).toMatchObject({
      Id: first.crmCaseId,
      Subject: 'Refund for a duplicate invoice',
      Description: 'Handoff v2',
      Priority: 'Medium',
      Status: 'Working',
      Origin: 'Chat',
      ContactId: DANA,
      AccountId: NORTHWIND,
      SupportMax_Case_Id__c: 'case-42',
      SupportMax_Intent__c: 'billing_question',
      SupportMax_Product_Area__c: 'billing_subscriptions',
      SupportMax_Confidence__c: 0.412,
      SupportMax_Queue__c: 'billing-enterprise',
      SupportMax_Escalation_Reason__c: 'human_requested',
    });
    const writes = stub.requests.filter(
      (request) => request.method !== 'GET' && request.path.includes('/Case'),
    );
    expect(writes.map((request) => [request.method, request.status])).toEqual([
      ['POST', 201],
      ['PATCH', 204],
    ]);
    expect((writes[0]!.body as Record<string, unknown>).Priority).toBe('High');
    expect((writes[0]!.body as Record<string, unknown>).Status).toBe('New');
  });

  it('leaves ContactId and AccountId out when the customer has no Salesforce ids', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    const builtInProfile: CustomerProfile = { ...dana, crmContactId: 'CUST-1001', crmAccountId: undefined };

    // Act
    await crm.upsertCase({ record: caseRecord(), customer: builtInProfile, description: 'Handoff' });

    // Assess
    expect(stub.cases[0]).not.toHaveProperty('ContactId');
    expect(stub.cases[0]).not.toHaveProperty('AccountId');
  });

  it("adds an agent's reply as a published case comment", async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    const { crmCaseId } = await crm.upsertCase({ record: caseRecord(), description: 'Handoff' });

    // Act
    await crm.addComment(crmCaseId, { author: 'Alex (agent)', text: 'I have refunded the second charge.' });

    // Assess
    expect(stub.comments).toEqual([
      expect.objectContaining({
        ParentId: crmCaseId,
        CommentBody: 'Alex (agent): I have refunded the second charge.',
        IsPublished: true,
      }),
    ]);
  });

  it('closes a resolved case, and notes on an abandoned one that the customer left', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    const resolved = await crm.upsertCase({ record: caseRecord({ caseId: 'case-1' }), description: 'A' });
    const abandoned = await crm.upsertCase({ record: caseRecord({ caseId: 'case-2' }), description: 'B' });

    // Act
    await crm.closeCase(resolved.crmCaseId, { status: 'resolved' });
    await crm.closeCase(abandoned.crmCaseId, { status: 'abandoned' });

    // Assess
    expect(stub.cases.map((record) => [record.Id, record.Status, record.IsClosed])).toEqual([
      [resolved.crmCaseId, 'Closed', true],
      [abandoned.crmCaseId, 'Closed', true],
    ]);
    expect(stub.comments).toEqual([
      expect.objectContaining({ ParentId: abandoned.crmCaseId, CommentBody: ABANDONED_CASE_COMMENT }),
    ]);
  });

  it('logs in again once when the session has expired, and the call succeeds', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    stub.expireTokens();

    // Act
    const customer = await crm.findCustomer({ customerId: 'CUST-1001' });

    // Assess
    expect(customer?.tier).toBe('enterprise');
    expect(tokenRequests(stub)).toHaveLength(2);
    expect(stub.requests.filter((request) => request.soql).map((request) => request.status)).toEqual([
      401, 200,
    ]);
  });

  it('shares one re-login between concurrent calls that find the session expired', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    stub.expireTokens();

    // Act
    const customers = await Promise.all([
      crm.findCustomer({ customerId: 'CUST-1001' }),
      crm.findCustomer({ customerId: 'CUST-2001' }),
    ]);

    // Assess
    expect(customers.map((customer) => customer?.tier)).toEqual(['enterprise', 'pro']);
    expect(tokenRequests(stub)).toHaveLength(2);
  });

  it('gives up after one re-login when Salesforce keeps refusing the session', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    stub.rejectSessions(true);

    // Act
    const failure = await crm.findCustomer({ customerId: 'CUST-1001' }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(CrmUnavailableError);
    expect((failure as CrmUnavailableError).code).toBe('INVALID_SESSION_ID');
    expect(tokenRequests(stub)).toHaveLength(2);
  });

  it('uses a ready session as is and reports its expiry without trying to log in', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect({ instanceUrl: stub.url, accessToken: stub.issueToken() });
    const found = await crm.findCustomer({ customerId: 'CUST-2001' });
    stub.expireTokens();

    // Act
    const failure = await crm.findCustomer({ customerId: 'CUST-2001' }).catch((error: unknown) => error);

    // Assess
    expect(found?.name).toBe('Marco Bellini');
    expect(failure).toBeInstanceOf(CrmUnavailableError);
    expect((failure as Error).message).toBe(
      'Salesforce findCustomer failed (INVALID_SESSION_ID): Session expired or invalid',
    );
    expect(tokenRequests(stub)).toHaveLength(0);
  });

  it('reports a refused login with its OAuth error code and without the credentials', async () => {
    // Prepare
    const credentials = { ...stubCredentials(stub), password: 'wrong-horse' };

    // Act
    const failure = await SalesforceCrm.connect(credentials).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(CrmUnavailableError);
    expect((failure as Error).message).toBe(
      'Salesforce login failed (invalid_grant): authentication failure',
    );
    for (const secret of ['wrong-horse', 'TOKEN123', 'stub-client-secret']) {
      expect((failure as Error).message).not.toContain(secret);
    }
  });

  it('reports an unreachable Salesforce as CrmUnavailableError naming the operation', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    await stub.close();

    // Act
    const lookup = await crm.findCustomer({ email: 'dana@northwind-logistics.example' }).catch((e) => e);
    const comment = await crm.addComment('500000000000001AAA', { author: 'a', text: 'b' }).catch((e) => e);

    // Assess
    expect(lookup).toBeInstanceOf(CrmUnavailableError);
    expect((lookup as Error).message).toBe(
      'Salesforce findCustomer failed (ECONNREFUSED): Salesforce is unreachable',
    );
    expect((comment as Error).message).toBe(
      'Salesforce addComment failed (ECONNREFUSED): Salesforce is unreachable',
    );
    expect((lookup as Error).message).not.toContain('dana@');
  });

  it('retries a lookup through a passing outage but never repeats a write', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));
    const { crmCaseId } = await crm.upsertCase({ record: caseRecord(), description: 'Handoff' });

    // Act
    stub.failNext(1);
    const customer = await crm.findCustomer({ customerId: 'CUST-1001' });
    stub.failNext(1);
    const failure = await crm
      .addComment(crmCaseId, { author: 'Alex', text: 'Hello' })
      .catch((error: unknown) => error);

    // Assess
    expect(customer?.name).toBe('Dana Whitfield');
    const lookups = stub.requests.filter((request) => request.soql?.includes('FROM Contact'));
    expect(lookups.map((request) => request.status)).toEqual([503, 200]);
    expect((failure as Error).message).toBe(
      'Salesforce addComment failed (SERVER_UNAVAILABLE): Server unavailable',
    );
    expect(stub.requests.filter((request) => request.path.endsWith('/CaseComment'))).toHaveLength(1);
    expect(stub.comments).toHaveLength(0);
  });

  it('gives up on a Salesforce that does not answer within the request timeout', async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub), { requestTimeoutMs: 200 });
    stub.stall(true);

    // Act
    const failure = await crm
      .addComment('500000000000001AAA', { author: 'Alex', text: 'Hello' })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(CrmUnavailableError);
    expect((failure as Error).message).toBe(
      'Salesforce addComment failed (TIMEOUT): Salesforce did not answer in time',
    );
  });

  it("surfaces Salesforce's refusal of a case (error code and message)", async () => {
    // Prepare
    const crm = await SalesforceCrm.connect(stubCredentials(stub));

    // Act
    const failure = await crm
      .upsertCase({ record: caseRecord({ subject: '' }), description: 'Handoff' })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(CrmUnavailableError);
    expect((failure as Error).message).toBe(
      'Salesforce upsertCase failed (REQUIRED_FIELD_MISSING): Required fields are missing: [Subject]',
    );
    expect(stub.cases).toHaveLength(0);
  });

  it('writes to the custom field names an org configured', async () => {
    // Prepare
    await stub.close();
    stub = await startSalesforceStub({
      accounts,
      contacts,
      password: 'correct-horseTOKEN123',
      extraFields: { Case: ['Routing_Queue__c'] },
    });
    const crm = new SalesforceCrm({
      connection: new Connection({ instanceUrl: stub.url, accessToken: stub.issueToken() }),
      apiVersion: '61.0',
      fields: { caseQueue: 'Routing_Queue__c' },
    });

    // Act
    await crm.upsertCase({ record: caseRecord(), description: 'Handoff' });

    // Assess
    expect(stub.cases[0]).toMatchObject({ Routing_Queue__c: 'billing-enterprise' });
    expect(stub.cases[0]).not.toHaveProperty('SupportMax_Queue__c');
    expect(stub.requests.every((request) => request.path.startsWith('/services/data/v61.0/'))).toBe(true);
  });

  it('refuses field names that are not plain API names (they are spliced into SOQL)', () => {
    // Prepare
    const connection = new Connection({ instanceUrl: stub.url, accessToken: 'unused' });

    // Act
    const build = () => new SalesforceCrm({ connection, fields: { accountTier: 'Tier__c FROM User --' } });

    // Assess
    expect(build).toThrow('invalid field API names for accountTier');
  });

  it('the stub refuses unknown sObject types like Salesforce (404 NOT_FOUND)', async () => {
    // Prepare
    const connection = new Connection({
      instanceUrl: stub.url,
      accessToken: stub.issueToken(),
      version: '62.0',
    });

    // Act
    const failure = await connection
      .sobject('Widget__c')
      .create({ Name: 'x' })
      .catch((error: unknown) => error);

    // Assess
    expect((failure as { errorCode?: string }).errorCode).toBe('NOT_FOUND');
  });
});
