/**
 * Metrics dashboard (metrics.html): KPI tiles and SVG charts from GET /api/metrics?window=…, refreshed
 * every 10 s while the tab is visible. The pure shaping functions are exported for tests; the page only
 * starts when a document exists.
 */
import { createApiClient } from './api.js';
import { barChart, lineChart } from './charts.js';
import {
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatUsd,
  intentLabel,
  productAreaLabel,
  reasonLabel,
} from './labels.js';

const REFRESH_MS = 10_000;
const WINDOWS = ['1h', '24h', '7d'];

/**
 * Time axis plus per-bucket messages, conversations, automation rate as the API defines it (automated /
 * (automated + escalated); null when no conversation reached an outcome), and model cost per conversation
 * and per automated resolution (null when there is none to divide by).
 */
export function volumeSeries(series = []) {
  const points = series
    .map((p) => ({ ...p, time: Date.parse(p.t) }))
    .filter((p) => Number.isFinite(p.time))
    .sort((a, b) => a.time - b.time);
  return {
    x: points.map((p) => p.time),
    messages: points.map((p) => p.messages ?? 0),
    conversations: points.map((p) => p.conversations ?? 0),
    automationRate: points.map((p) => {
      const outcomes = (p.automated ?? 0) + (p.escalated ?? 0);
      return outcomes > 0 ? (p.automated ?? 0) / outcomes : null;
    }),
    costPerConversation: points.map((p) => (p.conversations > 0 ? (p.costUsd ?? 0) / p.conversations : null)),
    costPerAutomatedResolution: points.map((p) => (p.automated > 0 ? (p.costUsd ?? 0) / p.automated : null)),
  };
}

/** Breakdown map → rows sorted by conversations, largest first. */
export function breakdownRows(byKey = {}, label = String) {
  return Object.entries(byKey ?? {})
    .map(([key, v]) => ({
      key,
      label: label(key),
      conversations: v?.conversations ?? 0,
      automated: v?.automated ?? 0,
      escalated: v?.escalated ?? 0,
    }))
    .sort((a, b) => b.conversations - a.conversations || a.label.localeCompare(b.label));
}

export function timeFormatter(window) {
  const options =
    window === '7d'
      ? { weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false }
      : { hour: '2-digit', minute: '2-digit', hour12: false };
  return (t) => new Date(t).toLocaleString([], options);
}

function startPage() {
  const byId = (id) => document.getElementById(id);
  const api = createApiClient();
  const kpis = byId('kpis');
  const errorBox = byId('metrics-error');
  const updated = byId('updated');
  const autoRefresh = byId('auto-refresh');
  const slots = {
    volume: byId('chart-volume'),
    latency: byId('chart-latency'),
    cost: byId('chart-cost'),
    reasons: byId('chart-reasons'),
    intent: byId('chart-intent'),
    area: byId('chart-area'),
  };
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('window');
  let currentWindow = WINDOWS.includes(fromHash) ? fromHash : '24h';
  let latest = null;
  let inFlight = false;

  for (const radio of document.querySelectorAll('input[name="window"]')) {
    radio.checked = radio.value === currentWindow;
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      currentWindow = radio.value;
      history.replaceState(null, '', `#window=${currentWindow}`);
      load();
    });
  }

  function kpi(label, value, note) {
    const wrap = document.createElement('div');
    wrap.className = 'kpi panel';
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    if (note) {
      const small = document.createElement('small');
      small.textContent = note;
      dd.append(small);
    }
    wrap.append(dt, dd);
    return wrap;
  }

  function renderKpis(m) {
    kpis.replaceChildren(
      kpi('Conversations', formatCount(m.conversations), `${formatCount(m.messages)} messages`),
      kpi('Automation rate', formatPercent(m.automationRate, 1), 'resolved without a human'),
      kpi('Escalation rate', formatPercent(m.escalationRate, 1), 'handed to an agent'),
      kpi('Median resolution', formatDuration(m.medianResolutionSeconds)),
      kpi(
        'Reply latency p95',
        formatMs(m.latencyMs?.p95),
        `p50 ${formatMs(m.latencyMs?.p50)} · p99 ${formatMs(m.latencyMs?.p99)}`,
      ),
      kpi('Cost', formatUsd(m.costUsd?.total), `${formatUsd(m.costUsd?.perConversation)} per conversation`),
      kpi('Cost per automated resolution', formatUsd(m.costUsd?.perAutomatedResolution)),
      kpi(
        'First human response',
        formatDuration(m.cases?.medianFirstResponseSeconds),
        `median · ${formatCount(m.cases?.opened ?? 0)} cases opened`,
      ),
      kpi(
        'SLA breaches',
        formatCount(m.cases?.slaBreaches ?? 0),
        `${formatCount(m.cases?.slaBreachesByPriority?.P1 ?? 0)} on P1 · ${formatCount(m.cases?.abandoned ?? 0)} abandoned`,
      ),
    );
  }

  function place(slot, figure) {
    const wasOpen = slot.querySelector('details')?.open;
    if (wasOpen) figure.querySelector('details')?.setAttribute('open', '');
    slot.replaceChildren(figure);
  }

  function breakdownChart(title, rows, width) {
    const top = rows[0];
    return barChart(document, {
      title,
      summary: top
        ? `${rows.length} groups. Largest: ${top.label} with ${top.conversations} conversations (${top.automated} automated, ${top.escalated} escalated).`
        : 'No conversations.',
      width,
      categoryLabel: 'Group',
      categories: rows.map((r) => r.label),
      series: [
        { name: 'Automated', values: rows.map((r) => r.automated), className: 'automated' },
        { name: 'Escalated', values: rows.map((r) => r.escalated), className: 'escalated' },
      ],
      format: formatCount,
    });
  }

  function renderCharts(m) {
    const width = (slot) => Math.max(280, Math.floor(slot.clientWidth));
    const v = volumeSeries(m.series);
    const formatX = timeFormatter(m.window ?? currentWindow);
    const peak = Math.max(0, ...v.messages);
    const rated = v.automationRate.filter((r) => r !== null);
    const meanRate = rated.length ? rated.reduce((a, b) => a + b, 0) / rated.length : null;
    place(
      slots.volume,
      lineChart(document, {
        title: 'Messages, conversations and automation rate over time',
        summary: v.x.length
          ? `${v.x.length} time buckets from ${formatX(v.x[0])} to ${formatX(v.x[v.x.length - 1])}. Peak ${peak} messages in a bucket. Average automation rate ${formatPercent(meanRate)}.`
          : 'No data.',
        width: width(slots.volume),
        height: 240,
        x: v.x,
        formatX,
        formatLeft: formatCount,
        integerLeft: true,
        formatRight: (r) => formatPercent(r),
        series: [
          { name: 'Messages', values: v.messages, className: 's1' },
          { name: 'Conversations', values: v.conversations, className: 's2' },
          { name: 'Automation rate (right axis)', values: v.automationRate, axis: 'right', className: 's3' },
        ],
      }),
    );

    const perConversation = v.costPerConversation.filter((c) => c !== null);
    place(
      slots.cost,
      lineChart(document, {
        title: 'Model cost per conversation and per automated resolution over time',
        summary: perConversation.length
          ? `${formatUsd(m.costUsd?.perConversation)} per conversation and ${formatUsd(m.costUsd?.perAutomatedResolution)} per automated resolution over the window; hourly per-conversation cost from ${formatUsd(Math.min(...perConversation))} to ${formatUsd(Math.max(...perConversation))}.`
          : 'No conversations.',
        width: width(slots.cost),
        height: 200,
        x: v.x,
        formatX,
        formatLeft: formatUsd,
        series: [
          { name: 'Per conversation', values: v.costPerConversation, className: 's1' },
          { name: 'Per automated resolution', values: v.costPerAutomatedResolution, className: 's2' },
        ],
      }),
    );

    const latency = m.latencyMs ?? {};
    const latencyKeys = ['p50', 'p95', 'p99'].filter((k) => Number.isFinite(latency[k]));
    place(
      slots.latency,
      barChart(document, {
        title: 'Reply latency percentiles',
        summary: latencyKeys.map((k) => `${k} ${formatMs(latency[k])}`).join(', ') || 'No data.',
        width: width(slots.latency),
        categoryLabel: 'Percentile',
        categories: latencyKeys,
        series: [{ name: 'Latency', values: latencyKeys.map((k) => latency[k]), className: 's1' }],
        format: formatMs,
      }),
    );

    const reasons = Object.entries(m.escalationReasons ?? {})
      .map(([code, count]) => ({ label: reasonLabel(code), count: Number(count) || 0 }))
      .sort((a, b) => b.count - a.count);
    place(
      slots.reasons,
      barChart(document, {
        title: 'Escalations by reason',
        summary: reasons.length
          ? `${reasons.length} reasons. Most common: ${reasons[0].label} (${reasons[0].count}).`
          : 'No escalations.',
        width: width(slots.reasons),
        categoryLabel: 'Reason',
        categories: reasons.map((r) => r.label),
        series: [{ name: 'Escalations', values: reasons.map((r) => r.count), className: 'escalated' }],
        format: formatCount,
      }),
    );

    place(
      slots.intent,
      breakdownChart('Conversations by intent', breakdownRows(m.byIntent, intentLabel), width(slots.intent)),
    );
    place(
      slots.area,
      breakdownChart(
        'Conversations by product area',
        breakdownRows(m.byProductArea, productAreaLabel),
        width(slots.area),
      ),
    );
  }

  async function load() {
    if (inFlight) return;
    inFlight = true;
    const requested = currentWindow;
    try {
      const data = await api.get(`/api/metrics?window=${encodeURIComponent(requested)}`);
      if (requested !== currentWindow) return;
      latest = data ?? {};
      renderKpis(latest);
      renderCharts(latest);
      errorBox.hidden = true;
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      const text = `Could not load metrics: ${error.message}`;
      if (errorBox.textContent !== text || errorBox.hidden) errorBox.textContent = text;
      errorBox.hidden = false;
    } finally {
      inFlight = false;
      if (requested !== currentWindow) load();
    }
  }

  let resizeFrame = 0;
  let lastWidth = 0;
  new ResizeObserver(() => {
    const w = slots.latency.clientWidth + slots.volume.clientWidth;
    if (!latest || w === lastWidth) return;
    lastWidth = w;
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => renderCharts(latest));
  }).observe(document.querySelector('.charts'));

  setInterval(() => {
    if (autoRefresh.checked && !document.hidden) load();
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && autoRefresh.checked) load();
  });
  load();
}

if (globalThis.document) startPage();
