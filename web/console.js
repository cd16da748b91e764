/**
 * Operator console (console.html): the escalation queue, one case's handoff packet and transcript, and
 * take over / reply / resolve. Live updates arrive over /ws after subscribeConsole; while the socket is
 * down the queue (and the open case) is polled every 5 s.
 */
import { ApiError, createApiClient } from './api.js';
import {
  confidenceBand,
  formatAge,
  formatDuration,
  formatPercent,
  humanize,
  intentLabel,
  priorityLabel,
  productAreaLabel,
  reasonLabel,
} from './labels.js';
import { renderMarkdown } from './markdown.js';
import { SupportSocket, socketUrl } from './protocol.js';

const POLL_MS = 5000;
const AGENT_KEY = 'supportmax.agentName';

const byId = (id) => document.getElementById(id);
const queueEl = byId('queue');
const queueCount = byId('queue-count');
const queueError = byId('queue-error');
const detailEl = byId('detail');
const announcer = byId('announcer');
const connection = byId('connection');
const agentInput = byId('agent-name');

/** Sign-ins so far, and how many there had been when the current socket opened. */
let signIns = 0;
let signInsAtOpen = 0;
const api = createApiClient({
  // The socket's session is checked at the handshake: a socket opened before sign-in is anonymous.
  onSignedIn: () => {
    signIns++;
    socket.close();
    socket.connect();
  },
});
const state = {
  status: 'open',
  /** caseId → case, for the current status filter */
  cases: new Map(),
  selectedId: null,
  /** { case, messages } of the selected case */
  detail: null,
  loadedOnce: false,
};
/** Parts of the detail pane updated in place, so live updates keep the reply draft and focus. */
let view = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function button(label, className, onClick) {
  const b = el('button', `button ${className}`, label);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function announce(text) {
  announcer.textContent = '';
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

// ---------- agent name ----------

function agentName() {
  return localStorage.getItem(AGENT_KEY) || 'Agent';
}

function setAgentName(name) {
  const clean = name.trim().slice(0, 60) || 'Agent';
  localStorage.setItem(AGENT_KEY, clean);
  agentInput.value = clean;
  if (view) updateDetailState();
}

function askAgentNameOnce() {
  agentInput.value = agentName();
  if (localStorage.getItem(AGENT_KEY)) return;
  const dialog = el('dialog', 'dialog');
  dialog.setAttribute('aria-labelledby', 'agent-dialog-title');
  const form = el('form');
  form.method = 'dialog';
  const title = el('h2', null, 'What name should customers see?');
  title.id = 'agent-dialog-title';
  const label = el('label', 'field');
  const input = el('input');
  input.value = 'Agent';
  input.maxLength = 60;
  input.autocomplete = 'name';
  label.append(el('span', null, 'Your name'), input);
  const actions = el('div', 'dialog-actions');
  const ok = el('button', 'button primary', 'Continue');
  ok.type = 'submit';
  actions.append(ok);
  form.append(title, label, actions);
  dialog.append(form);
  document.body.append(dialog);
  form.addEventListener('submit', () => setAgentName(input.value));
  dialog.addEventListener('close', () => {
    // Escape also closes: keep the default so the question is asked only once.
    if (!localStorage.getItem(AGENT_KEY)) setAgentName('Agent');
    dialog.remove();
  });
  dialog.showModal();
  input.select();
}

agentInput.addEventListener('change', () => setAgentName(agentInput.value));

// ---------- queue ----------

const priorityRank = (c) => Number(priorityLabel(c.priority).slice(1)) || 9;
const assigneeName = (c) => (typeof c.assignee === 'string' ? c.assignee : (c.assignee?.name ?? ''));

function sortedCases() {
  return [...state.cases.values()].sort(
    (a, b) => priorityRank(a) - priorityRank(b) || Date.parse(a.createdAt) - Date.parse(b.createdAt),
  );
}

function priorityBadge(c) {
  const label = priorityLabel(c.priority);
  const badge = el('span', `badge ${label.toLowerCase()}`, label);
  badge.title = `Priority ${label}`;
  return badge;
}

function caseTitle(c) {
  return c.subject || reasonLabel(c.reason);
}

function renderQueue() {
  const focusedId = document.activeElement?.dataset?.caseId;
  const items = sortedCases().map((c) => {
    const item = el('li');
    const b = el('button', 'case-item');
    b.type = 'button';
    b.dataset.caseId = c.caseId;
    if (c.caseId === state.selectedId) b.setAttribute('aria-current', 'true');
    const top = el('span', 'line');
    top.append(
      priorityBadge(c),
      el('span', 'subject', caseTitle(c)),
      el('span', 'age', formatAge(c.createdAt)),
    );
    top.lastChild.title = `Opened ${new Date(c.createdAt).toLocaleString()}`;
    const why = el(
      'span',
      'small',
      `${reasonLabel(c.reason)} · ${intentLabel(c.intent)} · ${productAreaLabel(c.productArea)}`,
    );
    b.append(top, why);
    const who = [
      c.customer?.name,
      c.customer?.tier && `${c.customer.tier} tier`,
      assigneeName(c) && `with ${assigneeName(c)}`,
    ]
      .filter(Boolean)
      .join(' · ');
    if (who) b.append(el('span', 'small', who));
    b.addEventListener('click', () => selectCase(c.caseId, { focus: true }));
    item.append(b);
    return item;
  });
  if (items.length === 0 && state.loadedOnce) {
    const empty = el('li', 'empty', `No ${state.status} cases.`);
    items.push(empty);
  }
  queueEl.replaceChildren(...items);
  queueCount.textContent = state.loadedOnce ? `${state.cases.size}` : '';
  queueCount.setAttribute('aria-label', `${state.cases.size} ${state.status} cases`);
  if (focusedId) queueEl.querySelector(`[data-case-id="${CSS.escape(focusedId)}"]`)?.focus();
}

async function loadQueue() {
  const status = state.status;
  try {
    const data = await api.get(`/api/cases?status=${encodeURIComponent(status)}`);
    if (status !== state.status) return;
    state.cases = new Map((data?.cases ?? []).map((c) => [c.caseId, c]));
    state.loadedOnce = true;
    queueError.hidden = true;
    renderQueue();
  } catch (error) {
    queueError.textContent = `Could not load cases: ${error.message}`;
    queueError.hidden = false;
  }
}

/** Applies a case change from the socket or an action to the queue and, if open, the detail pane. */
function upsertCase(c) {
  if (!c?.caseId) return;
  const known = state.cases.get(c.caseId);
  if (c.status === state.status) {
    state.cases.set(c.caseId, { ...known, ...c });
    if (!known && c.status === 'open') announce(`New case ${priorityLabel(c.priority)}: ${caseTitle(c)}`);
  } else {
    state.cases.delete(c.caseId);
  }
  renderQueue();
  if (state.detail?.case.caseId === c.caseId) {
    state.detail.case = { ...state.detail.case, ...c, handoff: c.handoff ?? state.detail.case.handoff };
    updateDetailState();
  }
}

// ---------- detail ----------

async function selectCase(caseId, { focus = false } = {}) {
  state.selectedId = caseId;
  history.replaceState(null, '', `#case=${encodeURIComponent(caseId)}`);
  renderQueue();
  if (state.detail?.case.caseId !== caseId) {
    view = null;
    state.detail = null;
    detailEl.replaceChildren(el('p', 'empty', 'Loading case…'));
  }
  await loadDetail(caseId);
  if (focus && view) view.title.focus();
}

async function loadDetail(caseId) {
  try {
    const data = await api.get(`/api/cases/${encodeURIComponent(caseId)}`);
    if (state.selectedId !== caseId || !data?.case) return;
    if (state.detail?.case.caseId === caseId && view) {
      state.detail.case = data.case;
      for (const m of data.messages ?? []) appendMessage(m);
      updateDetailState();
    } else {
      state.detail = { case: data.case, messages: [] };
      buildDetail();
      for (const m of data.messages ?? []) appendMessage(m);
    }
  } catch (error) {
    if (state.selectedId !== caseId) return;
    if (!view)
      detailEl.replaceChildren(el('p', 'notice error', `Could not load case ${caseId}: ${error.message}`));
    else showActionMessage(`Could not refresh: ${error.message}`);
  }
}

function section(titleText, ...children) {
  const s = el('section', 'section');
  s.append(el('h3', null, titleText), ...children);
  return s;
}

function buildDetail() {
  const c = state.detail.case;
  const title = el('h2', null, caseTitle(c));
  title.id = 'detail-title';
  title.tabIndex = -1;
  const badges = el('span', 'detail-head');
  const head = el('div', 'detail-head');
  head.append(title, badges);

  const takeOver = button('Take over', 'primary', onTakeOver);
  const resolve = button('Resolve', 'secondary', onResolve);
  const actions = el('div', 'detail-actions');
  actions.append(takeOver, resolve);
  const actionMessage = el('p', 'form-error');
  actionMessage.setAttribute('role', 'alert');

  const facts = el('dl', 'facts');
  const handoff = el('div', 'section-stack');
  const transcript = el('div', 'transcript');
  transcript.setAttribute('role', 'log');
  transcript.setAttribute('aria-live', 'polite');
  transcript.setAttribute('aria-label', 'Transcript');
  transcript.tabIndex = 0;

  const replyForm = el('form', 'reply-box section');
  const replyLabel = el('label', null, 'Reply to the customer');
  replyLabel.htmlFor = 'reply-text';
  replyLabel.className = 'field';
  const replyText = el('textarea');
  replyText.id = 'reply-text';
  replyText.maxLength = 4000;
  replyText.rows = 3;
  replyText.setAttribute('aria-describedby', 'reply-hint');
  const replyHint = el('span', 'muted');
  replyHint.id = 'reply-hint';
  const replyRow = el('div', 'composer-row');
  const send = el('button', 'button primary', 'Send reply');
  send.type = 'submit';
  replyRow.append(replyHint, send);
  replyForm.append(replyLabel, replyText, replyRow);
  replyForm.addEventListener('submit', onReply);
  replyText.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      replyForm.requestSubmit();
    }
  });

  detailEl.setAttribute('aria-labelledby', 'detail-title');
  detailEl.replaceChildren(
    head,
    actions,
    actionMessage,
    facts,
    handoff,
    section('Transcript', transcript),
    replyForm,
  );
  view = {
    title,
    badges,
    takeOver,
    resolve,
    actionMessage,
    facts,
    handoff,
    transcript,
    replyText,
    replyHint,
    send,
    seen: new Set(),
  };
  updateDetailState();
}

/** "due in 3 min" / "overdue by 2 min (L2, 1 breach)" / "answered after 4 min". */
function slaText(c) {
  if (c.firstResponseAt) {
    const seconds = (Date.parse(c.firstResponseAt) - Date.parse(c.createdAt)) / 1000;
    return `answered after ${formatDuration(seconds)}`;
  }
  if (!c.slaDueAt || c.status === 'resolved' || c.status === 'abandoned') return '';
  const left = (Date.parse(c.slaDueAt) - Date.now()) / 1000;
  const breaches = c.slaBreaches ? ` (${c.slaBreaches} SLA breach${c.slaBreaches > 1 ? 'es' : ''})` : '';
  return left >= 0
    ? `due in ${formatDuration(left)}${breaches}`
    : `overdue by ${formatDuration(-left)}${breaches}`;
}

function fact(label, value) {
  const wrap = el('div');
  const dd = el('dd');
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value || '–';
  wrap.append(el('dt', null, label), dd);
  return wrap;
}

function confidenceBadge(confidence) {
  if (typeof confidence !== 'number') return el('span', null, '–');
  return el('span', `badge ${confidenceBand(confidence)}`, `${formatPercent(confidence)} sure`);
}

/** Entities come as a map or a list of {type,value}; either way shown as label/value pairs. */
function entityPairs(entities) {
  const text = (v) => (v && typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (Array.isArray(entities)) {
    return entities.map((e) =>
      e && typeof e === 'object'
        ? [humanize(e.type ?? e.name ?? e.label ?? 'entity'), text(e.value ?? e.text ?? e)]
        : ['Entity', text(e)],
    );
  }
  if (entities && typeof entities === 'object') {
    return Object.entries(entities).map(([k, v]) => [
      humanize(k),
      Array.isArray(v) ? v.map(text).join(', ') : text(v),
    ]);
  }
  return [];
}

/** Re-renders everything in the detail pane except the transcript and the reply draft. */
function updateDetailState() {
  if (!view || !state.detail) return;
  const c = state.detail.case;
  const h = c.handoff ?? {};
  const me = agentName();
  const assignee = assigneeName(c);
  const mine = c.status === 'assigned' && assignee === me;

  view.title.textContent = caseTitle(c);
  const status = el('span', `badge ${c.status}`, humanize(c.status));
  const id = el('code', null, c.caseId);
  view.badges.replaceChildren(priorityBadge(c), status, id);

  const closed = c.status === 'resolved' || c.status === 'abandoned';
  view.takeOver.disabled = closed || mine;
  view.takeOver.textContent = mine
    ? 'Assigned to you'
    : assignee && !closed
      ? `Take over from ${assignee}`
      : 'Take over';
  view.resolve.disabled = closed;

  const customer = c.customer ?? h.customer ?? {};
  const customerText = [customer.name, customer.tier && `${customer.tier} tier`, customer.email]
    .filter(Boolean)
    .join(' · ');
  view.facts.replaceChildren(
    fact('Customer', customerText),
    fact('Escalation reason', reasonLabel(h.reason ?? c.reason)),
    fact('Intent', intentLabel(h.intent ?? c.intent)),
    fact('Product area', productAreaLabel(h.productArea ?? c.productArea)),
    fact('Confidence', confidenceBadge(h.confidence ?? c.confidence)),
    fact('Queue', c.queue ? `${humanize(c.queue)}${c.level ? ` · ${c.level}` : ''}` : ''),
    fact('Priority rule', h.priorityReason ?? ''),
    fact('First response', slaText(c)),
    fact('Signals', Array.isArray(h.signals) ? h.signals.map(humanize).join(', ') : ''),
    fact('CRM', c.crm ? `${c.crm.system} ${c.crm.caseId}` : c.crmError ? `not synced: ${c.crmError}` : ''),
    fact('Assignee', assignee),
    fact(
      'Opened',
      c.createdAt ? `${formatAge(c.createdAt)} ago · ${new Date(c.createdAt).toLocaleString()}` : '',
    ),
  );

  const parts = [];
  if (h.summary) {
    const body = el('div');
    body.append(renderMarkdown(h.summary, document));
    parts.push(section('Handoff summary', body));
  }
  const entities = entityPairs(h.entities);
  if (entities.length) {
    const dl = el('dl', 'facts');
    dl.append(...entities.map(([k, v]) => fact(k, v)));
    parts.push(section('Details mentioned', dl));
  }
  const faqs = Array.isArray(h.faqsTried) ? h.faqsTried : [];
  const faqList = el('ul');
  for (const f of faqs) {
    const li = el('li', null, f.question ?? f.faqId);
    if (f.faqId) li.append(el('span', 'muted', ` (${f.faqId})`));
    faqList.append(li);
  }
  parts.push(section('FAQs tried', faqs.length ? faqList : el('p', 'muted', 'None.')));
  view.handoff.replaceChildren(...parts);

  view.replyText.disabled = !mine;
  view.send.disabled = !mine;
  view.replyHint.textContent =
    c.status === 'abandoned'
      ? 'The customer left before anyone answered.'
      : c.status === 'resolved'
        ? 'This case is resolved.'
        : mine
          ? 'Enter to send, Shift+Enter for a new line.'
          : 'Take over the case to reply.';
}

function renderMessage(m) {
  const time = m.createdAt
    ? new Date(m.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : '';
  const speaker = (name) => {
    const s = el('span', 'speaker', name);
    if (time) s.append(el('span', 'msg-time', time));
    return s;
  };
  if (m.role === 'system') {
    // Keep the case id on one line, as in the chat.
    const node = el('div', 'system-note');
    const text = m.text ?? '';
    const at = m.caseId ? text.indexOf(m.caseId) : -1;
    if (at < 0) node.textContent = text;
    else node.append(text.slice(0, at), el('code', 'case-id', m.caseId), text.slice(at + m.caseId.length));
    return node;
  }
  if (m.role === 'customer') {
    const node = el('div', 'msg customer');
    node.append(speaker('Customer'), document.createTextNode(m.text ?? ''));
    return node;
  }
  if (m.role === 'agent') {
    const node = el('div', 'msg agent');
    node.append(speaker(m.agentName || 'Agent'), document.createTextNode(m.text ?? ''));
    return node;
  }
  const node = el('div', 'msg bot');
  const body = el('div', 'body');
  body.append(renderMarkdown(m.text ?? '', document));
  node.append(speaker('Assistant'), body);
  const meta = el('div', 'msg-meta');
  if (typeof m.confidence === 'number') meta.append(confidenceBadge(m.confidence));
  if (m.intent) meta.append(el('span', null, intentLabel(m.intent)));
  const citations = Array.isArray(m.citations) ? m.citations : [];
  if (citations.length) {
    meta.append(el('span', null, 'Sources:'));
    const list = el('ul', 'sources');
    list.append(...citations.map((c) => el('li', null, c.question ?? c.faqId)));
    meta.append(list);
  }
  if (meta.childNodes.length) node.append(meta);
  return node;
}

function appendMessage(m) {
  if (!view || !m) return;
  const key = m.messageId ?? `${m.role}|${m.createdAt}|${m.text}`;
  if (view.seen.has(key)) return;
  view.seen.add(key);
  state.detail.messages.push(m);
  const t = view.transcript;
  const stick = t.scrollHeight - t.scrollTop - t.clientHeight < 80;
  t.append(renderMessage(m));
  if (stick) t.scrollTop = t.scrollHeight;
}

function showActionMessage(text) {
  if (view) view.actionMessage.textContent = text;
}

async function runAction(control, work) {
  const caseId = state.detail?.case.caseId;
  if (!caseId) return;
  control.disabled = true;
  showActionMessage('');
  try {
    await work(caseId);
  } catch (error) {
    const detail = error instanceof ApiError ? error.message : 'network error';
    showActionMessage(`That didn't work: ${detail}`);
  } finally {
    updateDetailState();
  }
}

function onTakeOver() {
  runAction(view.takeOver, async (caseId) => {
    const data = await api.post(`/api/cases/${encodeURIComponent(caseId)}/takeover`, {
      agentName: agentName(),
    });
    upsertCase(data?.case ?? { caseId, status: 'assigned', assignee: agentName() });
    view?.replyText.focus();
  });
}

function onResolve() {
  runAction(view.resolve, async (caseId) => {
    const data = await api.post(`/api/cases/${encodeURIComponent(caseId)}/resolve`, {});
    upsertCase(data?.case ?? { caseId, status: 'resolved' });
    announce('Case resolved.');
  });
}

function onReply(event) {
  event.preventDefault();
  const text = view.replyText.value.trim();
  if (!text) return;
  runAction(view.send, async (caseId) => {
    const data = await api.post(`/api/cases/${encodeURIComponent(caseId)}/reply`, {
      text,
      agentName: agentName(),
    });
    view.replyText.value = '';
    if (data?.message) appendMessage(data.message);
    view.replyText.focus();
  });
}

// ---------- live updates ----------

function onFrame(frame) {
  if (frame.type === 'caseUpdated') upsertCase(frame.case);
  else if (
    frame.type === 'conversationMessage' &&
    frame.conversationId === state.detail?.case.conversationId
  ) {
    appendMessage(frame.message);
  } else if (frame.type === 'error' && /unauth|forbidden/i.test(String(frame.code))) {
    // Sign in over HTTP (onSignedIn reopens the socket), unless that happened since this socket opened.
    if (signIns === signInsAtOpen) api.login().catch(() => {});
  }
}

function showConnection(status, detail) {
  connection.dataset.state = status;
  connection.textContent =
    status === 'open'
      ? 'Live'
      : status === 'reconnecting'
        ? `Polling · reconnecting in ${Math.ceil((detail?.delayMs ?? 0) / 1000)} s`
        : status === 'connecting'
          ? 'Connecting…'
          : 'Polling';
}

function refresh() {
  loadQueue();
  if (state.selectedId) loadDetail(state.selectedId);
}

const socket = new SupportSocket({
  url: socketUrl(location),
  onFrame,
  onStatus: showConnection,
  onOpen: () => {
    signInsAtOpen = signIns;
    socket.send({ action: 'subscribeConsole' });
    refresh(); // catch up on anything missed while disconnected
  },
});

setInterval(() => {
  if (!socket.isOpen && !document.hidden) refresh();
}, POLL_MS);
setInterval(renderQueue, 30_000); // keeps ages current

for (const radio of document.querySelectorAll('input[name="status"]')) {
  radio.addEventListener('change', () => {
    if (!radio.checked) return;
    state.status = radio.value;
    state.cases = new Map();
    state.loadedOnce = false;
    renderQueue();
    loadQueue();
  });
}
window.addEventListener('online', () => socket.reconnectNow());

agentInput.value = agentName();
const hashCase = new URLSearchParams(location.hash.slice(1)).get('case');
// Ask for the name after any sign-in, so two dialogs never stack.
loadQueue().finally(askAgentNameOnce);
if (hashCase) selectCase(hashCase);
socket.connect();
