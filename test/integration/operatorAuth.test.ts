/**
 * Who may do what, end to end through the local face as a user runs it (local/main.ts in a child
 * process): operator sign-in with session cookie and CSRF token, roles, the console feed over the
 * WebSocket, signed customer tokens on $connect, and the admin's one-time password.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { signCustomerToken } from '#core/customerToken';
import { localAwsClientConfig, startDynamo } from '#local/dynamoServer';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import {
  loginOperator,
  OPERATOR_TEST_ENV,
  type OperatorLogin,
  TEST_ADMIN_PASSWORD,
  TEST_CUSTOMER_TOKEN_SECRET,
} from '../support/operatorLogin';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

interface Frame {
  type: string;
  [key: string]: unknown;
}
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = Record<string, any>;

const next = async (ws: TestWebSocket, timeoutMs = 10_000): Promise<Frame> =>
  JSON.parse(await ws.messages.next(timeoutMs));
const nextOfType = async (ws: TestWebSocket, type: string, timeoutMs = 10_000): Promise<Frame> => {
  for (;;) {
    const frame = await next(ws, timeoutMs);
    if (frame.type === type) return frame;
  }
};
const send = (ws: TestWebSocket, body: object) => ws.socket.send(JSON.stringify(body));

/** The HTTP status a refused WebSocket handshake answered with. */
const refusedWith = (url: string, headers: Record<string, string> = {}) =>
  new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('open', () => {
      socket.close();
      reject(new Error(`${url} accepted the connection`));
    });
    socket.on('error', () => {});
  });

const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;
const AGENT_PASSWORD = 'agent dana passphrase';
// The tests open more sockets and sign in more often than the default edge limits allow one IP.
const FACE_ENV = { ...OPERATOR_TEST_ENV, RATE_LIMITS: 'off' };

describe('operator sign-in, roles and customer tokens in the local face', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-auth-'));
  let face: LocalFaceProcess;
  let admin: OperatorLogin;
  const sockets: TestWebSocket[] = [];
  let tokenConversationId = '';
  let anonymousConversationId = '';

  const open = async (url: string, headers?: Record<string, string>) => {
    const ws = await connectWebSocket(url, headers ? { headers } : undefined);
    sockets.push(ws);
    return ws;
  };
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${face.url}${path}`, init);
    return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    face = await startLocalFaceProcess(dataDir, FACE_ENV);
    admin = await loginOperator(face.url, 'admin', TEST_ADMIN_PASSWORD);
  }, 90_000);

  afterAll(async () => {
    for (const ws of sockets) ws.socket.close();
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 401 on operator routes without a session, while health stays open', async () => {
    // Act
    const cases = await call('/api/cases');
    const forged = await call('/api/cases', { headers: { cookie: 'supportmax_session=forged-token-value' } });
    const health = await call('/api/health');

    // Assess
    expect(cases).toMatchObject({ status: 401, body: { error: { code: 'Unauthorized' } } });
    expect(forged.status).toBe(401);
    expect(health.status).toBe(200);
  });

  it('refuses a wrong password with the same 401 and message as an unknown user', async () => {
    // Act
    const login = (username: string, password: string) =>
      call('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
    const wrongPassword = await login('admin', 'not-the-admin-password');
    const unknownUser = await login('nobody-here', 'not-the-admin-password');

    // Assess
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body).toEqual(unknownUser.body);
    expect(unknownUser).toMatchObject({ status: 401, body: { error: { code: 'Unauthorized' } } });
    expect(wrongPassword.headers.get('set-cookie')).toBeNull();
  });

  it('signs in with an HttpOnly SameSite=Strict cookie and a CSRF token (Secure behind https)', async () => {
    // Act
    const overHttps = await fetch(`${face.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    });

    // Assess
    expect(admin).toMatchObject({ username: 'admin', roles: ['admin'], passwordChangeRequired: false });
    expect(admin.cookie).toMatch(/^supportmax_session=[A-Za-z0-9_-]{43}$/);
    expect(admin.setCookie).toMatch(/; HttpOnly/);
    expect(admin.setCookie).toMatch(/; SameSite=Strict/);
    expect(admin.setCookie).toMatch(/; Path=\//);
    expect(admin.setCookie).toMatch(/; Max-Age=\d+/);
    expect(admin.setCookie).not.toMatch(/Secure/);
    expect(admin.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(overHttps.headers.getSetCookie()[0]).toMatch(/; Secure$/);
    expect(overHttps.headers.get('x-csrf-token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await call('/api/auth/me', { headers: { cookie: admin.cookie } });
    expect(me.body).toMatchObject({ username: 'admin', roles: ['admin'], csrfToken: admin.csrfToken });
  });

  it('refuses a state-changing request without the session CSRF token with 403', async () => {
    // Act
    const missing = await call('/api/operators', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: admin.cookie },
      body: JSON.stringify({ username: 'mallory', roles: ['admin'], password: 'a-planted-passphrase' }),
    });
    const wrong = await call('/api/cases/CS-ABCD1234/resolve', {
      method: 'POST',
      headers: admin.headers({ 'x-csrf-token': 'x'.repeat(43) }),
      body: '{}',
    });

    // Assess
    expect(missing).toMatchObject({ status: 403, body: { error: { code: 'Forbidden' } } });
    expect(missing.body.error.message).toMatch(/csrf/i);
    expect(wrong.status).toBe(403);
    const operators = await call('/api/operators', { headers: admin.headers() });
    expect(operators.body.operators.map((o: Json) => o.username)).not.toContain('mallory');
  });

  it('accepts a Bearer session token or HTTP Basic credentials from API clients, without CSRF', async () => {
    // Prepare
    const token = admin.cookie.split('=')[1]!;

    // Act
    const listed = await call('/api/cases', { headers: { authorization: `Bearer ${token}` } });
    const forged = await call('/api/cases', { headers: { authorization: `Bearer ${'A'.repeat(43)}` } });
    const post = await call('/api/cases/CS-ABCD1234/resolve', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });

    const basic = (password: string) =>
      call('/api/metrics?window=1h', {
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
      });
    const basicOk = await basic(TEST_ADMIN_PASSWORD);
    const basicWrong = await basic('not-the-password');

    // Assess
    expect(listed.status).toBe(200);
    expect(forged.status).toBe(401);
    expect(post.status).toBe(404);
    expect(basicOk.status).toBe(200);
    expect(basicWrong.status).toBe(401);
  });

  it('lets the admin create an agent, who works cases but may not manage operators or read metrics', async () => {
    // Act
    const created = await call('/api/operators', {
      method: 'POST',
      headers: admin.headers(),
      body: JSON.stringify({
        username: 'dana',
        roles: ['agent'],
        password: AGENT_PASSWORD,
        mustChangePassword: false,
      }),
    });
    const agent = await loginOperator(face.url, 'dana', AGENT_PASSWORD);
    const operators = await call('/api/operators', { headers: agent.headers() });
    const createAsAgent = await call('/api/operators', {
      method: 'POST',
      headers: agent.headers(),
      body: JSON.stringify({ username: 'eve', roles: ['admin'], password: 'an-agent-made-admin' }),
    });
    const cases = await call('/api/cases', { headers: agent.headers() });
    const agentMetrics = await call('/api/metrics', { headers: agent.headers() });
    const adminMetrics = await call('/api/metrics', { headers: admin.headers() });

    // Assess
    expect(created).toMatchObject({
      status: 201,
      body: { operator: { username: 'dana', roles: ['agent'] } },
    });
    expect(JSON.stringify(created.body)).not.toMatch(/scrypt|passwordHash/);
    expect(operators).toMatchObject({
      status: 403,
      body: { error: { code: 'Forbidden', message: 'requires role admin' } },
    });
    expect(createAsAgent.status).toBe(403);
    expect(cases.status).toBe(200);
    expect(agentMetrics).toMatchObject({
      status: 403,
      body: { error: { message: 'requires role supervisor' } },
    });
    expect(adminMetrics.status).toBe(200);
  });

  it('feeds live cases to a console socket opened with a session, and an error frame to one without', async () => {
    // Prepare
    const agent = await loginOperator(face.url, 'dana', AGENT_PASSWORD);
    const adminConsole = await open(face.wsUrl, { cookie: admin.cookie, origin: face.url });
    const agentConsole = await open(face.wsUrl, { cookie: agent.cookie });
    const anonymous = await open(face.wsUrl);
    const customer = await open(face.wsUrl);

    // Act
    send(adminConsole, { action: 'subscribeConsole' });
    send(agentConsole, { action: 'subscribeConsole' });
    send(anonymous, { action: 'subscribeConsole' });
    const refusal = await next(anonymous);
    send(customer, { action: 'sendMessage', text: 'I want to talk to a human please' });
    const escalated = await next(customer);
    anonymousConversationId = escalated.conversationId as string;

    // Assess
    expect(refusal).toMatchObject({ type: 'error', code: 'Unauthorized' });
    expect(escalated.type).toBe('escalated');
    for (const console of [adminConsole, agentConsole]) {
      const update = await nextOfType(console, 'caseUpdated');
      expect((update.case as Json).caseId).toBe(escalated.caseId);
    }
    // The broadcast reached both consoles: the refused socket got nothing of it.
    expect(anonymous.messages.history.map((raw) => JSON.parse(raw).type)).toEqual(['error']);
  });

  it('refuses a console socket with an invalid session or from another origin', async () => {
    // Act
    const stale = await refusedWith(face.wsUrl, { cookie: 'supportmax_session=forged-token-value' });
    const crossSite = await refusedWith(face.wsUrl, { cookie: admin.cookie, origin: 'https://evil.example' });

    // Assess
    expect(stale).toBe(401);
    expect(crossSite).toBe(403);
  });

  it('refuses a customer $connect whose token does not verify with 401', async () => {
    // Prepare
    const url = (token: string) => `${face.wsUrl}?token=${encodeURIComponent(token)}`;
    const otherSecret = signCustomerToken(
      { sub: 'cust-1', exp: inSeconds(600) },
      `${TEST_CUSTOMER_TOKEN_SECRET}!`,
    );
    const expired = signCustomerToken({ sub: 'cust-1', exp: inSeconds(-120) }, TEST_CUSTOMER_TOKEN_SECRET);

    // Act
    const statuses = await Promise.all(['not-a-jwt', otherSecret, expired].map((t) => refusedWith(url(t))));

    // Assess
    expect(statuses).toEqual([401, 401, 401]);
  });

  it('accepts a customer with a valid token and keeps the conversation going', async () => {
    // Prepare
    const token = signCustomerToken({ sub: 'cust-7781', exp: inSeconds(600) }, TEST_CUSTOMER_TOKEN_SECRET);
    const customer = await open(`${face.wsUrl}?token=${token}`);

    // Act
    send(customer, { action: 'sendMessage', text: 'I want to talk to a human about my account' });
    const escalated = await next(customer);
    tokenConversationId = escalated.conversationId as string;

    // Assess
    expect(escalated).toMatchObject({ type: 'escalated', caseId: expect.stringMatching(/^CS-/) });
  });

  it('stores only the verified token subject as the conversation customerId', async () => {
    // Prepare: the face's tables, read once it has stopped
    for (const ws of sockets) ws.socket.close();
    await face.stop();
    const dynamo = await startDynamo({ dataDir });
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsClientConfig(dynamo.endpoint)));
    const conversation = async (conversationId: string) =>
      (
        await documents.send(
          new GetCommand({
            TableName: 'supportmax-conversations',
            Key: { conversationId },
            ConsistentRead: true,
          }),
        )
      ).Item;

    // Act
    const withToken = await conversation(tokenConversationId);
    const anonymous = await conversation(anonymousConversationId);
    documents.destroy();
    await dynamo.close();

    // Assess
    expect(withToken).toMatchObject({ conversationId: tokenConversationId, customerId: 'cust-7781' });
    expect(anonymous).toBeDefined();
    expect(anonymous?.customerId).toBeUndefined();
  }, 60_000);
});

describe('the admin one-time password in the local face', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-admin-'));
  let face: LocalFaceProcess | undefined;

  afterAll(async () => {
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints it once; until it is changed the session may only change the password', async () => {
    // Prepare
    face = await startLocalFaceProcess(dataDir, { RATE_LIMITS: 'off' });
    const printed = /user "admin", one-time password (\S+)/.exec(face.output());
    const oneTime = printed?.[1] ?? '';
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${face!.url}${path}`, init);
      return { status: response.status, body: (await response.json()) as Json };
    };

    // Act
    const first = await loginOperator(face.url, 'admin', oneTime);
    const cases = await call('/api/cases', { headers: first.headers() });
    const me = await call('/api/auth/me', { headers: first.headers() });
    const changed = await fetch(`${face.url}/api/auth/password`, {
      method: 'POST',
      headers: first.headers(),
      body: JSON.stringify({ currentPassword: oneTime, newPassword: 'my own admin passphrase' }),
    });
    const renewedCookie = changed.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const oldSession = await call('/api/cases', { headers: first.headers() });
    const newSession = await call('/api/cases', { headers: { cookie: renewedCookie } });
    await face.stop();
    face = await startLocalFaceProcess(dataDir, { RATE_LIMITS: 'off' });
    const again = await loginOperator(face.url, 'admin', 'my own admin passphrase');

    // Assess
    expect(oneTime.length).toBeGreaterThanOrEqual(12);
    expect(first.passwordChangeRequired).toBe(true);
    expect(cases).toMatchObject({ status: 403, body: { error: { code: 'Forbidden' } } });
    expect(cases.body.error.message).toMatch(/password change required/);
    expect(me).toMatchObject({ status: 200, body: { username: 'admin', passwordChangeRequired: true } });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ passwordChangeRequired: false });
    expect(oldSession.status).toBe(401);
    expect(newSession.status).toBe(200);
    expect(face.output()).not.toMatch(/one-time password/);
    expect(again.passwordChangeRequired).toBe(false);
  }, 180_000);

  it('keeps the generated customer token secret in DATA_DIR, readable by its owner only', async () => {
    // Prepare
    const file = join(dataDir, 'customer-token-secret');
    const secret = (await readFile(file, 'utf8')).trim();
    const token = signCustomerToken({ sub: 'cust-9', exp: inSeconds(600) }, secret);

    // Act
    const customer = await connectWebSocket(`${face!.wsUrl}?token=${token}`);
    customer.socket.close();

    // Assess
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(secret.length).toBeGreaterThanOrEqual(32);
  });
});
