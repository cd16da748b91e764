import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type OutgoingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { OffsetClock } from '#core/offsetClock';
import {
  type LocalGateway,
  type LocalGatewayOptions,
  type RestHandler,
  startLocalGateway,
  type WebSocketEvent,
  type WebSocketHandler,
} from '#local/gateway';
import { AsyncQueue } from '../support/asyncQueue';
import { connectWebSocket } from '../support/webSocketClient';

const MiB = 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CONNECTION_ID = /^[A-Za-z0-9_-]{15}=$/;

interface LoggedError {
  msg: string;
  extra?: object;
}

/** Starts a gateway on an ephemeral port with a recording logger; closed when the test finishes. */
async function startGateway(overrides: Partial<LocalGatewayOptions> = {}) {
  const loggedErrors: LoggedError[] = [];
  const gateway = await startLocalGateway({
    port: 0,
    rest: [],
    websocket: { path: '/ws', routes: {} },
    logger: { info: () => {}, error: (msg, extra) => loggedErrors.push({ msg, extra }) },
    ...overrides,
  });
  onTestFinished(() => gateway.close());
  return { gateway, loggedErrors };
}

/** maxAttempts 1 surfaces throttling at once instead of after the SDK's retry backoff. */
function managementClientFor(gateway: LocalGateway, maxAttempts?: number): ApiGatewayManagementApiClient {
  const client = new ApiGatewayManagementApiClient({
    endpoint: gateway.managementEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    maxAttempts,
  });
  onTestFinished(() => client.destroy());
  return client;
}

function recordingRestHandler(result: APIGatewayProxyResult = { statusCode: 200, body: '{}' }) {
  const calls = new AsyncQueue<{ event: APIGatewayProxyEvent; context: Context }>('REST invocation');
  const handler: RestHandler = async (event, context) => {
    calls.push({ event, context });
    return result;
  };
  return { handler, calls };
}

function recordingWebSocketHandler(result: Awaited<ReturnType<WebSocketHandler>> = { statusCode: 200 }) {
  const events = new AsyncQueue<WebSocketEvent>('WebSocket invocation');
  const handler: WebSocketHandler = async (event) => {
    events.push(event);
    return result;
  };
  return { handler, events };
}

/** node:http sends the path verbatim (fetch would normalise '..') and repeated headers as separate lines. */
function sendRaw(
  gateway: LocalGateway,
  options: { method?: string; path: string; headers?: OutgoingHttpHeaders; body?: string | Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port: gateway.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
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

async function rejectionOf(pending: Promise<unknown>): Promise<Error> {
  try {
    await pending;
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected the call to be rejected');
}

async function upgradeFailure(url: string, protocols?: string[]): Promise<Error> {
  const socket = new WebSocket(url, protocols);
  const [error] = (await once(socket, 'error')) as [Error];
  return error;
}

describe('local API Gateway — REST proxy integration', () => {
  it('passes a proxy event with path parameters, multi-value query and headers, and a Lambda context', async () => {
    // Prepare
    const caseRoute = recordingRestHandler();
    const { gateway } = await startGateway({
      rest: [{ method: 'GET', resource: '/api/cases/{id}', handler: caseRoute.handler }],
    });

    // Act
    const response = await sendRaw(gateway, {
      path: '/api/cases/c-42?tag=billing&tag=urgent&lang=en%20GB',
      headers: { 'x-tenant': 'acme', 'x-trace': ['first', 'second'] },
    });
    const { event, context } = await caseRoute.calls.next();

    // Assess
    expect(response.status).toBe(200);
    expect(event).toMatchObject({
      resource: '/api/cases/{id}',
      path: '/api/cases/c-42',
      httpMethod: 'GET',
      pathParameters: { id: 'c-42' },
      queryStringParameters: { tag: 'urgent', lang: 'en GB' },
      multiValueQueryStringParameters: { tag: ['billing', 'urgent'], lang: ['en GB'] },
      body: null,
      isBase64Encoded: false,
      requestContext: {
        resourcePath: '/api/cases/{id}',
        httpMethod: 'GET',
        path: '/api/cases/c-42',
        stage: 'local',
        identity: { sourceIp: '127.0.0.1' },
      },
    });
    expect(event.headers['x-tenant']).toBe('acme');
    expect(event.headers['x-trace']).toBe('second');
    expect(event.multiValueHeaders['x-trace']).toEqual(['first', 'second']);
    expect(event.requestContext.requestId).toMatch(UUID);
    expect(event.requestContext.requestTimeEpoch).toBeGreaterThan(Date.now() - 60_000);
    expect(context.awsRequestId).toMatch(UUID);
    expect(context.functionName).not.toBe('');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('routes to the most specific resource: literal beats parameter beats greedy proxy', async () => {
    // Prepare
    const proxy = recordingRestHandler();
    const byId = recordingRestHandler();
    const open = recordingRestHandler();
    const { gateway } = await startGateway({
      rest: [
        { method: 'ANY', resource: '/api/{proxy+}', handler: proxy.handler },
        { method: 'GET', resource: '/api/cases/{id}', handler: byId.handler },
        { method: 'GET', resource: '/api/cases/open', handler: open.handler },
      ],
    });

    // Act
    await fetch(`${gateway.url}/api/cases/open`);
    await fetch(`${gateway.url}/api/cases/c%207`); // decoded; an encoded '/' would be refused (400)
    await fetch(`${gateway.url}/api/kb/articles/refund-policy`, { method: 'DELETE' });

    // Assess
    expect((await open.calls.next()).event.pathParameters).toBeNull();
    expect((await byId.calls.next()).event.pathParameters).toEqual({ id: 'c 7' });
    const proxied = (await proxy.calls.next()).event;
    expect(proxied.pathParameters).toEqual({ proxy: 'kb/articles/refund-policy' });
    expect(proxied.httpMethod).toBe('DELETE');
    expect(proxied.resource).toBe('/api/{proxy+}');
  });

  it('passes text bodies as utf8 and other content types as base64', async () => {
    // Prepare
    const upload = recordingRestHandler();
    const { gateway } = await startGateway({
      rest: [{ method: 'POST', resource: '/api/attachments', handler: upload.handler }],
    });

    // Act
    await fetch(`${gateway.url}/api/attachments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ note: 'café' }),
    });
    await fetch(`${gateway.url}/api/attachments`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([0, 255, 1]),
    });

    // Assess
    const text = (await upload.calls.next()).event;
    const binary = (await upload.calls.next()).event;
    expect(text).toMatchObject({ body: '{"note":"café"}', isBase64Encoded: false });
    expect(binary).toMatchObject({ body: 'AP8B', isBase64Encoded: true });
  });

  it("writes the handler's status, headers, several Set-Cookie values and a base64 body", async () => {
    // Prepare
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const { gateway } = await startGateway({
      rest: [
        {
          method: 'POST',
          resource: '/api/sessions',
          handler: async () => ({
            statusCode: 201,
            headers: { 'x-case-id': 'c-1' },
            multiValueHeaders: { 'set-cookie': ['sid=abc; Path=/', 'tenant=acme; Path=/'] },
            body: JSON.stringify({ created: true }),
          }),
        },
        {
          method: 'GET',
          resource: '/api/avatar',
          handler: async () => ({
            statusCode: 200,
            headers: { 'content-type': 'image/png' },
            body: png.toString('base64'),
            isBase64Encoded: true,
          }),
        },
      ],
    });

    // Act
    const created = await fetch(`${gateway.url}/api/sessions`, { method: 'POST' });
    const avatar = await fetch(`${gateway.url}/api/avatar`);

    // Assess
    expect(created.status).toBe(201);
    expect(created.headers.get('x-case-id')).toBe('c-1');
    expect(created.headers.get('content-type')).toBe('application/json');
    expect(created.headers.getSetCookie()).toEqual(['sid=abc; Path=/', 'tenant=acme; Path=/']);
    expect(await created.json()).toEqual({ created: true });
    expect(avatar.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await avatar.arrayBuffer())).toEqual(png);
  });

  it('answers 404 for an unknown path and 405 with Allow for a known path with the wrong method', async () => {
    // Prepare
    const cases = recordingRestHandler();
    const { gateway } = await startGateway({
      rest: [
        { method: 'GET', resource: '/api/cases/{id}', handler: cases.handler },
        { method: 'PATCH', resource: '/api/cases/{id}', handler: cases.handler },
      ],
    });

    // Act
    const unknown = await fetch(`${gateway.url}/api/nothing-here`);
    const wrongMethod = await fetch(`${gateway.url}/api/cases/c-1`, { method: 'DELETE' });

    // Assess
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'NotFound' } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, PATCH');
    expect(await wrongMethod.json()).toMatchObject({ error: { code: 'MethodNotAllowed' } });
    expect(cases.calls.history).toHaveLength(0);
  });

  it('rejects a request body over 1 MiB with 413 without invoking the handler', async () => {
    // Prepare
    const upload = recordingRestHandler();
    const { gateway } = await startGateway({
      rest: [{ method: 'POST', resource: '/api/attachments', handler: upload.handler }],
    });

    // Act
    const response = await fetch(`${gateway.url}/api/attachments`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(MiB + 1),
    });

    // Assess
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'PayloadTooLarge' } });
    expect(upload.calls.history).toHaveLength(0);
  });

  it('maps a throwing handler to a 500 without leaking the stack, and logs the error', async () => {
    // Prepare
    const { gateway, loggedErrors } = await startGateway({
      rest: [
        {
          method: 'GET',
          resource: '/api/cases',
          handler: async () => {
            throw new Error('table supportmax-cases not found');
          },
        },
      ],
    });

    // Act
    const response = await fetch(`${gateway.url}/api/cases`);
    const body = await response.text();

    // Assess
    expect(response.status).toBe(500);
    expect(JSON.parse(body)).toEqual({ error: { code: 'InternalError', message: 'Internal server error' } });
    expect(body).not.toContain('supportmax-cases');
    expect(loggedErrors).toEqual([
      expect.objectContaining({
        msg: 'REST handler failed',
        extra: expect.objectContaining({ error: 'Error: table supportmax-cases not found' }),
      }),
    ]);
  });

  it('answers 504 when the handler outlives the integration timeout', async () => {
    // Prepare
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { gateway } = await startGateway({
      integrationTimeoutMs: 50,
      rest: [
        {
          method: 'GET',
          resource: '/api/slow',
          handler: async () => {
            await stuck;
            return { statusCode: 200, body: '{}' };
          },
        },
      ],
    });

    // Act
    const response = await fetch(`${gateway.url}/api/slow`);
    release();

    // Assess
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: 'GatewayTimeout' } });
  });
});

describe('local API Gateway — static console', () => {
  async function consoleSite() {
    const root = await mkdtemp(join(tmpdir(), 'supportmax-gateway-'));
    onTestFinished(() => rm(root, { recursive: true, force: true }));
    const dir = join(root, 'web');
    await mkdir(dir);
    await writeFile(join(dir, 'index.html'), '<h1>SupportMax</h1>');
    await writeFile(join(dir, 'console.html'), '<h1>Agent console</h1>');
    await writeFile(join(dir, 'app.js'), 'export const ready = true;');
    await writeFile(join(dir, 'styles.css'), 'body { margin: 0 }');
    await writeFile(join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(root, 'secret.txt'), 'top secret');
    return { dir, pages: { '/': 'index.html', '/console': 'console.html' } };
  }

  it('serves pages and assets with their content types, and html with Cache-Control no-cache', async () => {
    // Prepare
    const { gateway } = await startGateway({ staticFiles: await consoleSite() });

    // Act
    const home = await fetch(`${gateway.url}/`);
    const agentConsole = await fetch(`${gateway.url}/console`);
    const script = await fetch(`${gateway.url}/app.js`);
    const styles = await fetch(`${gateway.url}/styles.css`);
    const logo = await fetch(`${gateway.url}/logo.svg`);

    // Assess
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(home.headers.get('cache-control')).toBe('no-cache');
    expect(await home.text()).toBe('<h1>SupportMax</h1>');
    expect(await agentConsole.text()).toBe('<h1>Agent console</h1>');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBeNull();
    expect(styles.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(logo.headers.get('content-type')).toBe('image/svg+xml');
  });

  it('answers 404 to path traversal attempts, raw or percent-encoded', async () => {
    // Prepare
    const { gateway } = await startGateway({ staticFiles: await consoleSite() });
    const attempts = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/%252e%252e%252fsecret.txt',
      '/..%5csecret.txt',
      '/web/../../secret.txt',
    ];

    // Act
    const responses = await Promise.all(attempts.map((path) => sendRaw(gateway, { path })));

    // Assess
    for (const response of responses) {
      expect(response.status).toBe(404);
      expect(response.body).not.toContain('top secret');
    }
  });
});

describe('local API Gateway — WebSocket API', () => {
  it('calls $connect with headers, query and source ip, then routes messages by action or to $default', async () => {
    // Prepare
    const connect = recordingWebSocketHandler();
    const sendMessage = recordingWebSocketHandler();
    const fallback = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: {
        path: '/ws',
        routes: { $connect: connect.handler, sendMessage: sendMessage.handler, $default: fallback.handler },
      },
    });

    // Act
    const client = await connectWebSocket(`${gateway.wsUrl}?tenant=acme`, {
      headers: { 'x-api-key': 'k-1' },
    });
    const connected = await connect.events.next();
    client.socket.send(JSON.stringify({ action: 'sendMessage', text: 'my parcel is late' }));
    const routed = await sendMessage.events.next();
    client.socket.send('not json');
    client.socket.send(JSON.stringify({ action: 'noSuchRoute' }));
    const defaulted = [await fallback.events.next(), await fallback.events.next()];

    // Assess
    const { connectionId } = connected.requestContext;
    expect(connectionId).toMatch(CONNECTION_ID);
    expect(connected).toMatchObject({
      requestContext: {
        eventType: 'CONNECT',
        routeKey: '$connect',
        stage: 'local',
        identity: { sourceIp: '127.0.0.1' },
      },
      headers: { 'x-api-key': 'k-1' },
      queryStringParameters: { tenant: 'acme' },
      isBase64Encoded: false,
    });
    expect(routed).toMatchObject({
      requestContext: { eventType: 'MESSAGE', routeKey: 'sendMessage', connectionId },
      body: JSON.stringify({ action: 'sendMessage', text: 'my parcel is late' }),
    });
    expect(routed.requestContext.messageId).toEqual(expect.any(String));
    expect(defaulted.map((event) => [event.requestContext.routeKey, event.body])).toEqual([
      ['$default', 'not json'],
      ['$default', JSON.stringify({ action: 'noSuchRoute' })],
    ]);
    expect(gateway.connectionCount).toBe(1);
  });

  it('delivers replies a handler posts through the real ApiGatewayManagementApiClient, and answers GetConnection', async () => {
    // Prepare
    let management: ApiGatewayManagementApiClient | undefined;
    const echo: WebSocketHandler = async (event) => {
      const { text } = JSON.parse(event.body ?? '{}') as { text: string };
      await management?.send(
        new PostToConnectionCommand({
          ConnectionId: event.requestContext.connectionId,
          Data: JSON.stringify({ reply: `echo: ${text}` }),
        }),
      );
      return { statusCode: 200 };
    };
    const connect = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: { path: '/ws', routes: { $connect: connect.handler, sendMessage: echo } },
    });
    management = managementClientFor(gateway);
    const client = await connectWebSocket(gateway.wsUrl, {
      headers: { 'user-agent': 'supportmax-widget/1.0' },
    });
    const { connectionId } = (await connect.events.next()).requestContext;

    // Act
    client.socket.send(JSON.stringify({ action: 'sendMessage', text: 'hello' }));
    const reply = await client.messages.next();
    const connection = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));

    // Assess
    expect(JSON.parse(reply)).toEqual({ reply: 'echo: hello' });
    expect(connection.ConnectedAt).toBeInstanceOf(Date);
    expect(connection.LastActiveAt?.getTime()).toBeGreaterThanOrEqual(connection.ConnectedAt?.getTime() ?? 0);
    expect(connection.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'supportmax-widget/1.0' });
  });

  it('reports a connection the client closed as GoneException and calls $disconnect exactly once', async () => {
    // Prepare
    const connect = recordingWebSocketHandler();
    const disconnect = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: { path: '/ws', routes: { $connect: connect.handler, $disconnect: disconnect.handler } },
    });
    const management = managementClientFor(gateway);
    const client = await connectWebSocket(gateway.wsUrl);
    const { connectionId } = (await connect.events.next()).requestContext;

    // Act
    client.socket.close(1000, 'customer left');
    const disconnected = await disconnect.events.next();
    const postError = await rejectionOf(
      management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'anyone there?' })),
    );
    const getError = await rejectionOf(
      management.send(new GetConnectionCommand({ ConnectionId: connectionId })),
    );
    await gateway.close();

    // Assess
    expect(postError.name).toBe('GoneException');
    expect(getError.name).toBe('GoneException');
    expect(disconnected.requestContext).toMatchObject({
      eventType: 'DISCONNECT',
      routeKey: '$disconnect',
      connectionId,
      disconnectStatusCode: 1000,
      disconnectReason: 'customer left',
    });
    expect(disconnect.events.history).toHaveLength(1);
  });

  it('closes the socket on DeleteConnection', async () => {
    // Prepare
    const connect = recordingWebSocketHandler();
    const disconnect = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: { path: '/ws', routes: { $connect: connect.handler, $disconnect: disconnect.handler } },
    });
    const management = managementClientFor(gateway);
    const client = await connectWebSocket(gateway.wsUrl);
    const { connectionId } = (await connect.events.next()).requestContext;

    // Act
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    const closed = await client.closed;
    await disconnect.events.next();

    // Assess
    expect(closed.code).toBe(1000);
    expect(gateway.connectionCount).toBe(0);
  });

  it('rejects the upgrade with the status $connect returns and never calls $disconnect', async () => {
    // Prepare
    const disconnect = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: {
        path: '/ws',
        routes: {
          $connect: async () => ({ statusCode: 401, body: 'Unauthorized' }),
          $disconnect: disconnect.handler,
        },
      },
    });

    // Act
    const error = await upgradeFailure(gateway.wsUrl);
    await gateway.close();

    // Assess
    expect(error.message).toBe('Unexpected server response: 401');
    expect(disconnect.events.history).toHaveLength(0);
  });

  it('echoes the subprotocol $connect selects, as browsers require', async () => {
    // Prepare
    const { gateway } = await startGateway({
      websocket: {
        path: '/ws',
        routes: {
          $connect: async () => ({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'supportmax.v1' } }),
        },
      },
    });

    // Act
    const client = await connectWebSocket(gateway.wsUrl);
    const withProtocol = new WebSocket(gateway.wsUrl, ['supportmax.v1', 'token.abc']);
    await once(withProtocol, 'open');
    onTestFinished(() => withProtocol.terminate());

    // Assess
    expect(client.socket.protocol).toBe('');
    expect(withProtocol.protocol).toBe('supportmax.v1');
  });

  it('answers 404 to upgrades on other paths', async () => {
    // Prepare
    const { gateway } = await startGateway();

    // Act
    const error = await upgradeFailure(`${gateway.url.replace('http', 'ws')}/socket`);

    // Assess
    expect(error.message).toBe('Unexpected server response: 404');
  });

  it('sends {"message":"Internal server error"} when a route handler throws and keeps the connection open', async () => {
    // Prepare
    const fallback = recordingWebSocketHandler();
    const { gateway, loggedErrors } = await startGateway({
      websocket: {
        path: '/ws',
        routes: {
          escalate: async () => {
            throw new Error('crm unreachable');
          },
          $default: fallback.handler,
        },
      },
    });
    const client = await connectWebSocket(gateway.wsUrl);

    // Act
    client.socket.send(JSON.stringify({ action: 'escalate' }));
    const errorFrame = await client.messages.next();
    client.socket.send('still there?');
    const followUp = await fallback.events.next();

    // Assess
    expect(errorFrame).toBe('{"message":"Internal server error"}');
    expect(followUp.body).toBe('still there?');
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
    expect(loggedErrors).toEqual([
      expect.objectContaining({
        msg: 'WebSocket route handler failed',
        extra: expect.objectContaining({ routeKey: 'escalate', error: 'Error: crm unreachable' }),
      }),
    ]);
  });

  it('closes the connection with 1009 when a frame exceeds the message limit', async () => {
    // Prepare
    const fallback = recordingWebSocketHandler();
    const disconnect = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: { path: '/ws', routes: { $default: fallback.handler, $disconnect: disconnect.handler } },
    });
    const client = await connectWebSocket(gateway.wsUrl);

    // Act
    client.socket.send('x'.repeat(2 * MiB));
    const closed = await client.closed;
    await disconnect.events.next();

    // Assess
    expect(closed.code).toBe(1009);
    expect(fallback.events.history).toHaveLength(0);
  });

  it('closes the connection with 1003 on a binary frame, as API Gateway does', async () => {
    // Prepare
    const fallback = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: { path: '/ws', routes: { $default: fallback.handler } },
    });
    const client = await connectWebSocket(gateway.wsUrl);

    // Act
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    const closed = await client.closed;

    // Assess
    expect(closed.code).toBe(1003);
    expect(fallback.events.history).toHaveLength(0);
  });

  it('answers PostToConnection with LimitExceededException instead of buffering for a client that stops reading', async () => {
    // Prepare
    const connect = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: { path: '/ws', routes: { $connect: connect.handler } },
    });
    const management = managementClientFor(gateway, 1);
    const client = await connectWebSocket(gateway.wsUrl);
    const { connectionId } = (await connect.events.next()).requestContext;
    client.socket.pause();
    const chunk = Buffer.alloc(MiB - 1024, 'x');

    // Act
    let rejection: Error | undefined;
    for (let attempt = 0; attempt < 128 && !rejection; attempt++) {
      rejection = await management
        .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: chunk }))
        .then(() => undefined)
        .catch((error: unknown) => error as Error);
    }

    // Assess
    expect(rejection?.name).toBe('LimitExceededException');
  });

  it('close() terminates live connections and calls $disconnect for each', async () => {
    // Prepare
    const disconnect = recordingWebSocketHandler();
    const { gateway } = await startGateway({
      websocket: { path: '/ws', routes: { $disconnect: disconnect.handler } },
    });
    const clients = [await connectWebSocket(gateway.wsUrl), await connectWebSocket(gateway.wsUrl)];

    // Act
    await gateway.close();
    await Promise.all(clients.map((client) => client.closed));

    // Assess
    expect(disconnect.events.history).toHaveLength(2);
    expect(gateway.connectionCount).toBe(0);
  });
});

describe('local API Gateway — controlled clock', () => {
  it('moves the given clock on POST /@clock and reads it on GET', async () => {
    // Prepare
    const clock = new OffsetClock();
    const { gateway } = await startGateway({ clock });
    const post = (body: string) =>
      sendRaw(gateway, {
        method: 'POST',
        path: '/@clock',
        body,
        headers: { 'content-type': 'application/json' },
      });
    const start = Date.UTC(2031, 0, 1);

    // Act
    const set = await post(JSON.stringify({ set: start }));
    const advanced = await post(JSON.stringify({ advanceMs: 90 * 60_000 }));
    const read = await sendRaw(gateway, { path: '/@clock' });

    // Assess
    expect(set).toMatchObject({ status: 200, body: JSON.stringify({ now: start }) });
    expect(JSON.parse(advanced.body).now).toBeGreaterThanOrEqual(start + 90 * 60_000);
    expect(JSON.parse(read.body).now - (start + 90 * 60_000)).toBeLessThan(5_000);
    expect(clock.now() - (start + 90 * 60_000)).toBeLessThan(5_000);
  });

  it('answers 400 to bodies that are not one advanceMs or set number, and 405 to other methods', async () => {
    const clock = new OffsetClock();
    const { gateway } = await startGateway({ clock });
    const post = (body: string) => sendRaw(gateway, { method: 'POST', path: '/@clock', body });
    for (const body of [
      '{',
      '{}',
      '{"advanceMs": "5"}',
      '{"advanceMs": -1}',
      '{"set": 1, "advanceMs": 1}',
      '[1]',
    ]) {
      expect((await post(body)).status, body).toBe(400);
    }
    expect((await sendRaw(gateway, { method: 'DELETE', path: '/@clock' })).status).toBe(405);
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(5_000);
  });

  it('has no /@clock route unless a clock is given', async () => {
    const { gateway } = await startGateway();
    const response = await sendRaw(gateway, { method: 'POST', path: '/@clock', body: '{"advanceMs": 1}' });
    expect(response.status).toBe(404);
  });
});
