/**
 * The escalation workflow end to end in the local face (child process, real WebSocket and REST): an angry
 * enterprise customer's outage becomes a P1 case with a complete handoff packet, the console sees it live,
 * the shortened SLA timer moves it to L2 with an SlaBreached, the agent's reply reaches the customer, the
 * resolution shows on /api/metrics; and a case waiting for an agent survives a kill -9 of the server.
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
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

// biome-ignore lint/suspicious/noExplicitAny: frames and bodies are asserted field by field
type Json = Record<string, any>;

/** P1 for an enterprise customer: 300 s first response → 3 s; the next level gets half → 2 s (rounded). */
const ENV = { ...OPERATOR_TEST_ENV, SLA_TIME_SCALE: '0.01' };
const OUTAGE =
  'Our whole production environment is down since this morning, nothing loads and the API returns HTTP 503 ' +
  'for every call. This is unacceptable, we are losing money every minute. Fix it now!';

const tokenFor = (customerId: string) =>
  signCustomerToken(
    { sub: customerId, exp: Math.floor(Date.now() / 1000) + 3600 },
    TEST_CUSTOMER_TOKEN_SECRET,
  );

const next = async (ws: TestWebSocket, timeoutMs = 10_000): Promise<Json> =>
  JSON.parse(await ws.messages.next(timeoutMs));
async function until(ws: TestWebSocket, accept: (frame: Json) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = await next(ws, Math.max(1, deadline - Date.now()));
    if (accept(frame)) return frame;
  }
}

describe('escalation workflow in the local face', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-escalation-'));
  let face: LocalFaceProcess;
  let operator: OperatorLogin;
  const sockets: TestWebSocket[] = [];
  const open = async (query = '', cookie?: string) => {
    const ws = await connectWebSocket(
      `${face.wsUrl}${query}`,
      cookie ? { headers: { cookie, origin: face.url } } : undefined,
    );
    sockets.push(ws);
    return ws;
  };
  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${face.url}${path}`, { ...init, headers: operator.headers() });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const start = async () => {
    face = await startLocalFaceProcess(dataDir, ENV);
    operator = await loginOperator(face.url, 'admin', TEST_ADMIN_PASSWORD);
  };

  beforeAll(start, 90_000);
  afterAll(async () => {
    for (const ws of sockets) ws.socket.terminate();
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('turns an angry enterprise outage into a P1 case that breaches to L2, is answered and resolved', async () => {
    // Prepare: an operator console and a signed-in enterprise customer (CUST-1001 in data/crm)
    const console = await open('', operator.cookie);
    console.socket.send(JSON.stringify({ action: 'subscribeConsole' }));
    const customer = await open(`?token=${tokenFor('CUST-1001')}`);

    // Act 1: the outage message
    customer.socket.send(JSON.stringify({ action: 'sendMessage', text: OUTAGE }));
    const escalated = await until(customer, (f) => f.type === 'escalated');
    const caseId = escalated.caseId as string;
    const opened = await until(
      console,
      (f) => f.type === 'caseUpdated' && f.case.caseId === caseId && f.case.tier === 'enterprise',
    );

    // Assess 1: P1 with a complete handoff packet, mirrored into the built-in CRM
    expect(opened.case).toMatchObject({
      priority: 'P1',
      level: 'L1',
      queue: 'technical-enterprise',
      slaTargetSeconds: 3,
    });
    const handoff = opened.case.handoff;
    expect(handoff.customer).toMatchObject({ customerId: 'CUST-1001', tier: 'enterprise' });
    expect(handoff.signals).toEqual(expect.arrayContaining(['outage', 'angry']));
    expect(handoff.priorityReason).toMatch(/enterprise/i);
    expect(handoff.entities.errorCodes).toEqual(expect.arrayContaining([expect.stringMatching(/503/)]));
    expect(handoff.summary).toContain('production environment is down');
    expect(handoff.faqsTried.length).toBeGreaterThan(0);
    expect(handoff.confidence).toEqual(expect.any(Number));
    expect(opened.case.crm).toEqual({ system: 'builtin', caseId });

    // Act 2: nobody answers within the (shortened) first-response target
    const breached = await until(
      console,
      (f) => f.type === 'caseUpdated' && f.case.caseId === caseId && f.case.level === 'L2',
    );

    // Assess 2
    expect(breached.case.slaBreaches).toBe(1);
    const afterBreach = await api('/api/metrics?window=1h');
    expect(afterBreach.body.cases.slaBreachesByPriority).toMatchObject({ P1: 1 });

    // Act 3: an agent takes over and answers; then resolves
    await api(`/api/cases/${caseId}/takeover`, {
      method: 'POST',
      body: JSON.stringify({ agentName: 'Ana' }),
    });
    const reply = await api(`/api/cases/${caseId}/reply`, {
      method: 'POST',
      body: JSON.stringify({
        agentName: 'Ana',
        text: 'Ana here: we found the faulty node and are failing over now.',
      }),
    });
    const agentMessage = await until(
      customer,
      (f) => f.type === 'agentMessage' && f.text.startsWith('Ana here'),
    );
    const resolved = await api(`/api/cases/${caseId}/resolve`, { method: 'POST', body: '{}' });
    const metrics = await waitFor(
      async () => (await api('/api/metrics?window=1h')).body,
      (m) => m.medianResolutionSeconds !== null && m.cases.medianFirstResponseSeconds !== null,
    );
    const detail = await waitFor(
      async () => (await api(`/api/cases/${caseId}`)).body,
      (d) => d.case.workflowOutcome === 'replied',
    );

    // Assess 3
    expect(reply.status).toBe(201);
    expect(agentMessage.agentName).toBe('Ana');
    expect(resolved.body.case.status).toBe('resolved');
    expect(detail.case.firstResponseAt).toEqual(expect.any(String));
    expect(metrics.medianResolutionSeconds).toEqual(expect.any(Number));
    expect(metrics.cases.openedByPriority).toMatchObject({ P1: 1 });
  }, 60_000);

  it('keeps a waiting case and its SLA timer across a kill -9 of the server', async () => {
    // Prepare: a pro customer's urgent problem waits for an agent
    const customer = await open(`?token=${tokenFor('CUST-2001')}`);
    customer.socket.send(
      JSON.stringify({
        action: 'sendMessage',
        text: 'I need a human now, our invoices page crashes with error E4012!',
      }),
    );
    const { caseId, conversationId } = await until(customer, (f) => f.type === 'escalated');
    const before = await waitFor(
      async () => (await api(`/api/cases/${caseId}`)).body.case,
      (c) => typeof c.slaDueAt === 'string',
    );

    // Act: kill -9 while it waits, restart on the same data
    await face.stop(true);
    await start();
    const after = (await api(`/api/cases/${caseId}`)).body.case;
    await api(`/api/cases/${caseId}/takeover`, { method: 'POST', body: JSON.stringify({ agentName: 'Bo' }) });
    const back = await open(`?token=${tokenFor('CUST-2001')}`);
    back.socket.send(JSON.stringify({ action: 'sendMessage', text: 'Still broken.', conversationId }));
    await api(`/api/cases/${caseId}/reply`, {
      method: 'POST',
      body: JSON.stringify({ agentName: 'Bo', text: 'Bo here, looking at E4012 now.' }),
    });
    const agentMessage = await until(back, (f) => f.type === 'agentMessage' && f.text.startsWith('Bo here'));
    const finished = await waitFor(
      async () => (await api(`/api/cases/${caseId}`)).body.case,
      (c) => c.workflowOutcome === 'replied',
    );

    // Assess: same case, same deadline, the resumed workflow received the agent's answer
    expect(after).toMatchObject({ caseId, status: 'open', slaDueAt: before.slaDueAt, tier: 'pro' });
    expect(agentMessage.agentName).toBe('Bo');
    expect(finished.waitToken).toBe('');
  }, 90_000);
});

/** Polls `read` until `done` holds (bounded: 40 × 250 ms). */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 40 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    value = await read();
  }
  if (!done(value))
    throw new Error(`condition not reached; last value ${JSON.stringify(value).slice(0, 500)}`);
  return value;
}
