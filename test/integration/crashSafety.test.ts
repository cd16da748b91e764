/**
 * kill -9 under load: customers stream messages at the local face (child process), the process is killed
 * with SIGKILL mid-stream and restarted on the same DATA_DIR. Every message the server acknowledged (a
 * reply or escalation frame naming its clientMessageId) must be stored exactly once with exactly one answer;
 * clients reconnect, resend what was not acknowledged (same clientMessageId) and carry on in the same
 * conversation. Loopback only; bounded in count and time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { localAwsClientConfig, startDynamo } from '#local/dynamoServer';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import { OPERATOR_TEST_ENV } from '../support/operatorLogin';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

const CLIENTS = 6;
const MESSAGES_PER_CLIENT = 10;
const SPACING_MS = 120;
const KILL_AFTER_MS = 650;

// biome-ignore lint/suspicious/noExplicitAny: frames are read field by field
type Frame = Record<string, any>;

/** KB questions: answered by the bot, so every message gets an acknowledging frame. */
const QUESTIONS = readFileSync(
  join(import.meta.dirname, '..', '..', 'data', 'kb', 'billing_subscriptions.jsonl'),
  'utf8',
)
  .split('\n')
  .filter(Boolean)
  .map((line) => (JSON.parse(line) as { question: string }).question);

interface Customer {
  readonly name: string;
  conversationId?: string;
  readonly acked: Set<string>;
  readonly sent: string[];
  readonly errors: string[];
}

function listen(ws: TestWebSocket, customer: Customer) {
  ws.socket.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Frame;
    if (typeof frame.conversationId === 'string') customer.conversationId ??= frame.conversationId;
    if ((frame.type === 'reply' || frame.type === 'escalated') && frame.clientMessageId) {
      customer.acked.add(frame.clientMessageId);
    }
    if (frame.type === 'error') customer.errors.push(`${frame.code}: ${frame.message}`);
  });
}

const send = (ws: TestWebSocket, customer: Customer, clientMessageId: string, text: string) => {
  if (ws.socket.readyState !== ws.socket.OPEN) return;
  ws.socket.send(
    JSON.stringify({
      action: 'sendMessage',
      text,
      clientMessageId,
      ...(customer.conversationId ? { conversationId: customer.conversationId } : {}),
    }),
  );
};

describe('crash safety', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-crash-'));
  // Loopback load from one IP: lift the per-IP limits the rate limiter would otherwise apply.
  const env = {
    ...OPERATOR_TEST_ENV,
    RATE_LIMIT_MESSAGES_PER_IP: '1000',
    RATE_LIMIT_MESSAGES_PER_IP_BURST: '1000',
    RATE_LIMIT_MESSAGES_PER_CONNECTION: '1000',
    RATE_LIMIT_MESSAGES_PER_CONNECTION_BURST: '1000',
  };
  let face: LocalFaceProcess | undefined;
  afterAll(async () => {
    await face?.stop(true);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged message exactly once across a kill -9, and clients resume', async () => {
    // Prepare: customers each open a conversation (first message answered before the stream starts)
    face = await startLocalFaceProcess(dataDir, env);
    const customers: Customer[] = Array.from({ length: CLIENTS }, (_, i) => ({
      name: `c${i}`,
      acked: new Set<string>(),
      sent: [],
      errors: [],
    }));
    const sockets = await Promise.all(customers.map(() => connectWebSocket(face!.wsUrl)));
    customers.forEach((c, i) => listen(sockets[i]!, c));
    await Promise.all(
      customers.map(async (c, i) => {
        c.sent.push(`${c.name}-0`);
        send(sockets[i]!, c, `${c.name}-0`, QUESTIONS[i % QUESTIONS.length]!);
        for (let t = 0; t < 100 && !c.conversationId; t++) await new Promise((r) => setTimeout(r, 100));
      }),
    );
    expect(customers.every((c) => c.conversationId)).toBe(true);

    // Act 1: stream, and kill -9 mid-stream
    const streaming = customers.map(async (c, i) => {
      for (let m = 1; m <= MESSAGES_PER_CLIENT; m++) {
        const id = `${c.name}-${m}`;
        c.sent.push(id);
        send(sockets[i]!, c, id, QUESTIONS[(i * 7 + m) % QUESTIONS.length]!);
        await new Promise((r) => setTimeout(r, SPACING_MS));
      }
    });
    await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
    await face.stop(true);
    await Promise.all(streaming);
    const ackedBeforeKill = customers.reduce((n, c) => n + c.acked.size, 0);
    const sentBeforeKill = customers.reduce((n, c) => n + c.sent.length, 0);
    const ackedIds = new Map(customers.map((c) => [c.name, new Set(c.acked)]));

    // Act 2: restart; clients reconnect, resend what was not acknowledged, then ask one more question
    face = await startLocalFaceProcess(dataDir, env);
    const again = await Promise.all(customers.map(() => connectWebSocket(face!.wsUrl)));
    customers.forEach((c, i) => listen(again[i]!, c));
    for (const [i, c] of customers.entries()) {
      for (const id of c.sent.filter((s) => !c.acked.has(s))) {
        send(again[i]!, c, id, QUESTIONS[(i * 7 + Number(id.split('-')[1])) % QUESTIONS.length]!);
      }
      c.sent.push(`${c.name}-after`);
      send(again[i]!, c, `${c.name}-after`, QUESTIONS[(i + 3) % QUESTIONS.length]!);
    }
    for (let t = 0; t < 300 && customers.some((c) => c.sent.some((s) => !c.acked.has(s))); t++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(customers.flatMap((c) => c.errors)).toEqual([]);
    for (const ws of again) ws.socket.close();
    await face.stop();
    face = undefined;

    // Assess: read the tables directly
    const dynamo = await startDynamo({ dataDir });
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsClientConfig(dynamo.endpoint)));
    try {
      let recovered = 0;
      for (const c of customers) {
        const { Items = [] } = await documents.send(
          new QueryCommand({
            TableName: 'supportmax-messages',
            KeyConditionExpression: 'conversationId = :c',
            ExpressionAttributeValues: { ':c': c.conversationId },
            ConsistentRead: true,
          }),
        );
        const customerMessages = Items.filter((m) => m.role === 'customer');
        const byClientId = new Map<string, number>();
        for (const m of customerMessages) {
          byClientId.set(m.clientMessageId, (byClientId.get(m.clientMessageId) ?? 0) + 1);
        }
        // Every acknowledged message exactly once, with exactly one answer.
        for (const id of ackedIds.get(c.name)!) {
          expect(byClientId.get(id), `${id} stored`).toBe(1);
          const answers = Items.filter(
            (m) => m.role !== 'customer' && m.clientMessageId === id && m.replyTo !== undefined,
          );
          expect(answers, `${id} answered once`).toHaveLength(1);
        }
        // After the resend, everything sent is there, once; the conversation went on after the restart.
        for (const id of c.sent) expect(byClientId.get(id), `${id} after resend`).toBe(1);
        expect(c.acked.has(`${c.name}-after`)).toBe(true);
        recovered += c.sent.filter((id) => !ackedIds.get(c.name)!.has(id)).length;
      }
      console.info(
        `kill -9: sent ${sentBeforeKill} before the kill, ${ackedBeforeKill} acknowledged, ` +
          `${recovered} resent and recovered after restart, 0 lost, 0 duplicated`,
      );
      expect(ackedBeforeKill).toBeGreaterThan(0);
      expect(ackedBeforeKill).toBeLessThan(sentBeforeKill);
    } finally {
      documents.destroy();
      await dynamo.close();
    }
  }, 120_000);
});
