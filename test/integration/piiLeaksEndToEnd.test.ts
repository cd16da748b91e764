/**
 * The PII corpus through the real handlers of the local face (local/main.ts in a child process) with
 * Bedrock configured and pointed at the Converse stub, and Powertools logging at DEBUG: no labelled PII
 * value may appear in what the model receives or in anything the process logs. Messages continue the
 * same conversation while it is answered, so earlier turns reach the model as history too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConverseStub, startConverseStub } from '../support/converseStub';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import { labelledPiiCount, piiCorpus, piiLeaksIn } from '../support/piiCorpus';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

/** Turns per conversation before a fresh one starts (history reaches the model as up to 6 turns). */
const TURNS_PER_CONVERSATION = 4;

describe('PII through the local face: model requests and logs', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-pii-'));
  let stub: ConverseStub;
  let face: LocalFaceProcess;
  const sockets: TestWebSocket[] = [];

  beforeAll(async () => {
    stub = await startConverseStub({ kind: 'answer', text: 'Here is how to do that.' });
    face = await startLocalFaceProcess(dataDir, {
      BEDROCK_SIMPLE_MODEL_ID: 'anthropic.claude-3-haiku-20240307-v1:0',
      BEDROCK_COMPLEX_MODEL_ID: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: stub.url,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      // Answer whatever retrieval finds: the point is what reaches the model, not answer quality.
      CONFIDENCE_THRESHOLD: '0',
      RATE_LIMITS: 'off',
      SMTP_PORT: '0',
    });
  }, 90_000);

  afterAll(async () => {
    for (const ws of sockets) ws.socket.terminate();
    await face?.stop();
    await stub?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends no labelled PII to the model and logs none of it', async () => {
    // Prepare
    const ws = await connectWebSocket(face.wsUrl);
    sockets.push(ws);
    const logStart = face.output().length;
    let conversationId: string | undefined;
    let turns = 0;
    const outcomes = new Map<string, number>();

    // Act: each corpus message, continuing the conversation while the bot answers
    for (const [index, line] of piiCorpus.entries()) {
      if (turns >= TURNS_PER_CONVERSATION) conversationId = undefined;
      ws.socket.send(
        JSON.stringify({
          action: 'sendMessage',
          text: line.text,
          clientMessageId: `pii-${index}`,
          ...(conversationId ? { conversationId } : {}),
        }),
      );
      const frame = JSON.parse(await ws.messages.next(20_000)) as { type: string; conversationId?: string };
      outcomes.set(frame.type, (outcomes.get(frame.type) ?? 0) + 1);
      // An escalated conversation goes to a human: later messages would be forwarded, not answered.
      conversationId = frame.type === 'reply' ? frame.conversationId : undefined;
      turns = frame.type === 'reply' ? turns + 1 : 0;
    }
    const logs = face.output().slice(logStart);
    const modelLeaks = piiLeaksIn(stub.requests.map((r) => JSON.stringify(r.body)).join('\n'));
    const logLeaks = piiLeaksIn(logs);

    // Assess
    console.info(
      `PII end to end: ${labelledPiiCount} labelled values checked; ${modelLeaks.length} in ${stub.requests.length} ` +
        `model requests, ${logLeaks.length} in ${logs.split('\n').length} log lines; turns ${[...outcomes]
          .map(([type, n]) => `${type}=${n}`)
          .join(' ')}`,
    );
    expect(outcomes.get('error')).toBeUndefined();
    expect(stub.requests.length).toBeGreaterThan(piiCorpus.length / 2);
    expect(logs.length).toBeGreaterThan(0);
    expect(modelLeaks).toEqual([]);
    expect(logLeaks).toEqual([]);
  }, 300_000);
});
