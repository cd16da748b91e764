/**
 * The local gateway's edge protections: token-bucket rate limits per IP and per connection (429 upgrades,
 * RateLimited frames answered by the gateway itself, 1008 after sustained abuse, 429 REST with
 * Retry-After), and path segments that could escape their parameter. Loopback only, bounded in count.
 */
import { request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import {
  type LocalGatewayOptions,
  type RestHandler,
  startLocalGateway,
  type WebSocketHandler,
} from '#local/gateway';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

async function startGateway(overrides: Partial<LocalGatewayOptions>) {
  const gateway = await startLocalGateway({
    port: 0,
    rest: [],
    websocket: { path: '/ws', routes: {} },
    logger: { info: () => {}, error: () => {} },
    ...overrides,
  });
  onTestFinished(() => gateway.close());
  return gateway;
}

/** A $default route that counts its invocations and answers each frame with {"type":"ok"}. */
function countingRoute() {
  let calls = 0;
  const handler: WebSocketHandler = async () => {
    calls++;
    return { statusCode: 200 };
  };
  return {
    handler,
    get calls() {
      return calls;
    },
  };
}

function countingRest(result: APIGatewayProxyResult = { statusCode: 200, body: '{"ok":true}' }) {
  let calls = 0;
  const handler: RestHandler = async () => {
    calls++;
    return result;
  };
  return {
    handler,
    get calls() {
      return calls;
    },
  };
}

function get(
  port: number,
  path: string,
  options: { method?: string; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    // Node sends a GET body only with an explicit Content-Length.
    const headers = options.body ? { 'content-length': String(Buffer.byteLength(options.body)) } : {};
    const outgoing = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

const frames = async (ws: TestWebSocket, count: number) => {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) out.push(JSON.parse(await ws.messages.next()) as Record<string, unknown>);
  return out;
};

describe('local gateway rate limits — WebSocket', () => {
  it('refuses upgrades over the per-IP connect limit with 429, Retry-After and a RateLimited body', async () => {
    // Prepare
    const connect = countingRoute();
    const gateway = await startGateway({
      websocket: { path: '/ws', routes: { $connect: connect.handler } },
      rateLimits: { connectPerIp: { capacity: 2, refillPerSecond: 0.01 } },
    });
    const admitted = [await connectWebSocket(gateway.wsUrl), await connectWebSocket(gateway.wsUrl)];
    onTestFinished(() => admitted.forEach((ws) => ws.socket.close()));

    // Act
    const refused = await new Promise<{ status: number; retryAfter: string | undefined; body: string }>(
      (resolve) => {
        const socket = new WebSocket(gateway.wsUrl);
        socket.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }),
          );
        });
        socket.on('error', () => undefined);
      },
    );

    // Assess
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'RateLimited', retryAfterMs: expect.any(Number) });
    expect(connect.calls).toBe(2);
  });

  it('answers frames over the per-connection limit itself, without invoking the route, and keeps the connection', async () => {
    // Prepare
    const route = countingRoute();
    const gateway = await startGateway({
      websocket: { path: '/ws', routes: { $default: route.handler } },
      rateLimits: { messagesPerConnection: { capacity: 3, refillPerSecond: 10 } },
    });
    const ws = await connectWebSocket(gateway.wsUrl);
    onTestFinished(() => ws.socket.close());

    // Act
    for (let i = 0; i < 6; i++)
      ws.socket.send(JSON.stringify({ action: 'sendMessage', text: 'hi', clientMessageId: `c-${i}` }));
    const limited = await frames(ws, 3);
    await delay(150); // the bucket refills one token per 100 ms
    ws.socket.send(JSON.stringify({ action: 'sendMessage', text: 'again' }));
    await expect.poll(() => route.calls).toBe(4);

    // Assess
    expect(limited.map((f) => [f.type, f.code, f.clientMessageId])).toEqual([
      ['error', 'RateLimited', 'c-3'],
      ['error', 'RateLimited', 'c-4'],
      ['error', 'RateLimited', 'c-5'],
    ]);
    expect(limited[0]!.message).toMatch(/retry after \d+ ms/);
    expect(limited[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('shares the per-IP message budget across connections', async () => {
    // Prepare
    const route = countingRoute();
    const gateway = await startGateway({
      websocket: { path: '/ws', routes: { $default: route.handler } },
      rateLimits: { messagesPerIp: { capacity: 3, refillPerSecond: 0.01 } },
    });
    const [a, b] = [await connectWebSocket(gateway.wsUrl), await connectWebSocket(gateway.wsUrl)];
    onTestFinished(() => [a, b].forEach((ws) => ws.socket.close()));

    // Act
    a.socket.send('{}');
    a.socket.send('{}');
    await expect.poll(() => route.calls).toBe(2);
    b.socket.send('{}');
    b.socket.send('{}');
    const [limited] = await frames(b, 1);

    // Assess
    expect(limited).toMatchObject({ type: 'error', code: 'RateLimited' });
    expect(route.calls).toBe(3);
  });

  it('closes a connection with 1008 once its rejected frames reach ten times what the limit admits', async () => {
    // Prepare: 1 token, 0.1/s → 10 × (1 + 0.1 × 10) = 20 rejected frames within 10 s are tolerated
    const route = countingRoute();
    const gateway = await startGateway({
      websocket: { path: '/ws', routes: { $default: route.handler } },
      rateLimits: { messagesPerConnection: { capacity: 1, refillPerSecond: 0.1 } },
    });
    const ws = await connectWebSocket(gateway.wsUrl);

    // Act
    for (let i = 0; i < 40; i++) ws.socket.send('{}');
    const closed = await ws.closed;

    // Assess
    expect(closed).toEqual({ code: 1008, reason: 'Rate limit exceeded repeatedly' });
    expect(ws.messages.history.length).toBe(20);
    expect(route.calls).toBe(1);
  });
});

describe('local gateway rate limits — REST', () => {
  it('answers 429 RateLimited with Retry-After over the per-IP limit, without invoking the handler', async () => {
    // Prepare
    const rest = countingRest();
    const gateway = await startGateway({
      rest: [{ method: 'GET', resource: '/api/things', handler: rest.handler }],
      rateLimits: { restPerIp: { capacity: 3, refillPerSecond: 0.01 } },
    });

    // Act
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await get(gateway.port, '/api/things'));

    // Assess
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    expect(JSON.parse(responses[3]!.body)).toMatchObject({ error: { code: 'RateLimited' } });
    expect(Number(responses[3]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(rest.calls).toBe(3);
  });

  it('never limits the @connections management API the handlers use', async () => {
    // Prepare
    const gateway = await startGateway({
      rest: [{ method: 'GET', resource: '/api/things', handler: countingRest().handler }],
      rateLimits: { restPerIp: { capacity: 1, refillPerSecond: 0.01 } },
    });

    // Act
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(gateway.port, '/@connections/gone-id')).status);

    // Assess
    expect(statuses).toEqual([410, 410, 410, 410, 410]);
  });
});

describe('local gateway edge validation — REST', () => {
  it.each([
    '/api/cases/..',
    '/api/cases/%2e%2e',
    '/api/cases/..%2f..%2fetc%2fpasswd',
    '/api/cases/CS-1%2fX',
    '/api/cases/CS-1%00',
    '/api/cases/CS-1%5c..',
    '/api/cases/../health',
    '/api/%2e%2e/cases/CS-1',
  ])('refuses the traversal %s with 400 before any handler runs', async (path) => {
    // Prepare
    const rest = countingRest();
    const gateway = await startGateway({
      rest: [
        { method: 'GET', resource: '/api/cases/{caseId}', handler: rest.handler },
        { method: 'GET', resource: '/api/health', handler: rest.handler },
      ],
    });

    // Act
    const response = await get(gateway.port, path);

    // Assess
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'BadRequest' } });
    expect(rest.calls).toBe(0);
  });

  it('refuses a GET that carries a body with 400', async () => {
    // Prepare
    const rest = countingRest();
    const gateway = await startGateway({
      rest: [{ method: 'GET', resource: '/api/things', handler: rest.handler }],
    });

    // Act
    const response = await get(gateway.port, '/api/things', { body: '{"status":"open"}' });

    // Assess
    expect(response.status).toBe(400);
    expect(rest.calls).toBe(0);
  });
});
