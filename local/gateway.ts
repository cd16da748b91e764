/**
 * Local face of API Gateway: REST (v1 Lambda proxy) routes, a WebSocket API with route selection, the
 * `@connections` management API the SDK's ApiGatewayManagementApiClient talks to, and the static web
 * console — all on one HTTP server, so the Lambda handlers run unchanged on a laptop and in integration
 * tests. Lives in local/; lambdas/ must never import it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { EdgeRateLimits, type GatewayRateLimits, rateLimitedFrame } from './edgeRateLimits';
import { StaticSite, safeDecode } from './staticSite';

export type { GatewayRateLimits, RateLimit } from './edgeRateLimits';

export type RestHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface WebSocketEvent {
  requestContext: {
    routeKey: string;
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
    connectionId: string;
    connectedAt: number;
    requestId: string;
    extendedRequestId?: string;
    messageId?: string;
    messageDirection?: 'IN';
    requestTime?: string;
    requestTimeEpoch: number;
    domainName: string;
    stage: string;
    apiId: string;
    identity: { sourceIp: string; userAgent: string };
    disconnectStatusCode?: number;
    disconnectReason?: string;
    /** `{ principalId, ...context }` of the $connect authorizer, on every event of the connection. */
    authorizer?: Record<string, unknown>;
  };
  body?: string;
  isBase64Encoded: boolean;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string> | null;
  multiValueQueryStringParameters?: Record<string, string[]> | null;
}

/**
 * `headers` matters for $connect only: a client that asks for subprotocols must get one of them back in
 * `Sec-WebSocket-Protocol`, or the handshake fails (as on AWS). Other routes' results are ignored, like
 * routes without a route response.
 */
export type WebSocketHandler = (
  event: WebSocketEvent,
  context: Context,
) => Promise<{ statusCode: number; body?: string; headers?: Record<string, string> } | undefined>;

export type RestMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'ANY';

export interface RestRoute {
  method: RestMethod;
  /** Resource template, e.g. '/api/cases/{id}' or '/api/{proxy+}'. */
  resource: string;
  handler: RestHandler;
  /** Shown as context.functionName. @default derived from method and resource */
  functionName?: string;
  /** Lambda REQUEST authorizer run before the handler, as API Gateway does. @default none (open route) */
  authorizer?: LambdaAuthorizer;
}

/** The REQUEST authorizer event of a WebSocket $connect (no httpMethod or resource, unlike REST). */
export interface WebSocketAuthorizerEvent {
  type: 'REQUEST';
  methodArn: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  stageVariables: null;
  requestContext: WebSocketEvent['requestContext'];
}

/**
 * A Lambda REQUEST authorizer. Throwing `Error('Unauthorized')` answers 401, a Deny policy 403 (message from
 * `context.reason` when given), an Allow policy for the method ARN lets the request through with
 * `{ principalId, ...context }` in `requestContext.authorizer`.
 */
export type LambdaAuthorizer = (
  event: APIGatewayRequestAuthorizerEvent | WebSocketAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

export interface GatewayLogger {
  info(msg: string, extra?: object): void;
  error(msg: string, extra?: object): void;
}

export interface LocalGatewayOptions {
  /** 0 picks an ephemeral port. */
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
  rest: RestRoute[];
  websocket: {
    path: string;
    /** '$connect', '$disconnect', '$default' and custom action names. */
    routes: Record<string, WebSocketHandler>;
    /** Body field that selects the route; 'action' and '$request.body.action' are equivalent. @default 'action' */
    routeSelectionKey?: string;
    /**
     * Authorizer for $connect, run only when the upgrade request carries `cookie` (an operator's session);
     * without it the connection is anonymous. Unauthorized → 401, Deny → 403. @default none
     */
    connectAuthorizer?: { handler: LambdaAuthorizer; cookie: string };
  };
  staticFiles?: { dir: string; pages: Record<string, string> };
  /** Largest WebSocket message, and PostToConnection payload; bigger frames close with 1009. @default 1 MiB */
  maxMessageBytes?: number;
  /** Largest REST request body; bigger ones get 413. @default 1 MiB */
  maxRequestBytes?: number;
  /** API Gateway's integration timeout: REST answers 504, WebSocket sends a timeout frame. @default 29000 */
  integrationTimeoutMs?: number;
  /**
   * WebSocket message invocations running at once (a Lambda concurrency limit). Further messages wait in
   * order, and once that queue is long the sockets stop being read, so overload becomes TCP
   * backpressure on the clients instead of timeouts. @default unlimited
   */
  maxConcurrentMessages?: number;
  /** Per-IP and per-connection token buckets, like stage throttling + WAF on AWS. @default no limits */
  rateLimits?: GatewayRateLimits;
  /**
   * A movable clock (the local face with SUPPORTMAX_CLOCK=controlled), served on the loopback-only
   * management route `/@clock`: `POST {"advanceMs": n}` or `POST {"set": epochMs}` moves it, `GET` reads
   * it; both answer `{"now": epochMs}`. @default none (no /@clock route)
   */
  clock?: ClockControl;
  /** @default console */
  logger?: GatewayLogger;
}

/** What `/@clock` needs of a clock; `advance` and `set` throw RangeError on a bad value. */
export interface ClockControl {
  now(): number;
  advance(ms: number): number;
  set(epochMs: number): number;
}

export interface LocalGateway {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  /** Endpoint for ApiGatewayManagementApiClient. */
  readonly managementEndpoint: string;
  readonly connectionCount: number;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
/** PostToConnection answers 429 instead of queueing more than this for a slow reader. */
const SEND_BUFFER_LIMIT_BYTES = 4 * MiB;
const STAGE = 'local';
const API_ID = 'local';
const ACCOUNT_ID = '123456789012';
const REGION = 'us-east-1';
const CONNECTIONS_PREFIX = '/@connections/';
const CLOCK_PATH = '/@clock';
const INTERNAL_ERROR_FRAME = JSON.stringify({ message: 'Internal server error' });

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? console;
  const maxMessageBytes = options.maxMessageBytes ?? MiB;
  const maxRequestBytes = options.maxRequestBytes ?? MiB;
  const timeoutMs = options.integrationTimeoutMs ?? 29_000;
  const admission = new MessageAdmission(options.maxConcurrentMessages ?? Number.POSITIVE_INFINITY);
  const router = new RestRouter(options.rest);
  const rateLimits = new EdgeRateLimits(options.rateLimits);
  /** First path segments that belong to the REST API (e.g. 'api'): rate-limited and traversal-checked. */
  const restPrefixes = new Set(options.rest.map((route) => route.resource.split('/')[1] ?? ''));
  const staticSite = options.staticFiles ? await StaticSite.open(options.staticFiles) : undefined;
  const wsRoutes = options.websocket.routes;
  const routeSelectionPath = (options.websocket.routeSelectionKey ?? 'action')
    .replace(/^\$request\.body\./, '')
    .split('.');

  const connections = new Map<string, LiveConnection>();
  const pendingUpgrades = new Set<Duplex>();
  const inFlight = new Set<Promise<unknown>>();
  const negotiatedProtocols = new WeakMap<IncomingMessage, string>();
  let closing: Promise<void> | undefined;

  const track = (work: Promise<unknown>): void => {
    const guarded = work.catch((error: unknown) =>
      logger.error('Local gateway task failed', errorDetails(error)),
    );
    inFlight.add(guarded);
    void guarded.finally(() => inFlight.delete(guarded));
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageBytes,
    handleProtocols: (offered, request) => {
      const chosen = negotiatedProtocols.get(request);
      return chosen !== undefined && offered.has(chosen) ? chosen : false;
    },
  });

  const server = createServer((req, res) => {
    handleHttp(req, res).catch((error: unknown) => {
      logger.error('Local gateway request failed', { url: req.url, ...errorDetails(error) });
      if (!res.headersSent) sendError(res, 500, 'InternalError', 'Internal server error');
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    track(acceptUpgrade(req, socket, head));
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { rawPath, rawQuery } = splitUrl(req.url);
    if (rawPath.startsWith(CONNECTIONS_PREFIX)) return handleManagement(req, res, rawPath);
    if (rawPath === CLOCK_PATH && options.clock) return handleClock(req, res, options.clock);

    const segments = decodeSegments(rawPath);
    if (!segments) return sendError(res, 400, 'BadRequest', 'Malformed URL path');
    const method = req.method ?? 'GET';
    const match = router.match(method, segments);
    if (match.kind !== 'none' || restPrefixes.has(segments[0] ?? '')) {
      const admitted = rateLimits.admitRest(sourceIpOf(req));
      if (!admitted.allowed) {
        const seconds = String(Math.max(1, Math.ceil(admitted.retryAfterMs / 1000)));
        return sendError(res, 429, 'RateLimited', `Too many requests; retry after ${seconds} s`, {
          'retry-after': seconds,
        });
      }
      if (segments.some(isUnsafePathSegment)) {
        return sendError(res, 400, 'BadRequest', 'Path segments must not contain "..", "/", "\\" or NUL');
      }
    }
    if (match.kind === 'route') return invokeRest(req, res, match, rawPath, rawQuery);
    if (match.kind === 'wrong-method') {
      return sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${rawPath}`, {
        allow: match.allowed.join(', '),
      });
    }
    if (
      staticSite &&
      (method === 'GET' || method === 'HEAD') &&
      (await staticSite.serve(rawPath, method, res))
    ) {
      return;
    }
    sendError(res, 404, 'NotFound', `No route for ${method} ${rawPath}`);
  }

  async function invokeRest(
    req: IncomingMessage,
    res: ServerResponse,
    match: RouteMatch,
    rawPath: string,
    rawQuery: string,
  ): Promise<void> {
    const body = await readBody(req, maxRequestBytes);
    if (body === 'too-large') {
      return sendError(res, 413, 'PayloadTooLarge', `Request body exceeds ${maxRequestBytes} bytes`);
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && body.length > 0) {
      return sendError(res, 400, 'BadRequest', `${req.method} requests must not carry a body`);
    }
    const event = toProxyEvent(req, match, rawPath, rawQuery, body);
    if (match.route.authorizer) {
      const verdict = await authorize(match.route.authorizer, restAuthorizerEvent(event), logger, timeoutMs);
      if (verdict.kind === 'refused') return sendError(res, verdict.status, verdict.code, verdict.message);
      event.requestContext.authorizer = verdict.authorizer;
    }
    const context = lambdaContext(match.route.functionName, timeoutMs);
    const outcome = await invokeWithin(timeoutMs, () => match.route.handler(event, context));
    if (outcome.kind === 'timeout') {
      logger.error('REST handler timed out', { resource: match.route.resource, timeoutMs });
      return sendError(res, 504, 'GatewayTimeout', 'Endpoint request timed out');
    }
    if (outcome.kind === 'error') {
      logger.error('REST handler failed', {
        resource: match.route.resource,
        requestId: event.requestContext.requestId,
        ...errorDetails(outcome.error),
      });
      return sendError(res, 500, 'InternalError', 'Internal server error');
    }
    const written = writeProxyResult(res, outcome.value);
    if (written !== true) {
      logger.error('Malformed Lambda proxy response', { resource: match.route.resource, problem: written });
      sendError(res, 502, 'BadGateway', 'Malformed Lambda proxy response');
    }
  }

  // --- WebSocket API -------------------------------------------------------------------------------

  async function acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const onHandshakeError = (error: Error) =>
      logger.info('WebSocket handshake socket error', errorDetails(error));
    socket.on('error', onHandshakeError);
    const { rawPath, rawQuery } = splitUrl(req.url);
    if (closing || rawPath !== options.websocket.path) return rejectUpgrade(socket, 404);
    const admitted = rateLimits.admitConnect(sourceIpOf(req));
    if (!admitted.allowed) {
      const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
      const body = JSON.stringify({
        message: `Too many connections; retry after ${seconds} s`,
        code: 'RateLimited',
        retryAfterMs: admitted.retryAfterMs,
      });
      return rejectUpgrade(socket, 429, body, { 'Retry-After': String(seconds) });
    }

    pendingUpgrades.add(socket);
    socket.once('close', () => pendingUpgrades.delete(socket));
    const { headers, multiValueHeaders } = collectHeaders(req.rawHeaders);
    const query = collectQuery(rawQuery);
    let peer: ConnectionIdentity = {
      connectionId: newAwsStyleId(),
      connectedAt: Date.now(),
      sourceIp: sourceIpOf(req),
      userAgent: headers['user-agent'] ?? '',
      domainName: headers.host ?? host,
    };
    const connectAuthorizer = options.websocket.connectAuthorizer;
    if (connectAuthorizer && hasCookie(headers.cookie, connectAuthorizer.cookie)) {
      const authorizerEvent: WebSocketAuthorizerEvent = {
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${API_ID}/${STAGE}/$connect`,
        headers,
        multiValueHeaders,
        queryStringParameters: query.single,
        multiValueQueryStringParameters: query.multi,
        stageVariables: null,
        requestContext: webSocketEvent('CONNECT', '$connect', peer).requestContext,
      };
      const verdict = await authorize(connectAuthorizer.handler, authorizerEvent, logger, timeoutMs);
      if (verdict.kind === 'refused') {
        return rejectUpgrade(socket, verdict.status, JSON.stringify({ message: verdict.message }));
      }
      peer = { ...peer, authorizer: verdict.authorizer };
    }

    const connectHandler = wsRoutes.$connect;
    if (connectHandler) {
      const event: WebSocketEvent = {
        ...webSocketEvent('CONNECT', '$connect', peer),
        headers,
        multiValueHeaders,
        queryStringParameters: query.single,
        multiValueQueryStringParameters: query.multi,
      };
      const outcome = await invokeWithin(timeoutMs, () =>
        connectHandler(event, lambdaContext('ws-connect', timeoutMs)),
      );
      if (outcome.kind !== 'ok') {
        logger.error('$connect handler failed', {
          connectionId: peer.connectionId,
          ...errorDetails(outcomeError(outcome)),
        });
        return rejectUpgrade(socket, 500);
      }
      const statusCode = outcome.value?.statusCode ?? 200;
      if (statusCode < 200 || statusCode > 299) return rejectUpgrade(socket, statusCode, outcome.value?.body);
      const protocol = headerValue(outcome.value?.headers, 'sec-websocket-protocol');
      if (protocol !== undefined) negotiatedProtocols.set(req, protocol);
    }

    pendingUpgrades.delete(socket);
    if (closing || socket.destroyed || !socket.writable) {
      // $connect accepted it, so its side effects (e.g. a stored connection) need the matching $disconnect.
      socket.destroy();
      await invokeDisconnect(peer, 1006, 'Client gone before the handshake completed');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onHandshakeError);
      register(ws, peer);
    });
  }

  function register(ws: WebSocket, peer: ConnectionIdentity): void {
    let lastActiveAt = Date.now();
    let resolveDisconnected: () => void = () => {};
    const connection: LiveConnection = {
      ...peer,
      socket: ws,
      get lastActiveAt() {
        return lastActiveAt;
      },
      touch: () => {
        lastActiveAt = Date.now();
      },
      disconnected: new Promise<void>((done) => {
        resolveDisconnected = done;
      }),
    };
    connections.set(peer.connectionId, connection);
    const abuse = rateLimits.abuseMeter();

    ws.on('error', (error) => {
      logger.info('WebSocket closed on a protocol error', {
        connectionId: peer.connectionId,
        ...errorDetails(error),
      });
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      connection.touch();
      if (isBinary) {
        ws.close(1003, 'Binary frames are not supported');
        return;
      }
      const body = rawDataToBuffer(data).toString('utf8');
      const admitted = rateLimits.admitFrame(peer.connectionId, peer.sourceIp);
      if (!admitted.allowed) {
        // Answered here, like API Gateway's throttling: no handler runs and nothing queues.
        if (abuse.rejected()) ws.close(1008, 'Rate limit exceeded repeatedly');
        else sendFrame(connection, rateLimitedFrame(body, admitted.retryAfterMs));
        return;
      }
      track(admission.run(ws, () => dispatchMessage(connection, body)));
    });
    ws.once('close', (code: number, reason: Buffer) => {
      connections.delete(peer.connectionId);
      rateLimits.forgetConnection(peer.connectionId);
      const disconnect = invokeDisconnect(peer, code, reason.toString('utf8') || describeCloseCode(code));
      track(disconnect);
      void disconnect.finally(resolveDisconnected);
    });
  }

  async function dispatchMessage(connection: LiveConnection, body: string): Promise<void> {
    const routeKey = selectRoute(body);
    const base = webSocketEvent('MESSAGE', routeKey, connection);
    const handler = wsRoutes[routeKey];
    if (!handler) {
      const { connectionId, requestId } = base.requestContext;
      sendFrame(connection, JSON.stringify({ message: 'Forbidden', connectionId, requestId }));
      return;
    }
    const event: WebSocketEvent = {
      ...base,
      requestContext: { ...base.requestContext, messageId: newAwsStyleId() },
      body,
    };
    const outcome = await invokeWithin(timeoutMs, () =>
      handler(event, lambdaContext(`ws-${routeKey.replace('$', '')}`, timeoutMs)),
    );
    if (outcome.kind === 'ok') return;
    logger.error('WebSocket route handler failed', {
      routeKey,
      connectionId: connection.connectionId,
      ...errorDetails(outcomeError(outcome)),
    });
    sendFrame(
      connection,
      outcome.kind === 'timeout'
        ? JSON.stringify({ message: 'Endpoint request timed out' })
        : INTERNAL_ERROR_FRAME,
    );
  }

  function selectRoute(body: string): string {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return '$default';
    }
    for (const key of routeSelectionPath) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return '$default';
      value = (value as Record<string, unknown>)[key];
    }
    if (typeof value !== 'string' || value.startsWith('$') || !Object.hasOwn(wsRoutes, value))
      return '$default';
    return value;
  }

  async function invokeDisconnect(peer: ConnectionIdentity, code: number, reason: string): Promise<void> {
    const handler = wsRoutes.$disconnect;
    if (!handler) return;
    const base = webSocketEvent('DISCONNECT', '$disconnect', peer);
    const event: WebSocketEvent = {
      ...base,
      requestContext: { ...base.requestContext, disconnectStatusCode: code, disconnectReason: reason },
    };
    const outcome = await invokeWithin(timeoutMs, () =>
      handler(event, lambdaContext('ws-disconnect', timeoutMs)),
    );
    if (outcome.kind !== 'ok') {
      logger.error('$disconnect handler failed', {
        connectionId: peer.connectionId,
        ...errorDetails(outcomeError(outcome)),
      });
    }
  }

  function sendFrame(connection: LiveConnection, frame: string | Buffer): void {
    if (connection.socket.readyState !== connection.socket.OPEN) return;
    connection.socket.send(frame, { binary: false }, (error) => {
      if (error)
        logger.info('WebSocket send failed', {
          connectionId: connection.connectionId,
          ...errorDetails(error),
        });
    });
  }

  // --- Management API (@clock) --------------------------------------------------------------------

  async function handleClock(req: IncomingMessage, res: ServerResponse, clock: ClockControl): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      return sendError(res, 403, 'Forbidden', 'The clock only accepts loopback callers');
    }
    const method = req.method ?? 'GET';
    if (method === 'GET') return sendJson(res, 200, { now: clock.now() });
    if (method !== 'POST') {
      return sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${CLOCK_PATH}`, {
        allow: 'GET, POST',
      });
    }
    const usage = 'Send {"advanceMs": milliseconds} or {"set": epochMilliseconds}';
    const body = await readBody(req, 1024);
    if (body === 'too-large') return sendError(res, 413, 'PayloadTooLarge', usage);
    let request: unknown;
    try {
      request = JSON.parse(body.toString('utf8'));
    } catch {
      return sendError(res, 400, 'BadRequest', `Malformed JSON. ${usage}`);
    }
    const fields = typeof request === 'object' && request !== null ? Object.entries(request) : [];
    const [name, value] = fields.length === 1 ? fields[0]! : [];
    if (typeof value !== 'number' || (name !== 'advanceMs' && name !== 'set')) {
      return sendError(res, 400, 'BadRequest', usage);
    }
    try {
      return sendJson(res, 200, { now: name === 'set' ? clock.set(value) : clock.advance(value) });
    } catch (error) {
      if (error instanceof RangeError) return sendError(res, 400, 'BadRequest', error.message);
      throw error;
    }
  }

  // --- Management API (@connections) --------------------------------------------------------------

  async function handleManagement(req: IncomingMessage, res: ServerResponse, rawPath: string): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      return sendAwsError(res, 403, 'ForbiddenException', 'The management API only accepts loopback callers');
    }
    const connectionId = safeDecode(rawPath.slice(CONNECTIONS_PREFIX.length));
    if (!connectionId || connectionId.includes('/')) {
      return sendAwsError(res, 400, 'BadRequestException', 'Invalid connection id');
    }
    const method = req.method ?? 'GET';
    if (method === 'POST') {
      const data = await readBody(req, maxMessageBytes);
      if (data === 'too-large') {
        return sendAwsError(res, 413, 'PayloadTooLargeException', `Data exceeds ${maxMessageBytes} bytes`);
      }
      const connection = openConnection(connectionId);
      if (!connection) return sendGone(res, connectionId);
      if (connection.socket.bufferedAmount > SEND_BUFFER_LIMIT_BYTES) {
        return sendAwsError(res, 429, 'LimitExceededException', 'The client is not reading fast enough');
      }
      sendFrame(connection, data);
      connection.touch();
      res.writeHead(200, { 'content-length': 0 }).end();
      return;
    }
    if (method === 'GET') {
      const connection = openConnection(connectionId);
      if (!connection) return sendGone(res, connectionId);
      // Wire names are the service's JSON names; the SDK maps them to ConnectedAt, Identity, LastActiveAt.
      return sendJson(res, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
    }
    if (method === 'DELETE') {
      const connection = openConnection(connectionId);
      if (!connection) return sendGone(res, connectionId);
      connection.socket.close(1000, 'Connection deleted');
      res.writeHead(204).end();
      return;
    }
    sendAwsError(res, 405, 'MethodNotAllowedException', `${method} is not supported on @connections`, {
      allow: 'DELETE, GET, POST',
    });
  }

  function openConnection(connectionId: string): LiveConnection | undefined {
    const connection = connections.get(connectionId);
    return connection && connection.socket.readyState === connection.socket.OPEN ? connection : undefined;
  }

  // --- Lifecycle -----------------------------------------------------------------------------------

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  server.on('error', (error) => logger.error('Local gateway server error', errorDetails(error)));

  const port = (server.address() as AddressInfo).port;
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info('Local API Gateway listening', { url: `http://${authority}` });

  return {
    port,
    url: `http://${authority}`,
    wsUrl: `ws://${authority}${options.websocket.path}`,
    managementEndpoint: `http://${authority}`,
    get connectionCount() {
      return connections.size;
    },
    close() {
      closing ??= (async () => {
        for (const socket of pendingUpgrades) socket.destroy();
        const live = [...connections.values()];
        for (const connection of live) connection.socket.terminate();
        await Promise.allSettled(live.map((connection) => connection.disconnected));
        wss.close();
        await new Promise<void>((closed) => {
          server.close(() => closed());
          server.closeAllConnections();
        });
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      })();
      return closing;
    },
  };
}

// --- REST routing ----------------------------------------------------------------------------------

type TemplateSegment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

interface CompiledRoute {
  method: RestMethod;
  resource: string;
  segments: TemplateSegment[];
  handler: RestHandler;
  functionName: string;
  authorizer?: LambdaAuthorizer;
}

interface RouteMatch {
  kind: 'route';
  route: CompiledRoute;
  pathParameters: Record<string, string> | null;
}

const SPECIFICITY: Record<TemplateSegment['kind'], number> = { literal: 3, param: 2, greedy: 1 };
const ALL_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];

class RestRouter {
  private readonly routes: CompiledRoute[];

  constructor(routes: RestRoute[]) {
    // Stable sort: literal segments beat parameters, which beat a greedy proxy; ties keep declaration order.
    this.routes = routes.map(compileRoute).sort(compareSpecificity);
  }

  match(
    method: string,
    segments: string[],
  ): RouteMatch | { kind: 'wrong-method'; allowed: string[] } | { kind: 'none' } {
    const allowed = new Set<string>();
    for (const route of this.routes) {
      const pathParameters = matchTemplate(route.segments, segments);
      if (pathParameters === undefined) continue;
      if (route.method === method || route.method === 'ANY') {
        const hasParameters = Object.keys(pathParameters).length > 0;
        return { kind: 'route', route, pathParameters: hasParameters ? pathParameters : null };
      }
      allowed.add(route.method);
    }
    return allowed.size > 0 ? { kind: 'wrong-method', allowed: [...allowed].sort() } : { kind: 'none' };
  }
}

function compileRoute(route: RestRoute): CompiledRoute {
  if (!route.resource.startsWith('/'))
    throw new Error(`REST resource must start with '/': ${route.resource}`);
  if (route.method !== 'ANY' && !ALL_METHODS.includes(route.method)) {
    throw new Error(`Unsupported REST method ${route.method} for ${route.resource}`);
  }
  const parts = route.resource.split('/').filter((part) => part !== '');
  const segments = parts.map((part, index): TemplateSegment => {
    const variable = /^\{([A-Za-z0-9_.-]+)(\+)?\}$/.exec(part);
    if (!variable?.[1]) return { kind: 'literal', value: part };
    if (!variable[2]) return { kind: 'param', name: variable[1] };
    if (index !== parts.length - 1) {
      throw new Error(`Greedy path variable must be the last segment: ${route.resource}`);
    }
    return { kind: 'greedy', name: variable[1] };
  });
  const functionName =
    route.functionName ??
    `${route.method}${route.resource}`.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/-+$/, '');
  return {
    method: route.method,
    resource: route.resource,
    segments,
    handler: route.handler,
    functionName,
    authorizer: route.authorizer,
  };
}

function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let index = 0; index < length; index++) {
    const segmentA = a.segments[index];
    const segmentB = b.segments[index];
    const rankA = segmentA ? SPECIFICITY[segmentA.kind] : 0;
    const rankB = segmentB ? SPECIFICITY[segmentB.kind] : 0;
    if (rankA !== rankB) return rankB - rankA;
  }
  return 0;
}

function matchTemplate(template: TemplateSegment[], path: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of template.entries()) {
    if (segment.kind === 'greedy') {
      const rest = path.slice(index);
      if (rest.length === 0) return undefined;
      parameters[segment.name] = rest.join('/');
      return parameters;
    }
    const part = path[index];
    if (part === undefined) return undefined;
    if (segment.kind === 'literal' && part !== segment.value) return undefined;
    if (segment.kind === 'param') parameters[segment.name] = part;
  }
  return path.length === template.length ? parameters : undefined;
}

// --- REST events and results -----------------------------------------------------------------------

function toProxyEvent(
  req: IncomingMessage,
  match: RouteMatch,
  rawPath: string,
  rawQuery: string,
  body: Buffer,
): APIGatewayProxyEvent {
  const { headers, multiValueHeaders } = collectHeaders(req.rawHeaders);
  const query = collectQuery(rawQuery);
  const now = Date.now();
  const requestId = randomUUID();
  const domainName = headers.host ?? 'localhost';
  const hasBody = body.length > 0;
  const isText = isTextContentType(headers['content-type']);
  const httpMethod = req.method ?? 'GET';
  return {
    resource: match.route.resource,
    path: rawPath,
    httpMethod,
    headers,
    multiValueHeaders,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: hasBody ? body.toString(isText ? 'utf8' : 'base64') : null,
    isBase64Encoded: hasBody && !isText,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      authorizer: undefined,
      domainName,
      domainPrefix: domainName.split(/[.:]/)[0] ?? domainName,
      extendedRequestId: newAwsStyleId(),
      httpMethod,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: sourceIpOf(req),
        user: null,
        userAgent: headers['user-agent'] ?? null,
        userArn: null,
      },
      path: rawPath,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTime: formatRequestTime(now),
      requestTimeEpoch: now,
      resourceId: randomBytes(3).toString('hex'),
      resourcePath: match.route.resource,
      stage: STAGE,
    },
  };
}

// --- Lambda authorizers ----------------------------------------------------------------------------

type AuthorizerVerdict =
  | { kind: 'allowed'; authorizer: Record<string, unknown> }
  | { kind: 'refused'; status: number; code: string; message: string };

function restAuthorizerEvent(event: APIGatewayProxyEvent): APIGatewayRequestAuthorizerEvent {
  const { httpMethod, path, resource } = event;
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${API_ID}/${STAGE}/${httpMethod}${path}`,
    resource,
    path,
    httpMethod,
    headers: event.headers,
    multiValueHeaders: event.multiValueHeaders,
    pathParameters: event.pathParameters,
    queryStringParameters: event.queryStringParameters,
    multiValueQueryStringParameters: event.multiValueQueryStringParameters,
    stageVariables: event.stageVariables,
    requestContext: { ...event.requestContext, authorizer: undefined },
  };
}

/** Runs an authorizer like API Gateway: 'Unauthorized' → 401, Deny → 403, other failures → 500. */
async function authorize(
  authorizer: LambdaAuthorizer,
  event: APIGatewayRequestAuthorizerEvent | WebSocketAuthorizerEvent,
  logger: GatewayLogger,
  timeoutMs: number,
): Promise<AuthorizerVerdict> {
  const outcome = await invokeWithin(timeoutMs, () =>
    authorizer(event, lambdaContext('authorizer', timeoutMs)),
  );
  if (outcome.kind === 'error' && (outcome.error as Error)?.message === 'Unauthorized') {
    return { kind: 'refused', status: 401, code: 'Unauthorized', message: 'Unauthorized' };
  }
  if (outcome.kind !== 'ok' || !isAuthorizerResult(outcome.value)) {
    logger.error('Authorizer failed', {
      methodArn: event.methodArn,
      ...(outcome.kind === 'ok'
        ? { error: 'malformed authorizer result' }
        : errorDetails(outcomeError(outcome))),
    });
    return { kind: 'refused', status: 500, code: 'InternalError', message: 'Authorizer failed' };
  }
  const { principalId, policyDocument, context } = outcome.value;
  if (!policyAllows(policyDocument.Statement, event.methodArn)) {
    const reason = typeof context?.reason === 'string' ? context.reason : undefined;
    const message = reason ?? 'User is not authorized to access this resource with an explicit deny';
    return { kind: 'refused', status: 403, code: 'Forbidden', message };
  }
  return { kind: 'allowed', authorizer: { principalId, ...(context ?? {}) } };
}

function isAuthorizerResult(value: unknown): value is APIGatewayAuthorizerResult {
  const result = value as APIGatewayAuthorizerResult | undefined;
  return typeof result?.principalId === 'string' && Array.isArray(result.policyDocument?.Statement);
}

/** IAM evaluation for execute-api:Invoke: an explicit Deny wins, else an Allow is needed. Wildcards * and ?. */
function policyAllows(statements: readonly unknown[], methodArn: string): boolean {
  const listOf = (value: unknown): string[] =>
    Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  const matches = (pattern: string, value: string) => {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.');
    return new RegExp(`^${source}$`).test(value);
  };
  let allowed = false;
  for (const statement of statements as { Effect?: string; Action?: unknown; Resource?: unknown }[]) {
    const action = listOf(statement.Action).some((a) => matches(a.toLowerCase(), 'execute-api:invoke'));
    const resource = listOf(statement.Resource).some((r) => matches(r, methodArn));
    if (!action || !resource) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function hasCookie(cookieHeader: string | undefined, name: string): boolean {
  return (cookieHeader ?? '').split(';').some((pair) => pair.split('=')[0]?.trim() === name);
}

const TEXT_MEDIA_TYPES = new Set([
  'application/json',
  'application/javascript',
  'application/xml',
  'application/x-www-form-urlencoded',
  'application/graphql',
]);

function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const media = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    media.startsWith('text/') ||
    TEXT_MEDIA_TYPES.has(media) ||
    media.endsWith('+json') ||
    media.endsWith('+xml')
  );
}

/** Transport-level headers are the gateway's business, not the handler's. */
const GATEWAY_OWNED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);

/** Returns true when written, or what is wrong with the result (nothing is written then). */
function writeProxyResult(res: ServerResponse, result: unknown): true | string {
  if (typeof result !== 'object' || result === null) return 'result is not an object';
  const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } =
    result as Partial<APIGatewayProxyResult>;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    return `invalid statusCode ${String(statusCode)}`;
  }
  if (body !== undefined && body !== null && typeof body !== 'string') return 'body is not a string';

  // Like API Gateway, headers and multiValueHeaders are merged; a pair present in both appears once.
  const merged = new Map<string, { name: string; values: string[] }>();
  const add = (name: string, value: boolean | number | string) => {
    const key = name.toLowerCase();
    if (GATEWAY_OWNED_HEADERS.has(key)) return;
    const entry = merged.get(key) ?? { name, values: [] };
    if (!entry.values.includes(String(value))) entry.values.push(String(value));
    merged.set(key, entry);
  };
  for (const [name, values] of Object.entries(multiValueHeaders ?? {})) {
    for (const value of values) add(name, value);
  }
  for (const [name, value] of Object.entries(headers ?? {})) add(name, value);
  if (!merged.has('content-type'))
    merged.set('content-type', { name: 'content-type', values: ['application/json'] });

  const payload = Buffer.from(body ?? '', isBase64Encoded ? 'base64' : 'utf8');
  try {
    for (const { name, values } of merged.values())
      res.setHeader(name, values.length === 1 ? values[0]! : values);
  } catch (error) {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    return `invalid header: ${(error as Error).message}`;
  }
  res.setHeader('content-length', payload.length);
  res.writeHead(statusCode).end(payload);
  return true;
}

// --- Static console --------------------------------------------------------------------------------

// --- Shared plumbing -------------------------------------------------------------------------------

interface ConnectionIdentity {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly domainName: string;
  /** The $connect authorizer's result, passed on every event of the connection. */
  readonly authorizer?: Record<string, unknown>;
}

interface LiveConnection extends ConnectionIdentity {
  readonly socket: WebSocket;
  readonly lastActiveAt: number;
  touch(): void;
  /** Settles once $disconnect has run for this connection. */
  readonly disconnected: Promise<void>;
}

function webSocketEvent(
  eventType: WebSocketEvent['requestContext']['eventType'],
  routeKey: string,
  peer: ConnectionIdentity,
): WebSocketEvent {
  const now = Date.now();
  const requestId = newAwsStyleId();
  return {
    requestContext: {
      routeKey,
      eventType,
      connectionId: peer.connectionId,
      connectedAt: peer.connectedAt,
      requestId,
      extendedRequestId: requestId,
      messageDirection: 'IN',
      requestTime: formatRequestTime(now),
      requestTimeEpoch: now,
      domainName: peer.domainName,
      stage: STAGE,
      apiId: API_ID,
      identity: { sourceIp: peer.sourceIp, userAgent: peer.userAgent },
      ...(peer.authorizer ? { authorizer: peer.authorizer } : {}),
    },
    isBase64Encoded: false,
  };
}

type InvokeOutcome<T> = { kind: 'ok'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/** Runs a handler like the Lambda integration: a throw (sync or async) or a timeout becomes an outcome. */
async function invokeWithin<T>(timeoutMs: number, run: () => Promise<T>): Promise<InvokeOutcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<InvokeOutcome<T>>((settle) => {
    timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
  });
  const invoked = new Promise<T>((settle) => settle(run())).then(
    (value): InvokeOutcome<T> => ({ kind: 'ok', value }),
    (error: unknown): InvokeOutcome<T> => ({ kind: 'error', error }),
  );
  try {
    return await Promise.race([invoked, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function outcomeError(outcome: { kind: 'error'; error: unknown } | { kind: 'timeout' }): unknown {
  return outcome.kind === 'error' ? outcome.error : new Error('Integration timed out');
}

/** A Lambda-like context for an in-process invocation with `timeoutMs` to run. */
export function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const callbackStyle = () => {
    throw new Error(
      'context.done/fail/succeed are not supported locally: return or throw from the async handler',
    );
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: callbackStyle,
    fail: callbackStyle,
    succeed: callbackStyle,
  };
}

function splitUrl(url: string | undefined): { rawPath: string; rawQuery: string } {
  const target = url ?? '/';
  const queryAt = target.indexOf('?');
  return queryAt === -1
    ? { rawPath: target, rawQuery: '' }
    : { rawPath: target.slice(0, queryAt), rawQuery: target.slice(queryAt + 1) };
}

function decodeSegments(rawPath: string): string[] | undefined {
  const segments: string[] = [];
  for (const part of rawPath.split('/')) {
    if (part === '') continue;
    const decoded = safeDecode(part);
    if (decoded === undefined) return undefined;
    segments.push(decoded);
  }
  return segments;
}

/** Lower-case keys; `headers` keeps the last value of a repeated header, as API Gateway does. */
function collectHeaders(rawHeaders: string[]): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    const value = rawHeaders[index + 1]!;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return { headers, multiValueHeaders };
}

function collectQuery(rawQuery: string): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  const params = new URLSearchParams(rawQuery);
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of params) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return Object.keys(single).length > 0 ? { single, multi } : { single: null, multi: null };
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  const entry = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}

/** Reads the whole body, or reports 'too-large' as soon as it passes the limit (the rest is discarded). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve('too-large');
  return new Promise((settle, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        settle('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge) settle(Buffer.concat(chunks));
    });
    req.on('error', fail);
  });
}

function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': payload.length });
  res.end(payload);
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/** The shape the SDK's restJson1 parser turns into a typed exception (e.g. GoneException). */
function sendAwsError(
  res: ServerResponse,
  status: number,
  errorType: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    status,
    { message },
    { ...headers, 'x-amzn-errortype': errorType, 'x-amzn-requestid': randomUUID() },
  );
}

function sendGone(res: ServerResponse, connectionId: string): void {
  sendAwsError(res, 410, 'GoneException', `Connection ${connectionId} is gone`);
}

function rejectUpgrade(
  socket: Duplex,
  status: number,
  body?: string,
  headers: Record<string, string> = {},
): void {
  const reason = STATUS_CODES[status] ?? 'Unknown';
  const payload = body ?? JSON.stringify({ message: reason });
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
  );
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const ip = address.replace(/^::ffff:/, '');
  return ip === '::1' || ip.startsWith('127.');
}

function sourceIpOf(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

/** Ids shaped like API Gateway's connection and WebSocket request ids, e.g. 'Ab3dEfGhIjKlMn0='. */
function newAwsStyleId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's requestTime format: '09/Apr/2015:12:34:56 +0000'. */
function formatRequestTime(epochMs: number): string {
  const at = new Date(epochMs);
  const pad = (value: number) => String(value).padStart(2, '0');
  return (
    `${pad(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:` +
    `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())} +0000`
  );
}

function describeCloseCode(code: number): string {
  if (code === 1000) return 'Connection closed normally';
  if (code === 1001) return 'Going away';
  if (code === 1005) return 'Client-side close frame status not set';
  if (code === 1006) return 'Connection closed abnormally';
  return `Closed with code ${code}`;
}

function errorDetails(error: unknown): { error: string; stack?: string } {
  return error instanceof Error
    ? { error: `${error.name}: ${error.message}`, stack: error.stack }
    : { error: String(error) };
}

/** Bounded concurrency for WebSocket message handlers, with socket-level backpressure when saturated. */
class MessageAdmission {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly paused = new Set<WebSocket>();

  constructor(private readonly limit: number) {}

  run(ws: WebSocket, work: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const start = () => {
        this.active++;
        work()
          .catch(() => undefined)
          .finally(() => {
            this.release();
            resolve();
          });
      };
      if (this.active < this.limit) return start();
      this.queue.push(start);
      if (this.queue.length >= this.limit && ws.readyState === ws.OPEN && !this.paused.has(ws)) {
        ws.pause();
        this.paused.add(ws);
      }
    });
  }

  private release() {
    this.active--;
    this.queue.shift()?.();
    if (this.queue.length < this.limit / 2 && this.paused.size) {
      for (const ws of this.paused) if (ws.readyState === ws.OPEN) ws.resume();
      this.paused.clear();
    }
  }
}

/** A path segment that could escape its parameter: '.', '..', or one holding '/', '\' or NUL once decoded. */
function isUnsafePathSegment(segment: string): boolean {
  return (
    segment === '.' ||
    segment === '..' ||
    segment.includes('/') ||
    segment.includes('\\') ||
    segment.includes('\0')
  );
}
