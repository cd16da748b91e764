/**
 * The local face end to end, as a user runs it: `local/main.ts` in a child process, real HTTP and
 * WebSocket traffic, data in a temporary DATA_DIR that survives a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import {
  loginOperator,
  OPERATOR_TEST_ENV,
  type OperatorLogin,
  TEST_ADMIN_PASSWORD,
} from '../support/operatorLogin';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

interface Frame {
  type: string;
  [key: string]: unknown;
}

const next = async (ws: TestWebSocket, timeoutMs = 10_000): Promise<Frame> =>
  JSON.parse(await ws.messages.next(timeoutMs));
const nextOfType = async (ws: TestWebSocket, type: string, timeoutMs = 10_000): Promise<Frame> => {
  for (;;) {
    const frame = await next(ws, timeoutMs);
    if (frame.type === type) return frame;
  }
};
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
type Json = Record<string, any>;

const send = (ws: TestWebSocket, body: object | string) =>
  ws.socket.send(typeof body === 'string' ? body : JSON.stringify(body));

describe('local face over HTTP and WebSocket', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-face-'));
  let face: LocalFaceProcess;
  let operator: OperatorLogin;
  const sockets: TestWebSocket[] = [];
  /** A customer's socket, or with `asOperator` one opened with the operator's session cookie. */
  const open = async (asOperator = false) => {
    const ws = await connectWebSocket(
      face.wsUrl,
      asOperator ? { headers: { cookie: operator.cookie, origin: face.url } } : undefined,
    );
    sockets.push(ws);
    return ws;
  };
  /** The operator API, signed in as the admin. */
  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${face.url}${path}`, {
      ...init,
      headers: operator.headers(init?.headers as Record<string, string> | undefined),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    face = await startLocalFaceProcess(dataDir, OPERATOR_TEST_ENV);
    operator = await loginOperator(face.url, 'admin', TEST_ADMIN_PASSWORD);
  }, 90_000);

  afterAll(async () => {
    for (const ws of sockets) ws.socket.close();
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports every component healthy', async () => {
    const health = await api('/api/health');
    expect(health.status).toBe(200);
    expect(health.body.components.engine.faqs).toBe(500);
  });

  it('answers an FAQ question with a reply that cites the FAQ, within 2 s', async () => {
    // Prepare
    const ws = await open();
    const started = Date.now();
    // Act
    send(ws, { action: 'sendMessage', text: 'How do I reset my password?', clientMessageId: 'q1' });
    const frame = await next(ws);
    // Assess
    expect(Date.now() - started).toBeLessThan(2000);
    expect(frame).toMatchObject({ type: 'reply', escalated: false, clientMessageId: 'q1' });
    expect(frame.conversationId).toEqual(expect.any(String));
    expect((frame.citations as { faqId: string }[]).length).toBeGreaterThan(0);
    expect(frame.confidence).toBeGreaterThanOrEqual(0.65);
    expect(frame.intent).toEqual(expect.any(String));
  });

  it('replays the stored reply for a repeated clientMessageId instead of answering twice', async () => {
    const ws = await open();
    send(ws, {
      action: 'sendMessage',
      text: 'How can I download my invoice as a PDF?',
      clientMessageId: 'dup-1',
    });
    const first = await next(ws);
    send(ws, {
      action: 'sendMessage',
      text: 'How can I download my invoice as a PDF?',
      clientMessageId: 'dup-1',
      conversationId: first.conversationId,
    });
    const second = await next(ws);
    expect(second.messageId ?? second.caseId).toBe(first.messageId ?? first.caseId);
  });

  it('escalates an unanswerable question with a case id', async () => {
    const ws = await open();
    send(ws, { action: 'sendMessage', text: 'What is the weather going to be like in Lisbon tomorrow?' });
    const frame = await next(ws);
    expect(frame).toMatchObject({ type: 'escalated', reason: expect.any(String) });
    expect(frame.caseId).toMatch(/^CS-/);
  });

  it('answers bad frames with error frames and keeps the connection open', async () => {
    const ws = await open();
    send(ws, '{not json');
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'InvalidJson' });
    send(ws, { action: 'sendMessage', text: 'x'.repeat(4001) });
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'MessageTooLong' });
    send(ws, { action: 'sendMessage', text: 42 });
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'ValidationError' });
    send(ws, { action: 'fly' });
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'UnknownAction' });
    send(ws, { action: 'sendMessage', text: 'hello', conversationId: 'does-not-exist-123' });
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'UnknownConversation' });
    send(ws, { action: 'sendMessage', text: 'How do I enable two-factor authentication?' });
    expect((await next(ws)).type).toMatch(/reply|escalated/);
  });

  it('lets an operator take over, reply as a human and resolve; the customer sees the agent messages', async () => {
    // Prepare: a customer asks for a human; an operator console subscribes to live updates
    const console = await open(true);
    send(console, { action: 'subscribeConsole' });
    const customer = await open();
    send(customer, { action: 'sendMessage', text: 'I want to talk to a human please' });
    const escalated = await next(customer);
    expect(escalated.type).toBe('escalated');
    const caseId = escalated.caseId as string;
    const live = await nextOfType(console, 'caseUpdated');
    expect((live.case as { caseId: string }).caseId).toBe(caseId);
    // Act
    const listed = await api('/api/cases?status=open');
    const takeover = await api(`/api/cases/${caseId}/takeover`, {
      method: 'POST',
      body: JSON.stringify({ agentName: 'Dana' }),
    });
    const joined = await next(customer);
    const reply = await api(`/api/cases/${caseId}/reply`, {
      method: 'POST',
      body: JSON.stringify({ agentName: 'Dana', text: 'Hi, I am Dana. How can I help?' }),
    });
    const agentMessage = await next(customer);
    send(customer, {
      action: 'sendMessage',
      text: 'My exports keep failing',
      conversationId: escalated.conversationId,
    });
    const forwarded = await nextOfType(console, 'conversationMessage');
    const resolved = await api(`/api/cases/${caseId}/resolve`, { method: 'POST', body: '{}' });
    const detail = await api(`/api/cases/${caseId}`);
    // Assess
    expect(listed.body.cases.map((c: { caseId: string }) => c.caseId)).toContain(caseId);
    expect(takeover.body.case).toMatchObject({ status: 'assigned', assignee: 'Dana' });
    expect(joined).toMatchObject({ type: 'agentMessage', agentName: 'Dana' });
    expect(reply.status).toBe(201);
    expect(agentMessage).toMatchObject({
      type: 'agentMessage',
      text: 'Hi, I am Dana. How can I help?',
      agentName: 'Dana',
    });
    expect((forwarded.message as { text: string }).text).toBe('My exports keep failing');
    expect(resolved.body.case.status).toBe('resolved');
    expect(detail.body.case.handoff).toMatchObject({
      reason: 'human_requested',
      summary: expect.any(String),
    });
    expect(detail.body.messages.map((m: { role: string }) => m.role)).toEqual([
      'customer',
      'system',
      'agent',
      'customer',
    ]);
  });

  it('rejects operator actions with bad input or in the wrong state', async () => {
    expect((await api('/api/cases?status=weird')).status).toBe(400);
    expect((await api('/api/cases/CS-NOPE1234')).status).toBe(404);
    expect((await api('/api/cases/not-a-case')).status).toBe(400);
    const ws = await open();
    send(ws, { action: 'sendMessage', text: 'connect me to an agent' });
    const { caseId } = await next(ws);
    const early = await api(`/api/cases/${caseId}/reply`, {
      method: 'POST',
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(early).toMatchObject({ status: 409, body: { error: { code: 'InvalidCaseState' } } });
    const empty = await api(`/api/cases/${caseId}/takeover`, { method: 'POST', body: '{"agentName": 7}' });
    expect(empty.status).toBe(400);
  });

  it('keeps conversations across a restart on the same DATA_DIR', async () => {
    // Prepare
    const ws = await open();
    send(ws, { action: 'sendMessage', text: 'Please connect me with a person about my account' });
    const escalated = await next(ws);
    ws.socket.close();
    await face.stop();
    // Act
    face = await startLocalFaceProcess(dataDir, OPERATOR_TEST_ENV);
    // The operator's session survives the restart too.
    const detail = await api(`/api/cases/${escalated.caseId}`);
    const again = await open();
    send(again, {
      action: 'sendMessage',
      text: 'How do I change my email address?',
      conversationId: escalated.conversationId,
    });
    const forwarded = await api(`/api/cases/${escalated.caseId}`);
    // Assess
    expect(detail.status).toBe(200);
    expect(detail.body.messages[0]).toMatchObject({
      role: 'customer',
      text: 'Please connect me with a person about my account',
    });
    await expect.poll(async () => (await api(`/api/cases/${escalated.caseId}`)).body.messages.length).toBe(3);
    expect(forwarded.status).toBe(200);
  }, 90_000);
});
