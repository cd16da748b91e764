/**
 * Customer chat widget (index.html). Messages go out as sendMessage frames with a fresh clientMessageId
 * and stay "pending" until the server answers them (reply, escalated or error); pending messages are
 * resent with the same id after a reconnect or reload. The conversation id, transcript and pending list
 * live in sessionStorage so a reload continues the same conversation.
 */
import { confidenceBand, formatPercent, reasonLabel } from './labels.js';
import { renderMarkdown } from './markdown.js';
import { newId, SupportSocket, socketUrl } from './protocol.js';

const MAX_LENGTH = 4000;
const HUMAN_REQUEST = 'I want to talk to a human';
const CONVERSATION_KEY = 'supportmax.conversationId';
const CHAT_KEY = 'supportmax.chat';
const TRANSCRIPT_LIMIT = 100;
const TYPING_FRAME_MS = 6000;
const WELCOME = 'Hi! I can help with your account, billing and the product. What do you need?';

const byId = (id) => document.getElementById(id);
const log = byId('chat-log');
const form = byId('composer');
const input = byId('message-input');
const sendButton = byId('send');
const humanButton = byId('talk-to-human');
const counter = byId('char-counter');
const typing = byId('typing');
const connection = byId('connection');
const retryNow = byId('retry-now');

/** Persisted: conversationId, transcript entries, messages awaiting an answer, escalation. */
const state = loadState();
/** clientMessageIds sent on the current connection and not yet answered. */
const inFlight = new Set();
const deliveryNotes = new Map();
let typingUntil = 0;
let typingTimer = null;

function loadState() {
  const empty = { conversationId: null, transcript: [], pending: [], escalated: null };
  try {
    const saved = JSON.parse(sessionStorage.getItem(CHAT_KEY) ?? 'null') ?? {};
    return {
      ...empty,
      transcript: Array.isArray(saved.transcript) ? saved.transcript : [],
      pending: Array.isArray(saved.pending) ? saved.pending : [],
      escalated: saved.escalated ?? null,
      conversationId: sessionStorage.getItem(CONVERSATION_KEY),
    };
  } catch {
    return empty;
  }
}

function saveState() {
  try {
    if (state.conversationId) sessionStorage.setItem(CONVERSATION_KEY, state.conversationId);
    else sessionStorage.removeItem(CONVERSATION_KEY);
    const { transcript, pending, escalated } = state;
    sessionStorage.setItem(
      CHAT_KEY,
      JSON.stringify({ transcript: transcript.slice(-TRANSCRIPT_LIMIT), pending, escalated }),
    );
  } catch {
    // Storage full or disabled: the chat still works, it just won't survive a reload.
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---------- rendering ----------

function renderEntry(entry) {
  switch (entry.kind) {
    case 'customer': {
      const node = el('div', 'msg customer');
      node.append(el('span', 'visually-hidden', 'You: '), document.createTextNode(entry.text));
      const note = el('span', 'delivery');
      deliveryNotes.set(entry.id, note);
      node.append(note);
      return node;
    }
    case 'bot': {
      const node = el('div', 'msg bot');
      node.append(el('span', 'speaker', 'SupportMax assistant'));
      const body = el('div', 'body');
      body.append(renderMarkdown(entry.text ?? '', document));
      node.append(body);
      const meta = replyMeta(entry);
      if (meta) node.append(meta);
      return node;
    }
    case 'agent': {
      const node = el('div', 'msg agent');
      node.append(el('span', 'speaker', `${entry.agentName || 'Support agent'} · support team`));
      node.append(document.createTextNode(entry.text ?? ''));
      return node;
    }
    case 'escalated': {
      const node = el('div', 'system-note');
      node.append(el('strong', null, 'Connecting you with our support team'));
      if (entry.text) node.append(el('span', null, entry.text));
      const ref = el('span', 'case-ref');
      ref.append(document.createTextNode(' Case reference: '), el('code', null, entry.caseId ?? '–'));
      node.append(el('br'), ref);
      if (entry.reason) node.title = `Reason: ${reasonLabel(entry.reason)}`;
      return node;
    }
    case 'error': {
      const node = el('div', 'system-note error');
      node.append(el('strong', null, 'Something went wrong'));
      node.append(el('span', null, entry.message || 'Please try again.'));
      return node;
    }
    default:
      return el('div');
  }
}

function replyMeta(entry) {
  const hasConfidence = typeof entry.confidence === 'number' && Number.isFinite(entry.confidence);
  const citations = Array.isArray(entry.citations) ? entry.citations.filter((c) => c?.question) : [];
  if (!hasConfidence && citations.length === 0) return null;
  const meta = el('div', 'msg-meta');
  if (hasConfidence) {
    const badge = el(
      'span',
      `badge ${confidenceBand(entry.confidence)}`,
      `${formatPercent(entry.confidence)} sure`,
    );
    badge.title = 'How confident the assistant is in this answer';
    meta.append(badge);
  }
  if (citations.length) {
    meta.append(el('span', null, 'Sources:'));
    const list = el('ul', 'sources');
    list.setAttribute('aria-label', 'Sources');
    for (const citation of citations) {
      const item = el('li', null, citation.question);
      if (citation.faqId) item.title = `FAQ ${citation.faqId}`;
      list.append(item);
    }
    meta.append(list);
  }
  return meta;
}

function isNearBottom() {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

function appendEntry(entry, { persist = true } = {}) {
  const stick = isNearBottom() || entry.kind === 'customer';
  log.append(renderEntry(entry));
  if (persist) {
    state.transcript.push(entry);
    if (state.transcript.length > TRANSCRIPT_LIMIT * 2)
      state.transcript = state.transcript.slice(-TRANSCRIPT_LIMIT);
    saveState();
  }
  if (stick) log.scrollTop = log.scrollHeight;
}

function setDelivery(clientMessageId, text) {
  const note = deliveryNotes.get(clientMessageId);
  if (note) note.textContent = text;
}

// ---------- sending ----------

function transmit(message) {
  const frame = { action: 'sendMessage', text: message.text, clientMessageId: message.clientMessageId };
  if (state.conversationId) frame.conversationId = state.conversationId;
  if (socket.send(frame)) {
    inFlight.add(message.clientMessageId);
    setDelivery(message.clientMessageId, '');
  } else {
    setDelivery(message.clientMessageId, 'Waiting for connection…');
  }
}

/** Sends pending messages not yet sent on this connection, oldest first. Until the first answer names the
 * conversation, only one message is in flight so the server cannot open two conversations. */
function flushPending() {
  for (const message of state.pending) {
    if (inFlight.has(message.clientMessageId)) continue;
    if (!state.conversationId && inFlight.size > 0) break;
    transmit(message);
  }
  updateTyping();
}

function sendCustomerMessage(rawText) {
  const text = rawText.slice(0, MAX_LENGTH);
  if (!text.trim()) return;
  const message = { clientMessageId: newId(), text };
  state.pending.push(message);
  appendEntry({ kind: 'customer', id: message.clientMessageId, text });
  if (!socket.isOpen) setDelivery(message.clientMessageId, 'Waiting for connection…');
  flushPending();
}

/** Marks the message a frame answers: the one it names, else the oldest pending (server answers in order). */
function acknowledge(frame) {
  if (state.pending.length === 0) return;
  const index =
    typeof frame.clientMessageId === 'string'
      ? state.pending.findIndex((m) => m.clientMessageId === frame.clientMessageId)
      : 0;
  if (index < 0) return;
  const [message] = state.pending.splice(index, 1);
  inFlight.delete(message.clientMessageId);
  setDelivery(message.clientMessageId, frame.type === 'error' ? 'Not delivered' : '');
  saveState();
}

// ---------- receiving ----------

function onFrame(frame) {
  if (typeof frame.conversationId === 'string' && frame.conversationId && frame.type !== 'error') {
    if (state.conversationId !== frame.conversationId) {
      state.conversationId = frame.conversationId;
      saveState();
    }
  }
  switch (frame.type) {
    case 'reply':
      acknowledge(frame);
      typingUntil = 0;
      if (frame.messageId && state.transcript.some((e) => e.messageId === frame.messageId)) break;
      appendEntry({
        kind: 'bot',
        messageId: frame.messageId,
        text: frame.text,
        confidence: frame.confidence,
        citations: frame.citations,
      });
      break;
    case 'escalated':
      acknowledge(frame);
      typingUntil = 0;
      if (state.escalated?.caseId === frame.caseId && frame.caseId) break;
      state.escalated = { caseId: frame.caseId ?? null };
      appendEntry({ kind: 'escalated', caseId: frame.caseId, reason: frame.reason, text: frame.text });
      break;
    case 'agentMessage':
      typingUntil = 0;
      appendEntry({ kind: 'agent', text: frame.text, agentName: frame.agentName });
      break;
    case 'error':
      acknowledge(frame);
      appendEntry({ kind: 'error', code: frame.code, message: frame.message }, { persist: false });
      break;
    case 'typing':
      typingUntil = Date.now() + TYPING_FRAME_MS;
      break;
    default:
      return;
  }
  flushPending();
  updateControls();
}

function updateTyping() {
  const waiting = socket.isOpen && inFlight.size > 0;
  const show = waiting || Date.now() < typingUntil;
  const label = state.escalated && !waiting ? 'A support agent is typing…' : 'SupportMax is typing…';
  if (!show) {
    typing.replaceChildren();
  } else if (typing.dataset.label !== label || !typing.firstChild) {
    const dots = el('span', 'dots');
    dots.setAttribute('aria-hidden', 'true');
    dots.append(el('span'), el('span'), el('span'));
    typing.replaceChildren(dots, document.createTextNode(` ${label}`));
  }
  typing.dataset.label = show ? label : '';
  clearTimeout(typingTimer);
  if (typingUntil > Date.now()) typingTimer = setTimeout(updateTyping, typingUntil - Date.now() + 50);
}

function updateControls() {
  const length = input.value.length;
  counter.textContent = `${length} / ${MAX_LENGTH}`;
  counter.classList.toggle('near-limit', length > MAX_LENGTH * 0.9);
  sendButton.disabled = input.value.trim() === '';
  humanButton.disabled = Boolean(state.escalated);
  humanButton.textContent = state.escalated ? 'Human requested' : 'Talk to a human';
}

function showConnection(status, detail) {
  connection.dataset.state = status;
  retryNow.hidden = status !== 'reconnecting';
  if (status === 'open') connection.textContent = 'Connected';
  else if (status === 'connecting') connection.textContent = 'Connecting…';
  else if (status === 'reconnecting')
    connection.textContent = `Offline – retrying in ${Math.ceil((detail?.delayMs ?? 0) / 1000)} s`;
  else connection.textContent = 'Offline';
  if (status !== 'open') {
    inFlight.clear();
    for (const m of state.pending) setDelivery(m.clientMessageId, 'Waiting for connection…');
  }
  updateTyping();
}

// ---------- wiring ----------

const socket = new SupportSocket({
  url: socketUrl(location),
  onFrame,
  onStatus: showConnection,
  onOpen: flushPending,
});

function startConversation() {
  log.replaceChildren();
  deliveryNotes.clear();
  appendEntry({ kind: 'bot', text: WELCOME }, { persist: false });
  for (const entry of state.transcript) appendEntry(entry, { persist: false });
  for (const m of state.pending) setDelivery(m.clientMessageId, 'Waiting for connection…');
  updateControls();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value;
  if (!text.trim()) return;
  input.value = '';
  sendCustomerMessage(text);
  updateControls();
  input.focus();
});

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

input.addEventListener('input', updateControls);

humanButton.addEventListener('click', () => {
  sendCustomerMessage(HUMAN_REQUEST);
  input.focus();
});

retryNow.addEventListener('click', () => socket.reconnectNow());
window.addEventListener('online', () => socket.reconnectNow());

byId('new-chat').addEventListener('click', () => {
  state.conversationId = null;
  state.transcript = [];
  state.pending = [];
  state.escalated = null;
  inFlight.clear();
  typingUntil = 0;
  saveState();
  startConversation();
  updateTyping();
  input.focus();
});

startConversation();
socket.connect();
