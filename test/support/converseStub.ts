/**
 * A local stand-in for Bedrock Runtime's Converse endpoint (POST /model/{modelId}/converse), so the real
 * SDK client — serialization, SigV4 signing, error parsing — is exercised without AWS. Test-only.
 * Speaks cleartext HTTP/2 because BedrockRuntimeClient's default request handler is NodeHttp2Handler;
 * node:http2's compatibility API keeps the handler code identical to a node:http one.
 */
import {
  createServer,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface RecordedConverseRequest {
  readonly method: string;
  readonly path: string;
  /** Model id decoded from the path, e.g. 'anthropic.claude-3-haiku-20240307-v1:0'. */
  readonly modelId: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: ConverseWireBody;
}

export interface ConverseWireBody {
  readonly messages: { role: string; content: { text?: string }[] }[];
  readonly system?: { text?: string }[];
  readonly inferenceConfig?: { maxTokens?: number; temperature?: number };
}

export type ConverseStubBehaviour = (
  | {
      readonly kind: 'answer';
      readonly text: string;
      readonly inputTokens?: number;
      readonly outputTokens?: number;
    }
  | { readonly kind: 'throttle' }
  | { readonly kind: 'server-error' }
  | {
      /** The model asks for a tool: a toolUse content block (after optional text), stopReason tool_use. */
      readonly kind: 'tool-use';
      readonly name: string;
      readonly input: unknown;
      readonly text?: string;
      /** @default 'tool_use' */
      readonly stopReason?: string;
    }
) & {
  /** Hold the response this long before sending it. */
  readonly delayMs?: number;
};

export interface ConverseStub {
  readonly url: string;
  readonly requests: readonly RecordedConverseRequest[];
  setBehaviour(behaviour: ConverseStubBehaviour): void;
  close(): Promise<void>;
}

const CONVERSE_PATH = /^\/model\/([^/]+)\/converse$/;

export const startConverseStub = async (
  initial: ConverseStubBehaviour = { kind: 'answer', text: 'Stub answer.' },
): Promise<ConverseStub> => {
  let behaviour = initial;
  const requests: RecordedConverseRequest[] = [];
  const pending = new Set<ReturnType<typeof setTimeout>>();
  const sessions = new Set<Http2Session>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      const match = CONVERSE_PATH.exec(path);
      if (req.method !== 'POST' || !match?.[1]) {
        sendError(res, 404, 'UnknownOperationException', `No route for ${req.method} ${path}`);
        return;
      }
      requests.push({
        method: req.method,
        path,
        modelId: decodeURIComponent(match[1]),
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConverseWireBody,
      });
      const current = behaviour;
      const respond = () => respondWith(res, current);
      if (!current.delayMs) return respond();
      const timer = setTimeout(() => {
        pending.delete(timer);
        respond();
      }, current.delayMs);
      pending.add(timer);
    });
  });

  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setBehaviour: (next) => {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        // Pooled client sessions and held (delayed) responses would otherwise keep close() waiting.
        for (const session of sessions) session.destroy();
      }),
  };
};

const respondWith = (res: Http2ServerResponse, behaviour: ConverseStubBehaviour): void => {
  switch (behaviour.kind) {
    case 'answer': {
      const inputTokens = behaviour.inputTokens ?? 120;
      const outputTokens = behaviour.outputTokens ?? 40;
      sendJson(res, 200, {
        output: { message: { role: 'assistant', content: [{ text: behaviour.text }] } },
        stopReason: 'end_turn',
        usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
        metrics: { latencyMs: 12 },
      });
      return;
    }
    case 'tool-use':
      sendJson(res, 200, {
        output: {
          message: {
            role: 'assistant',
            content: [
              ...(behaviour.text ? [{ text: behaviour.text }] : []),
              { toolUse: { toolUseId: 'tooluse_stub_1', name: behaviour.name, input: behaviour.input } },
            ],
          },
        },
        stopReason: behaviour.stopReason ?? 'tool_use',
        usage: { inputTokens: 120, outputTokens: 20, totalTokens: 140 },
        metrics: { latencyMs: 12 },
      });
      return;
    case 'throttle':
      sendError(res, 429, 'ThrottlingException', 'Too many requests');
      return;
    case 'server-error':
      sendError(res, 500, 'InternalServerException', 'Internal server error');
      return;
  }
};

const sendError = (res: Http2ServerResponse, status: number, errorType: string, message: string): void =>
  sendJson(
    res,
    status,
    { message },
    {
      'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    },
  );

const sendJson = (
  res: Http2ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': `stub-${Date.now()}`,
    ...headers,
  });
  res.end(payload);
};
