/**
 * Open-loop WebSocket load on the local face, beside engine-only time for the same messages in the same
 * run, so end-to-end overhead is read off one machine. Loopback only; every loop is bounded in count and
 * time; the run stops by itself.
 *   npm run bench:ws [-- --url ws://127.0.0.1:3000/ws] [--scenario 1,2,3] [--duration 10] [--clients 20]
 *                    [--rate 20] [--steps 5,10,25] [--grace 30] [--server-log face.log]
 * Without --url it starts its own face (local/main.ts in a child process, temporary DATA_DIR, removed at
 * the end) and replaces it after a scenario that left answers outstanding, so no scenario inherits another's
 * backlog. Exit code is non-zero only when a face cannot start or a --url target cannot be reached.
 * Its own face runs with RATE_LIMITS=off; start a --url target with RATE_LIMITS=off too (or raise
 * RATE_LIMIT_CONNECT_* and RATE_LIMIT_MESSAGES_PER_IP*), or most frames come back RateLimited.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { createEmbeddedEngine } from '#adapters/engineFactory';
import { seededRandom } from '#core/logisticRegression';
import { type LocalFaceProcess, startLocalFaceProcess } from '../test/support/localFaceProcess';
import { loadBuiltInKnowledgeBase, loadClinc, loadIntentSplit, loadStandardParaphrases } from './datasets';
import { percentile } from './evaluation';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const OUT_OF_SCOPE_SHARE = 0.15;
/** Upper bound on the straggler wait after a scenario's send window. */
const MAX_GRACE_S = 120;
/** A socket holding more than this unsent is not written to: the message is skipped, not queued. */
const MAX_BUFFERED_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
/** Straggler wait ends early once only forwarded-looking messages are left and the line was this quiet. */
const FORWARDED_QUIET_MS = 3000;
const CONNECT_BATCH = 50;
/** Engine-only timing stops early past this, so a slow machine still finishes. */
const ENGINE_TIME_BUDGET_MS = 60_000;
/** Saturation criterion: achieved ≥ 95 % of offered and p95 below 1 s. */
const SATURATION = { achievedShare: 0.95, p95Ms: 1000 };

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    scenario: { type: 'string', default: '1,2,3' },
    duration: { type: 'string' },
    clients: { type: 'string' },
    rate: { type: 'string' },
    steps: { type: 'string', default: '5,10,25,50,100,200,400' },
    grace: { type: 'string', default: String(MAX_GRACE_S) },
    'server-log': { type: 'string' },
  },
});

function usage(message: string): never {
  console.error(`bench:ws: ${message}`);
  process.exit(2);
}

const positive = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) usage(`--${name} must be a positive number, got "${raw}"`);
  return value;
};

const options = {
  scenarios: new Set(flags.scenario.split(',').map((s) => s.trim())),
  durationS: positive('duration', flags.duration),
  clients: positive('clients', flags.clients),
  rate: positive('rate', flags.rate),
  steps: flags.steps.split(',').map((s) => positive('steps', s)!),
  graceS: Math.min(MAX_GRACE_S, positive('grace', flags.grace)!),
};
for (const s of options.scenarios) if (!['1', '2', '3'].includes(s)) usage(`unknown scenario "${s}"`);

/** Refuses anything but a WebSocket URL on this machine's loopback interface. */
function loopbackTarget(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    usage(`--url "${raw}" is not a URL`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') usage(`--url must be ws:// or wss://, got ${raw}`);
  if (!LOOPBACK_HOSTS.has(url.hostname)) {
    usage(`--url host ${url.hostname} is not loopback; only 127.0.0.1, localhost and ::1 are allowed`);
  }
  return url.toString();
}

// --- Message mix ----------------------------------------------------------------------------------

const FALLBACK_OUT_OF_SCOPE = [
  'What is the weather going to be like in Lisbon tomorrow?',
  'Can you recommend a good pizza place nearby?',
  'who won the world cup in 2014',
  'how many calories are in an avocado',
  'set an alarm for 6 am',
  'what is the capital of australia',
  'tell me a joke about cats',
  'how do I change a flat tyre on my bike',
];

/** FAQ-style questions plus ~15 % out-of-scope ones, shuffled with a fixed seed: the same deck every run. */
function messageDeck(): { texts: string[]; outOfScope: Set<string> } {
  const inScope = [
    ...new Set([...loadStandardParaphrases('all'), ...loadIntentSplit('test')].map((c) => c.text)),
  ];
  const wanted = Math.round((inScope.length * OUT_OF_SCOPE_SHARE) / (1 - OUT_OF_SCOPE_SHARE));
  let pool: string[];
  try {
    pool = [...loadClinc('val'), ...loadClinc('train')].filter((r) => !r.inScope).map((r) => r.text);
  } catch {
    pool = FALLBACK_OUT_OF_SCOPE;
  }
  const outOfScope = [...new Set(pool)].filter((t) => !inScope.includes(t)).slice(0, wanted);
  const texts = [...inScope, ...outOfScope];
  const random = seededRandom(2024);
  for (let i = texts.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [texts[i], texts[j]] = [texts[j]!, texts[i]!];
  }
  return { texts, outOfScope: new Set(outOfScope) };
}

// --- Engine-only baseline -------------------------------------------------------------------------

async function engineOnly(texts: readonly string[]) {
  const loadStarted = performance.now();
  const engine = await createEmbeddedEngine({ faqs: loadBuiltInKnowledgeBase() });
  const loadMs = performance.now() - loadStarted;
  const latencies: number[] = [];
  let escalated = 0;
  const deadline = performance.now() + ENGINE_TIME_BUDGET_MS;
  // Each text once, in send order: its first occurrence, so the embedding is never a cache hit.
  for (const text of texts) {
    if (performance.now() > deadline) break;
    const t0 = performance.now();
    const outcome = await engine.handleTurn({ text });
    latencies.push(performance.now() - t0);
    if (outcome.kind === 'escalate') escalated++;
  }
  return { loadMs, latencies, escalated };
}

// --- Load generation --------------------------------------------------------------------------------

interface Scenario {
  readonly label: string;
  readonly clients: number;
  /** Offered messages per second over all clients. */
  readonly rate: number;
  readonly durationS: number;
}

interface LoadClient {
  readonly index: number;
  readonly socket: WebSocket;
  /** Conversation continued by the next message; cleared when the bot hands it to a human. */
  conversationId?: string;
  readonly pending: Set<string>;
}

interface PendingMessage {
  readonly client: LoadClient;
  readonly sentAt: number;
  readonly conversationId?: string;
}

interface ScenarioResult {
  readonly scenario: Scenario;
  readonly connected: number;
  readonly offered: number;
  readonly sent: number;
  readonly skipped: number;
  readonly replies: number;
  readonly escalated: number;
  readonly answeredInWindow: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly lost: number;
  readonly forwarded: number;
  readonly unmatchedFrames: number;
  /** Sockets the server (or the network) closed before the scenario was over. */
  readonly closedEarly: number;
  /** Set when our own face process ended during the scenario without being asked to. */
  readonly faceExit?: string;
  readonly latencies: readonly number[];
  readonly maxSendLagMs: number;
  /** Connect, send window, straggler wait and close. */
  readonly wallS: number;
  readonly serverCpu?: number;
  readonly clientCpu: number;
}

const achievedRate = (r: ScenarioResult) => r.answeredInWindow / r.scenario.durationS;

/** CPU seconds used so far by a process (Linux /proc; undefined elsewhere or once it has exited). */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function connectClients(url: string, count: number, onSocket: (socket: WebSocket) => void) {
  const sockets: WebSocket[] = [];
  for (let start = 0; start < count; start += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - start) }, () => {
      const socket = new WebSocket(url, { handshakeTimeout: CONNECT_TIMEOUT_MS });
      onSocket(socket);
      return new Promise<WebSocket | undefined>((resolve) => {
        socket.once('open', () => resolve(socket));
        socket.once('close', () => resolve(undefined));
        socket.once('error', () => resolve(undefined));
      });
    });
    for (const socket of await Promise.all(batch)) if (socket) sockets.push(socket);
  }
  return sockets;
}

async function runScenario(
  url: string,
  scenario: Scenario,
  nextText: () => string,
  serverPid: number | undefined,
  faceExit: () => string | undefined,
): Promise<ScenarioResult> {
  const wallStart = performance.now();
  const runTag = `${Date.now().toString(36)}.${scenario.label.replace(/[^A-Za-z0-9]/g, '')}`;
  const pending = new Map<string, PendingMessage>();
  const escalatedConversations = new Set<string>();
  const errors = new Map<string, number>();
  const latencies: number[] = [];
  let sent = 0;
  let skipped = 0;
  let replies = 0;
  let escalated = 0;
  let answeredInWindow = 0;
  let lost = 0;
  let unmatchedFrames = 0;
  let closedEarly = 0;
  let lastFrameAt = performance.now();
  let closing = false;
  let windowEnd = Number.POSITIVE_INFINITY;
  const countError = (code: string) => errors.set(code, (errors.get(code) ?? 0) + 1);

  const settle = (id: string): PendingMessage | undefined => {
    const message = pending.get(id);
    if (!message) return undefined;
    pending.delete(id);
    message.client.pending.delete(id);
    return message;
  };

  const clients: LoadClient[] = [];
  const live: LoadClient[] = [];
  const attach = (socket: WebSocket) => {
    const client: LoadClient = { index: clients.length, socket, pending: new Set() };
    clients.push(client);
    socket.on('error', () => undefined); // reported through 'close'; an unhandled 'error' would crash
    socket.on('close', () => {
      if (!closing && live.includes(client)) closedEarly++;
      // Whatever this socket was still waiting for can no longer arrive.
      for (const id of [...client.pending]) if (settle(id)) lost++;
    });
    socket.on('message', (data) => {
      const now = performance.now();
      lastFrameAt = now;
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        unmatchedFrames++;
        return;
      }
      const id = typeof frame.clientMessageId === 'string' ? frame.clientMessageId : undefined;
      const message = id === undefined ? undefined : settle(id);
      if (!message) {
        if (frame.type === 'error') countError(String(frame.code));
        // The gateway's own frames ({"message":"Endpoint request timed out"}) name no message: the message
        // they answer stays pending and is also counted as lost.
        else if (frame.type === undefined && typeof frame.message === 'string')
          countError(`gateway "${frame.message}" (unattributed)`);
        else unmatchedFrames++;
        return;
      }
      const conversationId = typeof frame.conversationId === 'string' ? frame.conversationId : undefined;
      if (frame.type === 'reply' || frame.type === 'escalated') {
        latencies.push(now - message.sentAt);
        if (now <= windowEnd) answeredInWindow++;
        if (frame.type === 'reply') replies++;
        else escalated++;
        if (frame.type === 'escalated' && conversationId) {
          // A human owns it now: later messages there are forwarded, not answered. Start a new chat.
          escalatedConversations.add(conversationId);
          if (client.conversationId === conversationId) client.conversationId = undefined;
        } else if (conversationId && !client.conversationId && !escalatedConversations.has(conversationId)) {
          client.conversationId = conversationId;
        }
      } else if (frame.type === 'error') {
        countError(String(frame.code));
      } else {
        unmatchedFrames++;
      }
    });
  };

  const sockets = await connectClients(url, scenario.clients, attach);
  live.push(...clients.filter((c) => sockets.includes(c.socket)));
  const offered = Math.round(scenario.rate * scenario.durationS);

  const send = (k: number) => {
    const client = live[k % live.length];
    const text = nextText();
    if (!client || client.socket.readyState !== WebSocket.OPEN) {
      skipped++;
      return;
    }
    if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      skipped++;
      return;
    }
    const id = `${runTag}.${client.index}.${k}`;
    const conversationId = client.conversationId;
    const frame = JSON.stringify({
      action: 'sendMessage',
      text,
      clientMessageId: id,
      ...(conversationId ? { conversationId } : {}),
    });
    pending.set(id, { client, sentAt: performance.now(), conversationId });
    client.pending.add(id);
    sent++;
    try {
      client.socket.send(frame, (error) => {
        if (error && settle(id)) lost++;
      });
    } catch {
      if (settle(id)) lost++;
    }
  };

  // Open loop: message k leaves at start + k/rate whatever happened to earlier ones; clients take turns,
  // so each client sends on its own fixed period of clients/rate seconds.
  const cpuBefore = processCpuSeconds(serverPid);
  const clientCpuBefore = process.cpuUsage();
  const gapMs = 1000 / scenario.rate;
  const start = performance.now();
  const hardStop = start + scenario.durationS * 1000 + 5000;
  windowEnd = start + scenario.durationS * 1000;
  let maxSendLagMs = 0;
  let k = 0;
  while (k < offered && performance.now() < hardStop) {
    const now = performance.now();
    while (k < offered && start + k * gapMs <= now) {
      maxSendLagMs = Math.max(maxSendLagMs, now - (start + k * gapMs));
      send(k);
      k++;
    }
    if (k < offered) await sleep(Math.max(0, start + k * gapMs - performance.now()));
  }
  skipped += offered - k;
  const sendMs = performance.now() - start;
  const cpuAfter = processCpuSeconds(serverPid);
  const clientCpu = process.cpuUsage(clientCpuBefore);

  // Stragglers: wait for the remaining answers, at most the grace period. Messages sent into a conversation
  // the bot has since escalated get no bot answer at all, so once only those are left and nothing has
  // arrived for a while, waiting longer would only pad the run.
  const graceStart = performance.now();
  const graceEnd = graceStart + options.graceS * 1000;
  const onlyForwardedLeft = () =>
    [...pending.values()].every((m) => m.conversationId && escalatedConversations.has(m.conversationId));
  while (pending.size > 0 && performance.now() < graceEnd) {
    if (performance.now() - lastFrameAt > FORWARDED_QUIET_MS && onlyForwardedLeft()) break;
    await sleep(50);
  }

  let forwarded = 0;
  for (const [id, message] of pending) {
    settle(id);
    // Sent into a conversation that was escalated before the server saw it: a human answers, not the bot.
    if (message.conversationId && escalatedConversations.has(message.conversationId)) forwarded++;
    else lost++;
  }
  closing = true;
  await closeAll(clients.map((c) => c.socket));

  return {
    scenario,
    connected: live.length,
    offered,
    sent,
    skipped,
    replies,
    escalated,
    answeredInWindow,
    errors,
    lost,
    forwarded,
    unmatchedFrames,
    closedEarly,
    faceExit: faceExit(),
    latencies,
    maxSendLagMs,
    wallS: (performance.now() - wallStart) / 1000,
    serverCpu:
      cpuBefore !== undefined && cpuAfter !== undefined
        ? (cpuAfter - cpuBefore) / (sendMs / 1000)
        : undefined,
    clientCpu: (clientCpu.user + clientCpu.system) / 1000 / sendMs,
  };
}

async function closeAll(sockets: readonly WebSocket[]) {
  for (const socket of sockets) {
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'benchmark done');
  }
  const deadline = performance.now() + 2000;
  while (sockets.some((s) => s.readyState !== WebSocket.CLOSED) && performance.now() < deadline) {
    await sleep(20);
  }
  for (const socket of sockets) if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
}

// --- Report ---------------------------------------------------------------------------------------

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const pct = (value: number) => `${Math.round(value * 100)}%`;

/** One line per scenario. Latency percentiles cover answered messages only; lost ones are counted apart. */
function describe(r: ScenarioResult): string {
  const { scenario: s, latencies } = r;
  const errorCount = [...r.errors.values()].reduce((a, b) => a + b, 0);
  const errorText = errorCount
    ? `${errorCount} (${[...r.errors].map(([code, n]) => `${code} ${n}`).join(', ')})`
    : '0';
  const extras = [
    r.connected < s.clients ? `connected ${r.connected}/${s.clients}` : '',
    r.forwarded ? `forwarded to a human ${r.forwarded}` : '',
    r.skipped ? `skipped ${r.skipped}` : '',
    r.unmatchedFrames ? `unmatched frames ${r.unmatchedFrames}` : '',
    r.closedEarly ? `sockets closed by the server ${r.closedEarly}` : '',
    r.faceExit ? `FACE PROCESS ENDED UNEXPECTEDLY (${r.faceExit})` : '',
    r.serverCpu !== undefined ? `server CPU ${pct(r.serverCpu)}` : '',
    `client CPU ${pct(r.clientCpu)}`,
    `wall ${r.wallS.toFixed(0)} s`,
    r.maxSendLagMs > 50 ? `send lag max ${ms(r.maxSendLagMs)} ms` : '',
  ].filter(Boolean);
  return (
    `[${s.label}] ${s.clients} clients, ${s.durationS} s: offered ${s.rate.toFixed(1)} msg/s, ` +
    `achieved ${achievedRate(r).toFixed(1)} answers/s | latency p50 ${ms(percentile(latencies, 50))} / ` +
    `p95 ${ms(percentile(latencies, 95))} / p99 ${ms(percentile(latencies, 99))} / ` +
    `max ${ms(latencies.reduce((a, b) => Math.max(a, b), 0))} ms | sent ${r.sent}, ` +
    `answered ${r.replies + r.escalated} (${r.replies} reply / ${r.escalated} escalated), ` +
    `errors ${errorText}, lost ${r.lost}` +
    (extras.length ? ` | ${extras.join(', ')}` : '')
  );
}

const meetsTarget = (r: ScenarioResult) =>
  achievedRate(r) >= SATURATION.achievedShare * r.scenario.rate &&
  percentile(r.latencies, 95) < SATURATION.p95Ms &&
  r.latencies.length > 0;

/** Warnings and errors the face printed, most frequent first, with numbers masked so repeats group. */
function serverErrorSummary(output: string): string {
  const counts = new Map<string, number>();
  for (const line of output.split('\n')) {
    let key: string | undefined;
    const field = /^\s*error: '(.*)',?$/.exec(line); // console.error(message, { error, stack }) entries
    if (field) key = field[1];
    else if (/:WARN - /.test(line)) key = line.trim();
    else if (line.startsWith('{')) {
      try {
        const entry = JSON.parse(line) as { level?: string; message?: string };
        if (entry.level === 'WARN' || entry.level === 'ERROR') key = `${entry.level} ${entry.message}`;
      } catch {
        // not a structured log line
      }
    }
    if (key === undefined) continue;
    key = key.replace(/\d+/g, '#').slice(0, 120);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (!counts.size) return 'server log: no warnings or errors';
  const top = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([line, n]) => `${n}× ${line}`);
  return `server log: ${[...counts.values()].reduce((a, b) => a + b, 0)} warnings/errors; ${top.join(' | ')}`;
}

// --- Main -----------------------------------------------------------------------------------------

/**
 * The face under load. Our own one is replaced (killed, fresh DATA_DIR) after a scenario that left answers
 * outstanding, so the next scenario does not inherit that backlog; a --url target cannot be.
 */
class LoadTarget {
  private face: LocalFaceProcess | undefined;
  private starts = 0;
  private unexpectedExit: string | undefined;
  private earlierOutput = '';

  private constructor(
    readonly url: string,
    private readonly dataDir?: string,
  ) {}

  static async running(url: string): Promise<LoadTarget | undefined> {
    const probe = await connectClients(url, 1, () => undefined);
    await closeAll(probe);
    return probe.length ? new LoadTarget(url) : undefined;
  }

  /** Throws when the face cannot start. */
  static async own(): Promise<LoadTarget> {
    const dataDir = mkdtempSync(join(tmpdir(), 'supportmax-bench-'));
    const face = await LoadTarget.startFace(dataDir, 1).catch((error: unknown) => {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    });
    const target = new LoadTarget(face.wsUrl, dataDir);
    target.adopt(face);
    target.starts = 1;
    return target;
  }

  private static startFace(dataDir: string, n: number) {
    const dir = join(dataDir, `face-${n}`);
    mkdirSync(dir, { recursive: true });
    // Every bench client shares 127.0.0.1: the per-IP limits would measure the limiter, not the face.
    return startLocalFaceProcess(dir, { RATE_LIMITS: 'off', SMTP_PORT: '0' });
  }

  private adopt(face: LocalFaceProcess) {
    this.face = face;
    this.unexpectedExit = undefined;
    face.child.once('exit', (code, signal) => {
      if (this.face === face) this.unexpectedExit = signal ?? `code ${code}`;
    });
  }

  /** Why our face ended without being stopped, if it did; a --url target is not watched. */
  exitReason(): string | undefined {
    return this.unexpectedExit;
  }

  get own(): boolean {
    return this.dataDir !== undefined;
  }

  get pid(): number | undefined {
    return this.face?.child.pid;
  }

  /** A fresh face on a new port; the caller connects to `currentUrl()` afterwards. */
  async replace(): Promise<void> {
    if (!this.dataDir) return;
    await this.stop(true);
    this.starts++;
    this.adopt(await LoadTarget.startFace(this.dataDir, this.starts));
  }

  currentUrl(): string {
    return this.face?.wsUrl ?? this.url;
  }

  output(): string {
    return this.earlierOutput + (this.face?.output() ?? '');
  }

  private async stop(hard: boolean) {
    const face = this.face;
    if (!face) return;
    this.face = undefined;
    this.earlierOutput += face.output();
    // A clean SIGTERM gets a few seconds; its data is thrown away, so nothing is lost by cutting it short.
    await Promise.race([face.stop(hard), sleep(hard ? 15_000 : 3000).then(() => face.stop(true))]);
  }

  /** `hard` when the face still has a backlog. */
  async close(serverLog: string | undefined, hard: boolean) {
    await this.stop(hard);
    if (serverLog && this.own) writeFileSync(serverLog, this.earlierOutput);
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  const requested = flags.url ? loopbackTarget(flags.url) : undefined;
  const deck = messageDeck();
  let target: LoadTarget | undefined;
  try {
    target = requested ? await LoadTarget.running(requested) : await LoadTarget.own();
  } catch (error) {
    console.error(`bench:ws: the local face could not start: ${(error as Error).message}`);
    return 1;
  }
  if (!target) {
    console.error(`bench:ws: could not open a WebSocket to ${requested}`);
    return 1;
  }
  const load = target;
  let backlog = false;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await load.close(flags['server-log'], backlog);
  };
  const interrupted = () => void close().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    console.log(
      `target ${load.currentUrl()}${load.own ? ' (own local face, temporary DATA_DIR)' : ''}; message mix: ` +
        `${deck.texts.length} distinct texts, ${deck.outOfScope.size} out of scope ` +
        `(${pct(deck.outOfScope.size / deck.texts.length)})`,
    );

    // Engine-only first, while the face is idle: same texts, same order, same machine.
    const engine = await engineOnly(deck.texts);
    console.log(
      `[engine-only] handleTurn in-process, uncached embeddings, ${engine.latencies.length} messages ` +
        `(${engine.escalated} escalated): p50 ${ms(percentile(engine.latencies, 50))} / ` +
        `p95 ${ms(percentile(engine.latencies, 95))} ms (engine load ${(engine.loadMs / 1000).toFixed(1)} s, ` +
        `timing ${(engine.latencies.reduce((a, b) => a + b, 0) / 1000).toFixed(0)} s)`,
    );

    let cursor = 0;
    const nextText = () => deck.texts[cursor++ % deck.texts.length]!;
    const run = async (scenario: Scenario) => {
      if (backlog) {
        if (load.own) await load.replace();
        else console.log('  (the target still works off the previous backlog; these numbers include it)');
      }
      const result = await runScenario(load.currentUrl(), scenario, nextText, load.pid, () =>
        load.exitReason(),
      );
      backlog = result.lost > 0 || result.faceExit !== undefined;
      return result;
    };

    for (const label of ['1', '2'] as const) {
      if (!options.scenarios.has(label)) continue;
      const clients = options.clients ?? (label === '1' ? 20 : 200);
      const rate = options.rate ?? clients;
      console.log(describe(await run({ label, clients, rate, durationS: options.durationS ?? 30 })));
    }
    if (options.scenarios.has('3')) {
      const clients = options.clients ?? 50;
      let best: ScenarioResult | undefined;
      let failed: ScenarioResult | undefined;
      for (const rate of options.steps) {
        const result = await run({ label: `3@${rate}`, clients, rate, durationS: options.durationS ?? 10 });
        console.log(describe(result));
        if (!meetsTarget(result)) {
          failed = result;
          break; // past saturation: higher steps would only queue more
        }
        best = result;
      }
      const firstFailure = failed
        ? `; ${failed.scenario.rate} msg/s fails (achieved ${achievedRate(failed).toFixed(1)}/s, ` +
          `p95 ${ms(percentile(failed.latencies, 95))} ms)`
        : '; no step failed';
      console.log(
        `[3] saturation (achieved ≥ 95% of offered, p95 < 1 s, ${clients} clients): ` +
          `${best ? `${best.scenario.rate} msg/s` : 'none of the steps'}${firstFailure}`,
      );
    }
    if (load.own) console.log(serverErrorSummary(load.output()));
    console.log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return 0;
  } catch (error) {
    if (error instanceof Error && /local face (did not start|exited)/.test(error.message)) {
      console.error(`bench:ws: the local face could not start: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await close();
  }
}

// Explicit exit: the in-process engine's model runtime may keep handles open.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench:ws failed:', error);
    process.exit(1);
  },
);
