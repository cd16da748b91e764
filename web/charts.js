/**
 * Tiny SVG charts for the metrics page: a time-series line chart (optional right-hand percentage axis) and
 * horizontal bar charts (stacked when given several series). Every chart is a <figure> whose SVG carries
 * a <title>/<desc> and is followed by a "Show data" table, so the numbers are readable without the
 * picture. Geometry helpers are pure and exported for tests; rendering takes `doc` explicitly.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
const CHAR_WIDTH = 7; // average glyph width at the 12px chart font, for label layout without measuring
let idCounter = 0;

/** A "nice" axis from 0 to at least maxValue: step is 1, 2 or 5 × 10^n, about tickCount intervals. */
export function niceScale(maxValue, tickCount = 4, integer = false) {
  const max = Number.isFinite(maxValue) && maxValue > 0 ? maxValue : 1;
  const magnitude = 10 ** Math.floor(Math.log10(max / tickCount));
  const candidates = [50, 20, 10, 5, 2, 1].map((m) => (integer ? Math.max(1, m * magnitude) : m * magnitude));
  const intervals = (s) => Math.ceil(max / s - 1e-9);
  // Closest to tickCount intervals; then the lowest top (least empty space); then the larger step.
  const cost = (s) => [Math.abs(intervals(s) - tickCount), intervals(s) * s, -s];
  const better = (a, b) => {
    const [x, y] = [cost(a), cost(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  };
  const step = candidates.reduce((best, s) => (better(s, best) < 0 ? s : best));
  const top = Number((intervals(step) * step).toPrecision(12));
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { max: top, step, ticks };
}

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps to the middle of the range. */
export function linearScale([d0, d1], [r0, r1]) {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (value) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0);
}

/** SVG path through [x, y] points; a null y breaks the line so gaps stay visible. */
export function linePath(points) {
  let d = '';
  let penDown = false;
  for (const [x, y] of points) {
    if (y === null || y === undefined || !Number.isFinite(y)) {
      penDown = false;
      continue;
    }
    d += `${penDown ? 'L' : 'M'}${round(x)} ${round(y)}`;
    penDown = true;
  }
  return d;
}

/** Per row, consecutive [start, end) segments of each series' value, and the row total. */
export function stackRows(values) {
  return values.map((row) => {
    let start = 0;
    const segments = row.map((raw) => {
      const value = Number.isFinite(raw) && raw > 0 ? raw : 0;
      const segment = { start, end: start + value, value };
      start += value;
      return segment;
    });
    return { segments, total: start };
  });
}

/** Indexes of at most `maxLabels` of n points at a fixed stride from the first, so labels never crowd. */
export function tickIndexes(n, maxLabels) {
  if (n <= 0) return [];
  if (n === 1 || maxLabels <= 1) return [0];
  const stride = Math.max(1, Math.ceil((n - 1) / (maxLabels - 1)));
  const indexes = [];
  for (let i = 0; i < n; i += stride) indexes.push(i);
  return indexes;
}

const round = (n) => Math.round(n * 10) / 10;

function svgEl(doc, name, attributes = {}, text) {
  const el = doc.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

function htmlEl(doc, name, className, text) {
  const el = doc.createElement(name);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function figureShell(doc, { title, summary, width, height }) {
  const figure = htmlEl(doc, 'figure', 'chart');
  const id = `chart-${++idCounter}`;
  const svg = svgEl(doc, 'svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    focusable: 'false',
  });
  svg.append(
    svgEl(doc, 'title', { id: `${id}-title` }, title),
    svgEl(doc, 'desc', { id: `${id}-desc` }, summary),
  );
  return { figure, svg };
}

function legend(doc, series) {
  const list = htmlEl(doc, 'ul', 'chart-legend');
  for (const s of series) {
    const item = htmlEl(doc, 'li');
    const swatch = htmlEl(doc, 'span', `swatch ${s.className ?? ''}`);
    swatch.setAttribute('aria-hidden', 'true');
    item.append(swatch, doc.createTextNode(s.name));
    list.append(item);
  }
  return list;
}

function dataTable(doc, title, header, rows) {
  const details = htmlEl(doc, 'details', 'chart-data');
  details.append(htmlEl(doc, 'summary', null, 'Show data'));
  const table = htmlEl(doc, 'table');
  table.append(htmlEl(doc, 'caption', 'visually-hidden', title));
  const head = htmlEl(doc, 'tr');
  for (const h of header) {
    const th = htmlEl(doc, 'th', null, h);
    th.setAttribute('scope', 'col');
    head.append(th);
  }
  const thead = htmlEl(doc, 'thead');
  thead.append(head);
  const tbody = htmlEl(doc, 'tbody');
  for (const row of rows) {
    const tr = htmlEl(doc, 'tr');
    row.forEach((cell, i) => {
      const td = htmlEl(doc, i === 0 ? 'th' : 'td', null, cell);
      if (i === 0) td.setAttribute('scope', 'row');
      tr.append(td);
    });
    tbody.append(tr);
  }
  table.append(thead, tbody);
  details.append(table);
  return details;
}

function emptyFigure(doc, title) {
  const figure = htmlEl(doc, 'figure', 'chart');
  figure.append(htmlEl(doc, 'p', 'chart-empty', `${title}: no data in this window.`));
  return figure;
}

/**
 * Line chart over time.
 * @param {object} options
 * @param {number[]} options.x timestamps (ms), ascending
 * @param {{name:string, values:(number|null)[], axis?:'left'|'right', className?:string}[]} options.series
 * @param {(t:number)=>string} options.formatX
 * @param {(v:number)=>string} [options.formatLeft]
 * @param {boolean} [options.integerLeft] left axis counts whole things: no fractional ticks
 * @param {(v:number)=>string} [options.formatRight] right axis runs 0..1 (a ratio)
 */
export function lineChart(doc, options) {
  const { title, summary, width = 640, height = 240, x, series, formatX } = options;
  const formatLeft = options.formatLeft ?? String;
  const formatRight = options.formatRight ?? String;
  if (!x.length) return emptyFigure(doc, title);
  const hasRight = series.some((s) => s.axis === 'right');
  const leftValues = series.filter((s) => s.axis !== 'right').flatMap((s) => s.values);
  const scale = niceScale(Math.max(0, ...leftValues.filter(Number.isFinite)), 4, options.integerLeft);
  // Wide enough for the longest left tick label (e.g. "$0.0040"), never narrower than before.
  const leftLabelWidth = Math.max(...scale.ticks.map((t) => formatLeft(t).length)) * CHAR_WIDTH + 12;
  const margin = { top: 12, right: hasRight ? 44 : 12, bottom: 26, left: Math.max(44, leftLabelWidth) };
  const plotRight = width - margin.right;
  const plotBottom = height - margin.bottom;
  const xScale = linearScale([x[0], x[x.length - 1]], [margin.left, plotRight]);
  const yLeft = linearScale([0, scale.max], [plotBottom, margin.top]);
  const yRight = linearScale([0, 1], [plotBottom, margin.top]);

  const { figure, svg } = figureShell(doc, { title, summary, width, height });
  const grid = svgEl(doc, 'g', { class: 'chart-axis' });
  for (const tick of scale.ticks) {
    const y = round(yLeft(tick));
    grid.append(svgEl(doc, 'line', { x1: margin.left, x2: plotRight, y1: y, y2: y, class: 'gridline' }));
    grid.append(svgEl(doc, 'text', { x: margin.left - 6, y: y + 4, 'text-anchor': 'end' }, formatLeft(tick)));
    if (hasRight) {
      const ratio = tick / scale.max;
      grid.append(svgEl(doc, 'text', { x: plotRight + 6, y: y + 4 }, formatRight(ratio)));
    }
  }
  const labelWidth = Math.max(...[x[0], x[x.length - 1]].map((t) => formatX(t).length)) * CHAR_WIDTH + 16;
  const maxLabels = Math.floor((plotRight - margin.left) / labelWidth) + 1;
  for (const i of tickIndexes(x.length, maxLabels)) {
    const anchor = x.length === 1 ? 'middle' : i === 0 ? 'start' : i === x.length - 1 ? 'end' : 'middle';
    grid.append(
      svgEl(doc, 'text', { x: round(xScale(x[i])), y: height - 8, 'text-anchor': anchor }, formatX(x[i])),
    );
  }
  svg.append(grid);

  for (const s of series) {
    const y = s.axis === 'right' ? yRight : yLeft;
    const points = s.values.map((v, i) => [xScale(x[i]), Number.isFinite(v) ? y(v) : null]);
    const group = svgEl(doc, 'g', { class: `series ${s.className ?? ''}` });
    group.append(svgEl(doc, 'path', { d: linePath(points), fill: 'none' }));
    if (x.length <= 60) {
      points.forEach(([px, py], i) => {
        if (py === null) return;
        const dot = svgEl(doc, 'circle', { cx: round(px), cy: round(py), r: 2.5 });
        const format = s.axis === 'right' ? formatRight : formatLeft;
        dot.append(svgEl(doc, 'title', {}, `${s.name} at ${formatX(x[i])}: ${format(s.values[i])}`));
        group.append(dot);
      });
    }
    svg.append(group);
  }

  const rows = x.map((t, i) => [
    formatX(t),
    ...series.map((s) =>
      Number.isFinite(s.values[i]) ? (s.axis === 'right' ? formatRight : formatLeft)(s.values[i]) : '–',
    ),
  ]);
  figure.append(
    legend(doc, series),
    svg,
    dataTable(doc, title, ['Time', ...series.map((s) => s.name)], rows),
  );
  return figure;
}

/**
 * Horizontal bar chart, one row per category; several series stack left to right.
 * @param {object} options
 * @param {string[]} options.categories
 * @param {{name:string, values:number[], className?:string}[]} options.series
 * @param {(v:number)=>string} [options.format]
 */
export function barChart(doc, options) {
  const { title, summary, width = 640, categories, series } = options;
  const format = options.format ?? String;
  if (!categories.length) return emptyFigure(doc, title);
  const rowHeight = 28;
  const barHeight = 18;
  const labelWidth = Math.min(
    Math.round(width * 0.42),
    Math.max(...categories.map((c) => c.length)) * CHAR_WIDTH + 8,
  );
  const stacks = stackRows(categories.map((_, i) => series.map((s) => s.values[i])));
  const totals = stacks.map((s) => s.total);
  const valueWidth = Math.max(...totals.map((t) => format(t).length)) * CHAR_WIDTH + 10;
  const margin = { top: 4, right: valueWidth, bottom: 4, left: labelWidth + 8 };
  const height = margin.top + margin.bottom + rowHeight * categories.length;
  const xScale = linearScale([0, Math.max(...totals) || 1], [margin.left, width - margin.right]);
  const { figure, svg } = figureShell(doc, { title, summary, width, height });

  categories.forEach((category, row) => {
    const top = margin.top + row * rowHeight;
    const label = fitLabel(category, labelWidth);
    const text = svgEl(
      doc,
      'text',
      { x: labelWidth, y: top + rowHeight / 2 + 4, 'text-anchor': 'end', class: 'bar-label' },
      label,
    );
    if (label !== category) text.append(svgEl(doc, 'title', {}, category));
    svg.append(text);
    stacks[row].segments.forEach((segment, k) => {
      if (segment.value <= 0) return;
      const x0 = xScale(segment.start);
      const rect = svgEl(doc, 'rect', {
        x: round(x0),
        y: top + (rowHeight - barHeight) / 2,
        width: Math.max(1, round(xScale(segment.end) - x0)),
        height: barHeight,
        class: `bar ${series[k].className ?? ''}`,
      });
      rect.append(svgEl(doc, 'title', {}, `${category}, ${series[k].name}: ${format(segment.value)}`));
      svg.append(rect);
    });
    svg.append(
      svgEl(
        doc,
        'text',
        { x: round(xScale(stacks[row].total)) + 6, y: top + rowHeight / 2 + 4, class: 'bar-value' },
        format(stacks[row].total),
      ),
    );
  });

  const stacked = series.length > 1;
  const header = [
    options.categoryLabel ?? 'Category',
    ...series.map((s) => s.name),
    ...(stacked ? ['Total'] : []),
  ];
  const rows = categories.map((category, i) => [
    category,
    ...series.map((s) => format(s.values[i] ?? 0)),
    ...(stacked ? [format(totals[i])] : []),
  ]);
  if (stacked) figure.append(legend(doc, series));
  figure.append(svg, dataTable(doc, title, header, rows));
  return figure;
}

/** Truncates a label with an ellipsis to fit `width` px at the estimated glyph width. */
export function fitLabel(label, width) {
  const maxChars = Math.max(3, Math.floor((width - 4) / CHAR_WIDTH));
  return label.length <= maxChars ? label : `${label.slice(0, maxChars - 1)}…`;
}
