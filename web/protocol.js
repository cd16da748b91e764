/**
 * WebSocket client for the /ws endpoint: JSON text frames, automatic reconnect with jittered exponential
 * backoff, and a status callback for the connection indicator. Used by the chat widget and the operator
 * console. Touches no DOM; the WebSocket constructor and timers can be injected for tests.
 */

/** Reconnect delay for the nth consecutive failure: exponential, capped, with ±25% jitter. */
export function backoffDelay(attempt, { minMs = 500, maxMs = 30_000, random = Math.random } = {}) {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt));
  return Math.round(Math.min(maxMs, base * (0.75 + random() * 0.5)));
}

/** A server frame as an object with a string `type`, or null for anything else. */
export function parseFrame(data) {
  if (typeof data !== 'string') return null;
  try {
    const frame = JSON.parse(data);
    return frame && typeof frame === 'object' && typeof frame.type === 'string' ? frame : null;
  } catch {
    return null;
  }
}

/** ws(s)://host/ws for the page's own origin. */
export function socketUrl(location = globalThis.location, path = '/ws') {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${path}`;
}

/** crypto.randomUUID where available (secure contexts), else a v4 UUID from getRandomValues. */
export function newId(cryptoImpl = globalThis.crypto) {
  if (typeof cryptoImpl.randomUUID === 'function') return cryptoImpl.randomUUID();
  const bytes = cryptoImpl.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Status values passed to onStatus: 'connecting', 'open', 'reconnecting' (with {delayMs}), 'closed'.
 * onOpen runs on every (re)connection, so callers resubscribe or resend there.
 */
export class SupportSocket {
  constructor({
    url,
    onFrame = () => {},
    onStatus = () => {},
    onOpen = () => {},
    WebSocketImpl = globalThis.WebSocket,
    timers = globalThis,
    backoff = backoffDelay,
  }) {
    this.url = url;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onOpen = onOpen;
    this.WebSocketImpl = WebSocketImpl;
    this.timers = timers;
    this.backoff = backoff;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.stopped = true;
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === 1;
  }

  connect() {
    this.stopped = false;
    this.open();
  }

  open() {
    this.clearRetry();
    this.onStatus('connecting');
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let openedAt = 0;
    ws.onopen = () => {
      openedAt = Date.now();
      this.onStatus('open');
      this.onOpen();
    };
    ws.onmessage = (event) => {
      const frame = parseFrame(event.data);
      if (frame) this.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      // Back off from zero only after a connection that held; a server that accepts and drops keeps growing.
      if (openedAt && Date.now() - openedAt > 10_000) this.attempt = 0;
      if (this.stopped) this.onStatus('closed');
      else this.scheduleReconnect();
    };
    // An error is always followed by close; reconnecting happens there.
    ws.onerror = () => {};
  }

  scheduleReconnect() {
    this.clearRetry();
    const delayMs = this.backoff(this.attempt++);
    this.onStatus('reconnecting', { delayMs });
    this.retryTimer = this.timers.setTimeout(() => this.open(), delayMs);
  }

  /** Skips the backoff wait, e.g. on a "Retry now" click or when the browser comes back online. */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    this.open();
  }

  /** Sends one frame; false when the socket is not open (callers keep it and resend from onOpen). */
  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this.stopped = true;
    this.clearRetry();
    if (this.ws) this.ws.close();
    else this.onStatus('closed');
  }

  clearRetry() {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
