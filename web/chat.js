/**
 * Customer chat widget (index.html). Messages go out as sendMessage frames with a fresh clientMessageId
 * and stay "pending" until the server answers them (reply, escalated or error); pending messages are
 * resent with the same id after a reconnect or reload. Once the conversation is with the support team
 * (escalated or taken over) the server forwards messages to the agent and answers nothing, so a message is
 * done as soon as it is on the wire. The conversation id, transcript and pending list live in
 * sessionStorage; after a reload the server re-attaches the conversation with the next message sent.
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
/** Messages sent while the conversation was with the support team, by clientMessageId (this page only). */
const forwarded = new Map();
const FORWARDED_LIMIT = 50;
/** Conversations left with "New chat": the server still routes their agent messages to this connection. */
const leftConversations = new Set();
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
      // The server's text names the case; the id is marked up in place (kept on one line) or added.
      const text = entry.text ?? '';
      const caseId = entry.caseId ?? '';
      const at = caseId ? text.indexOf(caseId) : -1;
      const body = el('span');
      if (at >= 0) {
        body.append(text.slice(0, at), el('code', 'case-id', caseId), text.slice(at + caseId.length));
      } else {
        body.append(text);
        if (caseId) body.append(`${text ? ' ' : ''}Case reference: `, el('code', 'case-id', caseId));
      }
      node.append(body);
      if (entry.reason) node.title = `Reason: ${reasonLabel(entry.reason)}`;
      return node;
    }
    case 'notice':
      return el('div', 'system-note', entry.text);
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
  if (!socket.send(frame)) {
    setDelivery(message.clientMessageId, 'Waiting for connection…');
    return;
  }
  setDelivery(message.clientMessageId, '');
  if (state.escalated && state.conversationId) markForwarded({ ...message, toTeam: true });
  else inFlight.add(message.clientMessageId);
}

/** A message the support team will see and no bot will answer: no longer pending, remembered in case the
 * server rejects it after all. */
function markForwarded(message) {
  const index = state.pending.findIndex((m) => m.clientMessageId === message.clientMessageId);
  if (index >= 0) state.pending.splice(index, 1);
  inFlight.delete(message.clientMessageId);
  forwarded.set(message.clientMessageId, message);
  if (forwarded.size > FORWARDED_LIMIT) forwarded.delete(forwarded.keys().next().value);
  saveState();
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

/** Marks the message a frame answers: the one it names, else the oldest pending (server answers in order).
 * Returns that message, if it was still pending or forwarded. */
function acknowledge(frame) {
  const named = typeof frame.clientMessageId === 'string' ? frame.clientMessageId : null;
  const note = frame.type === 'error' ? 'Not delivered' : '';
  if (named && forwarded.has(named)) {
    const message = forwarded.get(named);
    forwarded.delete(named);
    setDelivery(named, note);
    return message;
  }
  if (state.pending.length === 0) return null;
  const index = named ? state.pending.findIndex((m) => m.clientMessageId === named) : 0;
  if (index < 0) return null;
  const [message] = state.pending.splice(index, 1);
  inFlight.delete(message.clientMessageId);
  setDelivery(message.clientMessageId, note);
  saveState();
  return message;
}

/** The conversation is now with the support team: messages already on their way may be forwarded without
 * an answer, so stop waiting for them (an answer that still comes is shown all the same). */
function handOverInFlight() {
  for (const message of state.pending.filter((m) => inFlight.has(m.clientMessageId))) markForwarded(message);
}

/** The stored conversation is gone (e.g. the server's data was reset): the message starts a new one. Other
 * messages still in flight fail the same way and queue up behind it, in send order. */
function restartConversation(message) {
  state.conversationId = null;
  state.escalated = null;
  const { toTeam: _, ...retry } = message;
  const firstNew = state.pending.findIndex((m) => !m.retried);
  const at = firstNew < 0 ? state.pending.length : firstNew;
  state.pending.splice(at, 0, { ...retry, retried: true });
  setDelivery(message.clientMessageId, 'Waiting for connection…');
  saveState();
}

// ---------- receiving ----------

function onFrame(frame) {
  if (leftConversations.has(frame.conversationId)) return;
  if (typeof frame.conversationId === 'string' && frame.conversationId && frame.type !== 'error') {
    if (state.conversationId !== frame.conversationId) {
      state.conversationId = frame.conversationId;
      saveState();
    }
  }
  switch (frame.type) {
    case 'reply': {
      const answered = acknowledge(frame);
      typingUntil = 0;
      if (frame.messageId && state.transcript.some((e) => e.messageId === frame.messageId)) break;
      // The bot answered a message sent to the team: the case was closed and the bot is back.
      if (answered?.toTeam) state.escalated = null;
      appendEntry({
        kind: 'bot',
        messageId: frame.messageId,
        text: frame.text,
        confidence: frame.confidence,
        citations: frame.citations,
      });
      break;
    }
    case 'escalated':
      acknowledge(frame);
      typingUntil = 0;
      handOverInFlight();
      if (state.escalated?.caseId === frame.caseId && frame.caseId) break;
      state.escalated = { caseId: frame.caseId ?? null };
      appendEntry({ kind: 'escalated', caseId: frame.caseId, reason: frame.reason, text: frame.text });
      break;
    case 'agentMessage':
      typingUntil = 0;
      if (!state.escalated) state.escalated = { caseId: null };
      handOverInFlight();
      appendEntry({ kind: 'agent', text: frame.text, agentName: frame.agentName });
      break;
    case 'error': {
      const failed = acknowledge(frame);
      if (failed && frame.code === 'UnknownConversation' && !failed.retried) {
        restartConversation(failed);
        break;
      }
      appendEntry({ kind: 'error', code: frame.code, message: frame.message }, { persist: false });
      break;
    }
    case 'typing':
      typingUntil = Date.now() + TYPING_FRAME_MS;
      break;
    case 'conversationEnded':
      return;
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

// A customer token (signed by the company's backend) in the page URL identifies the customer: ?token=…
const customerToken = new URLSearchParams(location.search).get('token');
const socket = new SupportSocket({
  url: customerToken
    ? `${socketUrl(location)}?token=${encodeURIComponent(customerToken)}`
    : socketUrl(location),
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
  // A new connection hears from the agent again only once a message names the conversation.
  if (state.escalated && state.conversationId && state.pending.length === 0) {
    const text = 'Welcome back. Send a message to continue with our support team.';
    appendEntry({ kind: 'notice', text }, { persist: false });
  }
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
  if (state.conversationId) {
    leftConversations.add(state.conversationId);
    // Tell the server this conversation is over: a case nobody answered yet stops waiting for an agent.
    socket.send({ action: 'endConversation', conversationId: state.conversationId });
  }
  state.conversationId = null;
  state.transcript = [];
  state.pending = [];
  state.escalated = null;
  inFlight.clear();
  forwarded.clear();
  typingUntil = 0;
  saveState();
  startConversation();
  updateTyping();
  input.focus();
});

startConversation();
socket.connect();
