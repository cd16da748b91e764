/**
 * Lambda REQUEST authorizers in the local gateway, as API Gateway runs them: before the REST handler and
 * on a WebSocket $connect that carries the session cookie, with 401 / 403 / the context in
 * requestContext.authorizer.
 */
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import {
  type LambdaAuthorizer,
  type LocalGatewayOptions,
  type RestHandler,
  startLocalGateway,
  type WebSocketEvent,
} from '#local/gateway';
import { AsyncQueue } from '../support/asyncQueue';
import { connectWebSocket } from '../support/webSocketClient';

const COOKIE = 'session';

async function startGateway(overrides: Partial<LocalGatewayOptions>) {
  const errors: string[] = [];
  const gateway = await startLocalGateway({
    port: 0,
    rest: [],
    websocket: { path: '/ws', routes: {} },
    logger: { info: () => {}, error: (msg) => errors.push(msg) },
    ...overrides,
  });
  onTestFinished(() => gateway.close());
  return { gateway, errors };
}

/** Allows `let-me-in`, denies `deny-me` with a reason, throws Unauthorized otherwise. */
function cookieAuthorizer() {
  const calls: Parameters<LambdaAuthorizer>[0][] = [];
  const authorizer: LambdaAuthorizer = async (event) => {
    calls.push(event);
    const cookie = event.headers?.cookie ?? '';
    const policy = (Effect: 'Allow' | 'Deny'): APIGatewayAuthorizerResult['policyDocument'] => ({
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect, Resource: event.methodArn }],
    });
    if (cookie.includes(`${COOKIE}=let-me-in`)) {
      return {
        principalId: 'dana',
        policyDocument: policy('Allow'),
        context: { username: 'dana', roles: 'agent' },
      };
    }
    if (cookie.includes(`${COOKIE}=deny-me`)) {
      return {
        principalId: 'dana',
        policyDocument: policy('Deny'),
        context: { reason: 'missing x-csrf-token' },
      };
    }
    throw new Error('Unauthorized');
  };
  return { authorizer, calls };
}

function recordingHandler() {
  const events: APIGatewayProxyEvent[] = [];
  const handler: RestHandler = async (event) => {
    events.push(event);
    return { statusCode: 200, body: '{"ok":true}' };
  };
  return { handler, events };
}

describe('local gateway authorizers', () => {
  it('answers 401 without a session and never calls the handler', async () => {
    // Prepare
    const { authorizer } = cookieAuthorizer();
    const cases = recordingHandler();
    const { gateway } = await startGateway({
      rest: [{ method: 'GET', resource: '/api/cases', handler: cases.handler, authorizer }],
    });

    // Act
    const response = await fetch(`${gateway.url}/api/cases`);

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'Unauthorized', message: 'Unauthorized' } });
    expect(cases.events).toHaveLength(0);
  });

  it('answers 403 with the reason on a Deny policy', async () => {
    // Prepare
    const { authorizer } = cookieAuthorizer();
    const cases = recordingHandler();
    const { gateway } = await startGateway({
      rest: [{ method: 'POST', resource: '/api/cases/{id}/resolve', handler: cases.handler, authorizer }],
    });

    // Act
    const response = await fetch(`${gateway.url}/api/cases/c-1/resolve`, {
      method: 'POST',
      headers: { cookie: `${COOKIE}=deny-me` },
    });

    // Assess
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: { code: 'Forbidden', message: 'missing x-csrf-token' } });
    expect(cases.events).toHaveLength(0);
  });

  it('passes the REQUEST event to the authorizer and its principal and context to the handler', async () => {
    // Prepare
    const { authorizer, calls } = cookieAuthorizer();
    const cases = recordingHandler();
    const health = recordingHandler();
    const { gateway } = await startGateway({
      rest: [
        { method: 'GET', resource: '/api/cases/{id}', handler: cases.handler, authorizer },
        { method: 'GET', resource: '/api/health', handler: health.handler },
      ],
    });

    // Act
    const response = await fetch(`${gateway.url}/api/cases/c-7?x=1`, {
      headers: { cookie: `${COOKIE}=let-me-in` },
    });
    await fetch(`${gateway.url}/api/health`);

    // Assess
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      type: 'REQUEST',
      methodArn: expect.stringMatching(
        /^arn:aws:execute-api:[^:]+:\d{12}:[^/]+\/local\/GET\/api\/cases\/c-7$/,
      ),
      httpMethod: 'GET',
      resource: '/api/cases/{id}',
      headers: expect.objectContaining({ cookie: `${COOKIE}=let-me-in` }),
      queryStringParameters: { x: '1' },
    });
    expect(cases.events[0]?.requestContext.authorizer).toEqual({
      principalId: 'dana',
      username: 'dana',
      roles: 'agent',
    });
    expect(health.events[0]?.requestContext.authorizer).toBeUndefined();
  });

  it('answers 500 when the authorizer fails otherwise, or allows another resource only', async () => {
    // Prepare
    const failing: LambdaAuthorizer = async () => {
      throw new Error('table missing');
    };
    const elsewhere: LambdaAuthorizer = async () => ({
      principalId: 'dana',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: 'arn:aws:execute-api:*:*:*/*/GET/api/x',
          },
        ],
      },
    });
    const cases = recordingHandler();
    const { gateway, errors } = await startGateway({
      rest: [
        { method: 'GET', resource: '/api/a', handler: cases.handler, authorizer: failing },
        { method: 'GET', resource: '/api/b', handler: cases.handler, authorizer: elsewhere },
      ],
    });

    // Act
    const failed = await fetch(`${gateway.url}/api/a`);
    const notAllowed = await fetch(`${gateway.url}/api/b`);

    // Assess
    expect(failed.status).toBe(500);
    expect(errors).toContain('Authorizer failed');
    expect(notAllowed.status).toBe(403);
    expect(cases.events).toHaveLength(0);
  });

  it('authorizes a $connect with the session cookie and passes the context on every event of it', async () => {
    // Prepare
    const { authorizer, calls } = cookieAuthorizer();
    const events = new AsyncQueue<WebSocketEvent>('WebSocket event');
    const record = async (event: WebSocketEvent) => {
      events.push(event);
      return { statusCode: 200 };
    };
    const { gateway } = await startGateway({
      websocket: {
        path: '/ws',
        routes: { $connect: record, $default: record },
        connectAuthorizer: { handler: authorizer, cookie: COOKIE },
      },
    });

    // Act
    const ws = await connectWebSocket(gateway.wsUrl, {
      headers: { cookie: `theme=dark; ${COOKIE}=let-me-in` },
    });
    ws.socket.send('hello');
    const connect = await events.next(5000);
    const message = await events.next(5000);
    ws.socket.close();

    // Assess
    expect(calls[0]).toMatchObject({
      type: 'REQUEST',
      methodArn: expect.stringMatching(/\/local\/\$connect$/),
      requestContext: { eventType: 'CONNECT', routeKey: '$connect' },
    });
    const expected = { principalId: 'dana', username: 'dana', roles: 'agent' };
    expect(connect.requestContext.authorizer).toEqual(expected);
    expect(message.requestContext.authorizer).toEqual(expected);
  });

  it('refuses a $connect whose cookie fails with 401 (403 on Deny) and lets one without the cookie in', async () => {
    // Prepare
    const { authorizer, calls } = cookieAuthorizer();
    const connects = new AsyncQueue<WebSocketEvent>('$connect');
    const { gateway } = await startGateway({
      websocket: {
        path: '/ws',
        routes: {
          $connect: async (event) => {
            connects.push(event);
            return { statusCode: 200 };
          },
        },
        connectAuthorizer: { handler: authorizer, cookie: COOKIE },
      },
    });
    const refusal = (cookie: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(gateway.wsUrl, { headers: { cookie } });
        socket.on('unexpected-response', (_request, response) => {
          resolve(response.statusCode ?? 0);
          socket.terminate();
        });
        socket.on('open', () => reject(new Error('connected')));
        socket.on('error', () => {});
      });

    // Act
    const expired = await refusal(`${COOKIE}=stale`);
    const denied = await refusal(`${COOKIE}=deny-me`);
    const anonymous = await connectWebSocket(gateway.wsUrl, { headers: { cookie: 'theme=dark' } });
    const connect = await connects.next(5000);
    anonymous.socket.close();

    // Assess
    expect(expired).toBe(401);
    expect(denied).toBe(403);
    expect(calls).toHaveLength(2);
    expect(connect.requestContext.authorizer).toBeUndefined();
  });
});
