/**
 * The customer data API (GDPR export and erasure) through the local face in a child process: signed-in
 * customers chat and write e-mails, an admin exports and erases one of them over REST, and the others'
 * data stays. Also transcript consent end to end: a token with `transcript_consent: false`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
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
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = Record<string, any>;

/** Demo CRM customers (data/crm/customers.json): A also writes e-mails from the address on file. */
const CUSTOMER_A = 'CUST-1001';
const CUSTOMER_A_EMAIL = 'dana@northwind-logistics.example';
const CUSTOMER_B = 'CUST-1002';
const AGENT_PASSWORD = 'agent-test-passphrase-2026';

const tokenFor = (customerId: string, claims: object = {}) =>
  signCustomerToken(
    { sub: customerId, exp: Math.floor(Date.now() / 1000) + 3600, ...claims },
    TEST_CUSTOMER_TOKEN_SECRET,
  );

const nextOfType = async (ws: TestWebSocket, types: readonly string[]): Promise<Json> => {
  for (;;) {
    const frame = JSON.parse(await ws.messages.next(20_000)) as Json;
    if (types.includes(frame.type)) return frame;
  }
};

describe('customer data API through the local face', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-customer-data-'));
  let face: LocalFaceProcess;
  let admin: OperatorLogin;
  let agent: OperatorLogin;
  const sockets: TestWebSocket[] = [];

  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${face.url}${path}`, init);
    return { status: response.status, body: (await response.json()) as Json };
  };
  const asAdmin = (path: string, method = 'GET') => call(path, { method, headers: admin.headers() });
  const chat = async (token: string, text: string, expect: readonly string[]) => {
    const ws = await connectWebSocket(`${face.wsUrl}?token=${token}`);
    sockets.push(ws);
    ws.socket.send(JSON.stringify({ action: 'sendMessage', text }));
    return nextOfType(ws, expect);
  };
  /** Polls the export until `done` holds (an e-mail turn completes after the SMTP session). */
  const exportWhen = async (customerId: string, done: (body: Json) => boolean) => {
    for (let i = 0; i < 60; i++) {
      const { body } = await asAdmin(`/api/customers/${customerId}`);
      if (done(body)) return body;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the export of ${customerId} never reached the expected state`);
  };

  beforeAll(async () => {
    face = await startLocalFaceProcess(dataDir, { ...OPERATOR_TEST_ENV, RATE_LIMITS: 'off' });
    admin = await loginOperator(face.url, 'admin', TEST_ADMIN_PASSWORD);
    const created = await call('/api/operators', {
      method: 'POST',
      headers: admin.headers(),
      body: JSON.stringify({
        username: 'casey',
        roles: ['agent'],
        password: AGENT_PASSWORD,
        mustChangePassword: false,
      }),
    });
    if (created.status !== 201) throw new Error(`agent not created: ${JSON.stringify(created.body)}`);
    agent = await loginOperator(face.url, 'casey', AGENT_PASSWORD);
  }, 90_000);

  afterAll(async () => {
    for (const ws of sockets) ws.socket.terminate();
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("exports one customer's data to admins only, erases it, keeps the others' and erases nothing twice", async () => {
    // Prepare: A escalates a chat and writes an e-mail; B chats
    const escalated = await chat(tokenFor(CUSTOMER_A), 'I want to talk to a human please', ['escalated']);
    await chat(tokenFor(CUSTOMER_B), 'How do I reset a forgotten password?', ['reply', 'escalated']);
    const transport = createTransport({
      host: '127.0.0.1',
      port: face.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    await transport.sendMail({
      from: `Dana <${CUSTOMER_A_EMAIL}>`,
      to: 'support@example.com',
      subject: 'Invoice question',
      messageId: '<gdpr-1@northwind-logistics.example>',
      text: 'Where can I download my invoices?',
    });
    transport.close();
    await exportWhen(CUSTOMER_A, (body) =>
      body.conversations.some((c: Json) => c.conversation.channel === 'email' && c.messages.length >= 2),
    );

    // Act 1: export, as admin, agent and nobody
    const exported = await asAdmin(`/api/customers/${CUSTOMER_A}`);
    const asAgent = await call(`/api/customers/${CUSTOMER_A}`, { headers: agent.headers() });
    const agentDelete = await call(`/api/customers/${CUSTOMER_A}`, {
      method: 'DELETE',
      headers: agent.headers(),
    });
    const anonymous = await call(`/api/customers/${CUSTOMER_A}`);
    const anonymousDelete = await call(`/api/customers/${CUSTOMER_A}`, { method: 'DELETE' });

    // Assess 1
    expect(exported.status).toBe(200);
    const text = JSON.stringify(exported.body);
    expect(text).toContain('I want to talk to a human please');
    expect(text).toContain('download my invoices');
    expect(text).not.toContain('reset a forgotten password');
    expect(exported.body.counts).toMatchObject({ conversations: 2, cases: 1, emailThreads: 1 });
    const chatExport = exported.body.conversations.find((c: Json) => c.conversation.channel === 'chat');
    expect(chatExport.cases).toEqual([
      expect.objectContaining({
        caseId: escalated.caseId,
        handoff: expect.objectContaining({ reason: 'human_requested' }),
      }),
    ]);
    expect(chatExport.connections).toEqual([expect.objectContaining({ customerId: CUSTOMER_A })]);
    const emailExport = exported.body.conversations.find((c: Json) => c.conversation.channel === 'email');
    expect(emailExport.emailThread).toMatchObject({ from: { address: CUSTOMER_A_EMAIL } });
    expect([asAgent.status, agentDelete.status]).toEqual([403, 403]);
    expect([anonymous.status, anonymousDelete.status]).toEqual([401, 401]);

    // Act 2: erase A, then again
    const bBefore = await asAdmin(`/api/customers/${CUSTOMER_B}`);
    const receipt = await asAdmin(`/api/customers/${CUSTOMER_A}`, 'DELETE');
    const again = await asAdmin(`/api/customers/${CUSTOMER_A}`, 'DELETE');
    const after = await asAdmin(`/api/customers/${CUSTOMER_A}`);
    const bAfter = await asAdmin(`/api/customers/${CUSTOMER_B}`);
    const cases = await asAdmin('/api/cases');
    const caseDetail = await asAdmin(`/api/cases/${escalated.caseId}`);

    // Assess 2
    expect(receipt.status).toBe(200);
    expect(receipt.body).toMatchObject({
      receiptId: expect.stringMatching(/^er-/),
      customerId: CUSTOMER_A,
      erasedAt: expect.any(String),
      counts: {
        conversations: 2,
        messages: exported.body.counts.messages,
        cases: 1,
        connections: 1,
        emailThreads: expect.any(Number),
      },
    });
    expect(receipt.body.counts.emailThreads).toBeGreaterThanOrEqual(2);
    expect(receipt.body.retained.map((r: Json) => r.data)).toEqual(
      expect.arrayContaining([
        'audit log entries',
        'aggregate metrics',
        'CRM customer profile and CRM copies of cases',
      ]),
    );
    expect(again.status).toBe(200);
    expect(again.body.counts).toEqual({
      conversations: 0,
      messages: 0,
      cases: 0,
      connections: 0,
      emailThreads: 0,
    });
    expect(after.body.conversations).toEqual([]);
    expect(bAfter.body.conversations).toEqual(bBefore.body.conversations);
    expect(bAfter.body.conversations).toHaveLength(1);
    expect(cases.body.cases.map((c: Json) => c.caseId)).not.toContain(escalated.caseId);
    expect(caseDetail.status).toBe(404);
  }, 120_000);

  it('leaves a customer_data audit entry under the admin for each export and erasure', async () => {
    // Act
    const day = new Date().toISOString().slice(0, 10);
    const audit = await asAdmin(`/api/audit?day=${day}&limit=500`);

    // Assess
    const entries = audit.body.entries.filter((e: Json) => e.kind === 'customer_data');
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: { type: 'operator', id: 'admin' },
          subject: { customerId: CUSTOMER_A },
          details: expect.objectContaining({ operation: 'export' }),
        }),
        expect.objectContaining({
          actor: { type: 'operator', id: 'admin' },
          subject: { customerId: CUSTOMER_A },
          details: expect.objectContaining({
            operation: 'erase',
            counts: expect.objectContaining({ cases: 1 }),
          }),
        }),
      ]),
    );
  });

  it.each([
    ['a traversal', '..%2F'],
    ['500 characters', 'a'.repeat(500)],
    ['markup', encodeURIComponent('<script>')],
  ])('refuses a customer id with %s with 400', async (_label, id) => {
    // Act
    const exported = await fetch(`${face.url}/api/customers/${id}`, { headers: admin.headers() });
    const erased = await fetch(`${face.url}/api/customers/${id}`, {
      method: 'DELETE',
      headers: admin.headers(),
    });

    // Assess
    expect([exported.status, erased.status]).toEqual([400, 400]);
  });

  it('stores the messages of a customer without transcript consent PII-masked', async () => {
    // Prepare
    const token = tokenFor('cust-no-consent', { transcript_consent: false });

    // Act
    await chat(token, 'How do I reset a forgotten password? Write to me at lee@example.org', [
      'reply',
      'escalated',
    ]);
    const exported = await asAdmin('/api/customers/cust-no-consent');

    // Assess
    const [conversation] = exported.body.conversations;
    expect(conversation.conversation.consentToStoreTranscripts).toBe(false);
    expect(conversation.connections[0]).toMatchObject({ consentToStoreTranscripts: false });
    const customerText = conversation.messages.find((m: Json) => m.role === 'customer').text;
    expect(customerText).toContain('reset a forgotten password');
    expect(customerText).not.toContain('lee@example.org');
  });
});
