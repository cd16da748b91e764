/**
 * The local face with CRM_BACKEND=salesforce against the local Salesforce stub: the escalation workflow finds
 * the signed-in customer's Contact (tier on the Account), creates the Case with the handoff packet, the
 * agent's reply becomes a CaseComment and resolving closes the Case (CRM sync consumer).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCustomerToken } from '#core/customerToken';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import {
  loginOperator,
  OPERATOR_TEST_ENV,
  type OperatorLogin,
  TEST_ADMIN_PASSWORD,
  TEST_CUSTOMER_TOKEN_SECRET,
} from '../support/operatorLogin';
import { type SalesforceStub, startSalesforceStub } from '../support/salesforceStub';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

// biome-ignore lint/suspicious/noExplicitAny: bodies are asserted field by field
type Json = Record<string, any>;

const NORTHWIND = '001000000000001AAA';
const DANA = '003000000000001AAA';

describe('Salesforce as the CRM of the local face', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-sfdc-'));
  let stub: SalesforceStub;
  let face: LocalFaceProcess;
  let operator: OperatorLogin;
  let customer: TestWebSocket;
  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${face.url}${path}`, { ...init, headers: operator.headers() });
    return { status: response.status, body: (await response.json()) as Json };
  };
  async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 60; i++) {
      const value = await read();
      if (done(value)) return value;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error('condition not reached within 15 s');
  }

  beforeAll(async () => {
    stub = await startSalesforceStub({
      accounts: [{ Id: NORTHWIND, Name: 'Northwind Logistics', SupportMax_Tier__c: 'Enterprise' }],
      contacts: [
        {
          Id: DANA,
          Name: 'Dana Whitfield',
          Email: 'dana@northwind-logistics.example',
          AccountId: NORTHWIND,
          SupportMax_Customer_Id__c: 'CUST-1001',
        },
      ],
    });
    face = await startLocalFaceProcess(dataDir, {
      ...OPERATOR_TEST_ENV,
      CRM_BACKEND: 'salesforce',
      SALESFORCE_LOGIN_URL: stub.url,
      SALESFORCE_CLIENT_ID: 'stub-client-id',
      SALESFORCE_CLIENT_SECRET: 'stub-client-secret',
      SALESFORCE_USERNAME: 'integration@supportmax.example',
      SALESFORCE_PASSWORD: 'stub-password',
    });
    operator = await loginOperator(face.url, 'admin', TEST_ADMIN_PASSWORD);
    const token = signCustomerToken(
      { sub: 'CUST-1001', exp: Math.floor(Date.now() / 1000) + 3600 },
      TEST_CUSTOMER_TOKEN_SECRET,
    );
    customer = await connectWebSocket(`${face.wsUrl}?token=${token}`);
  }, 90_000);
  afterAll(async () => {
    customer?.socket.terminate();
    await face?.stop();
    await stub?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('mirrors the case, the agent reply and the resolution into Salesforce', async () => {
    // Act 1: an escalation
    customer.socket.send(
      JSON.stringify({
        action: 'sendMessage',
        text: 'Please connect me with a human, our SSO login is broken.',
      }),
    );
    let escalated: Json = {};
    while (escalated.type !== 'escalated') escalated = JSON.parse(await customer.messages.next(15_000));
    const caseId = escalated.caseId as string;
    const synced = await until(
      async () => (await api(`/api/cases/${caseId}`)).body.case,
      (c) => c.crm !== undefined,
    );

    // Assess 1: the customer came from Salesforce; one Case with the handoff packet
    expect(synced).toMatchObject({ tier: 'enterprise', crm: { system: 'salesforce' } });
    expect(synced.handoff.customer).toMatchObject({ customerId: 'CUST-1001', name: 'Dana Whitfield' });
    expect(stub.cases).toHaveLength(1);
    expect(stub.cases[0]).toMatchObject({
      Id: synced.crm.caseId,
      ContactId: DANA,
      AccountId: NORTHWIND,
      SupportMax_Case_Id__c: caseId,
      Status: 'New',
    });
    expect(String(stub.cases[0]!.Description)).toContain('Dana Whitfield');

    // Act 2: an agent answers and resolves
    await api(`/api/cases/${caseId}/takeover`, {
      method: 'POST',
      body: JSON.stringify({ agentName: 'Ana' }),
    });
    await api(`/api/cases/${caseId}/reply`, {
      method: 'POST',
      body: JSON.stringify({ agentName: 'Ana', text: 'Ana here: SSO is fixed, please try again.' }),
    });
    await api(`/api/cases/${caseId}/resolve`, { method: 'POST', body: '{}' });
    await until(
      () => stub.cases[0]?.Status,
      (status) => status === 'Closed',
    );

    // Assess 2
    expect(stub.comments.map((c) => c.CommentBody)).toEqual([
      'Ana: Ana here: SSO is fixed, please try again.',
    ]);
    expect(stub.comments[0]).toMatchObject({ ParentId: synced.crm.caseId });
  }, 60_000);
});
