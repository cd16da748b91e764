/**
 * The bad-input corpus (data/security/bad-input.jsonl) against the local face as a user runs it
 * (local/main.ts in a child process): every WebSocket case over a few connections, every REST case signed
 * out and signed in. Asserts the documented outcome of each case, that no answer carries markup, the system
 * prompt or an echo of the attack, that nothing answers 5xx, and that the server is alive and its data
 * intact afterwards. Rate limits are lifted here (RATE_LIMITS=off); they have their own tests.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type OutgoingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supportSystemPrompt } from '#adapters/bedrockModelProvider';
import { type BadInputCase, CORPUS_PATH, type RestRequest } from '../../scripts/badInputCorpus';
import { type LocalFaceProcess, startLocalFaceProcess } from '../support/localFaceProcess';
import { loginOperator, OPERATOR_TEST_ENV, TEST_ADMIN_PASSWORD } from '../support/operatorLogin';
import { connectWebSocket, type TestWebSocket } from '../support/webSocketClient';

const CONNECTIONS = 4;
const ANSWER_TIMEOUT_MS = 20_000;

type WsCase = Extract<BadInputCase, { channel: 'ws' }>;
type RestCase = Extract<BadInputCase, { channel: 'rest' }>;
interface Frame {
  type?: string;
  code?: string;
  text?: string;
  message?: string;
  [key: string]: unknown;
}

const corpus = readFileSync(CORPUS_PATH, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as BadInputCase);

/** Markup no answer may hold outside code spans (which the chat shows literally). */
const MARKUP =
  /<\s*\/?\s*(?:script|img|svg|iframe|a|b|body|style|object|embed|form|input|details|video|audio|math|link|meta|base|div|span|p|marquee|textarea|select|template|xss|x|custom-element)\b[^<>]*>|\bon[a-z]{3,}\s*=|javascript:|vbscript:|data:text\/html/i;
const withoutCode = (text: string) => text.replace(/```[\s\S]*?```|`[^`\n]+`/g, '');
/** The shared acceptance check's notion of a leaked prompt, plus 5-gram overlap with ours. */
const PROMPT_LEAK =
  /system prompt:|you are a (helpful )?(support )?assistant|customer-support assistant for/i;
const promptGrams = (() => {
  const words =
    supportSystemPrompt('our company')
      .toLowerCase()
      .match(/[a-z0-9]+/g) ?? [];
  return new Set(words.slice(4).map((_, i) => words.slice(i, i + 5).join(' ')));
})();
const sharesPromptText = (text: string) => {
  const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  for (let i = 0; i + 5 <= words.length; i++)
    if (promptGrams.has(words.slice(i, i + 5).join(' '))) return true;
  return false;
};

/** Problems with one answer frame, empty when it is safe. */
function frameProblems(c: WsCase, frame: Frame): string[] {
  const problems: string[] = [];
  const shown = [frame.text, frame.message].filter((t): t is string => typeof t === 'string');
  for (const text of shown) {
    if (/<script/i.test(text)) problems.push('contains <script');
    if (MARKUP.test(withoutCode(text))) problems.push(`raw markup: ${withoutCode(text).match(MARKUP)?.[0]}`);
    if (PROMPT_LEAK.test(text) || sharesPromptText(text)) problems.push('system prompt text');
  }
  let input: unknown;
  try {
    input = (JSON.parse(c.frame) as { text?: unknown }).text;
  } catch {
    input = undefined;
  }
  if (typeof input === 'string' && input.trim().length >= 24 && typeof frame.text === 'string') {
    if (frame.text.includes(input.trim().slice(0, 40))) problems.push('echoes the input');
  }
  if (typeof frame.clientMessageId === 'string' && !/^[A-Za-z0-9_.:-]{1,100}$/.test(frame.clientMessageId))
    problems.push('echoes a malformed clientMessageId');
  const expected = c.expect === 'error' ? ['error'] : ['reply', 'escalated'];
  if (!expected.includes(String(frame.type))) {
    problems.push(`expected ${expected.join('/')}, got ${frame.type ?? JSON.stringify(frame).slice(0, 80)}`);
  }
  if (frame.code === 'InternalError' || frame.message === 'Internal server error')
    problems.push('internal error');
  return problems;
}

interface RestOutcome {
  status: number;
  body: string;
  /** The connection was reset instead of answered (only acceptable for oversized headers). */
  reset?: boolean;
}

/** node:http sends the path verbatim (fetch would normalise '..') and any method. */
function sendRest(
  baseUrl: string,
  req: RestRequest,
  extraHeaders: Record<string, string>,
): Promise<RestOutcome> {
  const url = new URL(baseUrl);
  const headers: OutgoingHttpHeaders = { ...extraHeaders, ...(req.headers ?? {}) };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise((resolve) => {
    const outgoing = request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', () => resolve({ status: 0, body: '', reset: true }));
      },
    );
    outgoing.setTimeout(ANSWER_TIMEOUT_MS, () => outgoing.destroy(new Error('timeout')));
    outgoing.on('error', () => resolve({ status: 0, body: '', reset: true }));
    outgoing.end(req.body);
  });
}

const hasOversizedHeader = (req: RestRequest) =>
  Object.values(req.headers ?? {}).some((value) => value.length > 16 * 1024);

function restProblems(c: RestCase, outcome: RestOutcome, signedIn: boolean): string[] {
  if (outcome.reset) return hasOversizedHeader(c.request) ? [] : ['connection reset'];
  const { status } = outcome;
  if (status >= 500) return [`${status}`];
  const is4xx = status >= 400 && status < 500;
  const is2xx = status >= 200 && status < 300;
  const publicPath = c.request.path.startsWith('/api/health');
  if (c.expect === 'status:4xx' && !is4xx) return [`expected 4xx, got ${status}`];
  if (!signedIn && !is4xx && !(publicPath && is2xx)) return [`signed out: expected 4xx, got ${status}`];
  if (!is4xx && !is2xx) return [`unexpected ${status}`];
  if (is2xx && outcome.body) {
    try {
      JSON.parse(outcome.body);
    } catch {
      return ['2xx body is not JSON'];
    }
  }
  return [];
}

/** The admin's cookie and CSRF token; none when the face has no login route yet (404). */
async function signInIfAvailable(
  baseUrl: string,
): Promise<{ signedIn: boolean; headers: Record<string, string> }> {
  try {
    const login = await loginOperator(baseUrl, 'admin', TEST_ADMIN_PASSWORD);
    return { signedIn: true, headers: login.headers() };
  } catch (error) {
    if (/failed with 404/.test(String(error))) return { signedIn: false, headers: {} };
    throw error;
  }
}

describe('hostile input against the local face', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-hostile-'));
  let face: LocalFaceProcess;
  let exited: { code: number | null; signal: string | null } | undefined;
  const sockets: TestWebSocket[] = [];

  beforeAll(async () => {
    face = await startLocalFaceProcess(dataDir, {
      ...OPERATOR_TEST_ENV,
      RATE_LIMITS: 'off',
      SMTP_PORT: '0',
    });
    face.child.once('exit', (code, signal) => {
      exited = { code, signal };
    });
  }, 90_000);

  afterAll(async () => {
    if (exited)
      console.error(`local face exited (${JSON.stringify(exited)}):\n${face.output().slice(-4000)}`);
    for (const ws of sockets) ws.socket.terminate();
    await face?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const open = async () => {
    const ws = await connectWebSocket(face.wsUrl);
    sockets.push(ws);
    return ws;
  };

  const ask = async (text: string): Promise<Frame> => {
    const ws = await open();
    ws.socket.send(JSON.stringify({ action: 'sendMessage', text }));
    const frame = JSON.parse(await ws.messages.next(ANSWER_TIMEOUT_MS)) as Frame;
    ws.socket.close();
    return frame;
  };

  it('answers every corpus case as documented, stays up, and keeps its data intact', async () => {
    // Prepare: a normal question works, and an operator session for the signed-in REST half
    const before = await ask('How do I reset a forgotten password?');
    const session = await signInIfAvailable(face.url);
    const wsCases = corpus.filter((c): c is WsCase => c.channel === 'ws');
    const restCases = corpus.filter((c): c is RestCase => c.channel === 'rest');
    const failures: string[] = [];
    let errorFrames = 0;
    let safeAnswers = 0;
    let serverErrors = 0;

    // Act 1: WebSocket cases, one at a time per connection, over a few connections
    const lanes = Array.from({ length: CONNECTIONS }, (_, lane) =>
      wsCases.filter((_c, index) => index % CONNECTIONS === lane),
    );
    await Promise.all(
      lanes.map(async (lane) => {
        let ws = await open();
        for (const c of lane) {
          if (ws.socket.readyState !== ws.socket.OPEN) {
            failures.push(`${c.id}: connection closed before the case`);
            ws = await open();
          }
          ws.socket.send(c.frame);
          let frame: Frame;
          try {
            frame = JSON.parse(await ws.messages.next(ANSWER_TIMEOUT_MS)) as Frame;
          } catch (error) {
            failures.push(`${c.id}: ${(error as Error).message}`);
            ws.socket.terminate();
            ws = await open();
            continue;
          }
          if (frame.type === 'error') errorFrames++;
          else if (frame.type === 'reply' || frame.type === 'escalated') safeAnswers++;
          if (frame.code === 'InternalError' || frame.message === 'Internal server error') serverErrors++;
          for (const problem of frameProblems(c, frame)) failures.push(`${c.id}: ${problem}`);
        }
      }),
    );

    // Act 2: REST cases signed out, then signed in
    const restStatuses = new Map<string, number>();
    for (const [signedIn, headers] of [
      [false, {}],
      [true, session.headers],
    ] as const) {
      if (signedIn && !session.signedIn) continue;
      for (const c of restCases) {
        const outcome = await sendRest(face.url, c.request, headers);
        if (outcome.status >= 500) serverErrors++;
        const bucket = `${signedIn ? 'in' : 'out'}:${outcome.reset ? 'reset' : `${Math.floor(outcome.status / 100)}xx`}`;
        restStatuses.set(bucket, (restStatuses.get(bucket) ?? 0) + 1);
        for (const problem of restProblems(c, outcome, signedIn))
          failures.push(`${c.id} (${signedIn ? 'signed in' : 'signed out'}): ${problem}`);
      }
    }

    // Act 3: is it still up, and is the data intact?
    const health = await fetch(`${face.url}/api/health`);
    const after = await ask('How do I reset a forgotten password?');
    const cases = await fetch(`${face.url}/api/cases`, { headers: session.headers });
    const caseList = (await cases.json()) as { cases?: unknown[] };
    const crashes = exited ? 1 : 0;

    console.info(
      `hostile input: ${wsCases.length + restCases.length} cases tried (${wsCases.length} ws, ${restCases.length} rest ` +
        `x ${session.signedIn ? 2 : 1}), ${errorFrames} error frames, ${safeAnswers} safe answers, ` +
        `${serverErrors} 5xx, ${crashes} crashes; rest ${[...restStatuses].map(([k, n]) => `${k}=${n}`).join(' ')}`,
    );

    // Assess
    expect(failures).toEqual([]);
    expect(errorFrames + safeAnswers).toBe(wsCases.length);
    expect(serverErrors).toBe(0);
    expect(crashes).toBe(0);
    expect(face.child.exitCode).toBeNull();
    expect(health.status).toBe(200);
    for (const frame of [before, after]) {
      expect(frame).toMatchObject({ type: 'reply' });
      expect((frame.citations as { faqId: string }[]).map((c) => c.faqId)).toContain('auth-009');
    }
    expect(cases.status).toBe(200);
    expect(Array.isArray(caseList.cases)).toBe(true);
    expect(face.output()).not.toMatch(/Unhandled|uncaughtException|FATAL/);
  }, 600_000);
});
