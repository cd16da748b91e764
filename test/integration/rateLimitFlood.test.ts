/**
 * A bounded loopback flood against the local face with its default rate limits (local/main.ts in a child
 * process): one connection sends 300 frames in under 2 s, then keeps going until the gateway closes it.
 * The server must stay healthy and serve a fresh connection. At most 700 frames, all on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '#local/rateLimitConfig';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

const FLOOD_FRAMES = 300;
const MORE_FRAMES = 400;

interface Frame {
  type: string;
  code?: string;
  retryAfterMs?: number;
  clientMessageId?: string;
}

describe('rate limits of the local face under a flood', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-flood-'));
  let face: LocalFaceProcess;
  const sockets: TestWebSocket[] = [];

  beforeAll(async () => {
    // Default limits: nothing RATE_LIMIT_* is set.
    face = await startLocalFaceProcess(dataDir, { SMTP_PORT: '0' });
  }, 90_000);

  afterAll(async () => {
    for (const ws of sockets) ws.socket.terminate();
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const open = async () => {
    const ws = await connectWebSocket(face.wsUrl);
    sockets.push(ws);
    return ws;
  };

  it('answers most of a 300-frame burst with RateLimited, closes the flooder with 1008, and keeps serving', async () => {
    // Prepare
    const flooder = await open();
    const frame = (i: number) =>
      JSON.stringify({
        action: 'sendMessage',
        text: 'How do I reset my password?',
        clientMessageId: `f-${i}`,
      });

    // Act 1: 300 frames as fast as the socket takes them
    const started = performance.now();
    for (let i = 0; i < FLOOD_FRAMES; i++) flooder.socket.send(frame(i));
    const sendMs = performance.now() - started;
    const answers: Frame[] = [];
    for (let i = 0; i < FLOOD_FRAMES; i++)
      answers.push(JSON.parse(await flooder.messages.next(20_000)) as Frame);
    const limited = answers.filter((a) => a.type === 'error' && a.code === 'RateLimited');
    const served = answers.filter((a) => a.type === 'reply' || a.type === 'escalated');
    const stillOpen = flooder.socket.readyState === flooder.socket.OPEN;

    // Act 2: keep flooding; past ten times what the limit admits in 10 s the gateway hangs up
    for (let i = 0; i < MORE_FRAMES && flooder.socket.readyState === flooder.socket.OPEN; i++)
      flooder.socket.send(frame(FLOOD_FRAMES + i));
    const closed = await flooder.closed;

    // Act 3: the server and a newcomer
    const healthStarted = performance.now();
    const health = await fetch(`${face.url}/api/health`);
    const healthMs = performance.now() - healthStarted;
    const newcomer = await open();
    newcomer.socket.send(
      JSON.stringify({ action: 'sendMessage', text: 'How do I reset a forgotten password?' }),
    );
    const welcome = JSON.parse(await newcomer.messages.next(10_000)) as Frame;

    console.info(
      `flood: ${FLOOD_FRAMES} frames sent in ${sendMs.toFixed(0)} ms on one connection -> ${limited.length} RateLimited, ` +
        `${served.length} answered; connection closed with ${closed.code} after ${flooder.messages.history.length} ` +
        `answers in all; health ${health.status} in ${healthMs.toFixed(0)} ms; fresh connection got ${welcome.type}`,
    );

    // Assess
    expect(sendMs).toBeLessThan(2000);
    expect(limited.length).toBeGreaterThan(FLOOD_FRAMES * 0.9);
    expect(served.length).toBeLessThanOrEqual(DEFAULT_RATE_LIMITS.messagesPerConnection.capacity + 5);
    expect(served.length + limited.length).toBe(FLOOD_FRAMES);
    expect(limited[0]?.retryAfterMs).toBeGreaterThan(0);
    expect(stillOpen).toBe(true);
    expect(closed.code).toBe(1008);
    expect(health.status).toBe(200);
    expect(welcome.type).toBe('reply');
    expect(face.child.exitCode).toBeNull();
  }, 120_000);
});
