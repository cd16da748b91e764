/**
 * Safe renderer for the bot's markdown answers: paragraphs, **bold**, `code`, fenced code, numbered and
 * bulleted lists, and links for http(s) URLs only. Parsing is pure (no DOM); rendering builds nodes with
 * createElement/createTextNode, so no input is ever interpreted as HTML. Imported by chat and console.
 */

const ORDERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const FENCE = /^\s{0,3}```/;
const HEADING = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;
const BARE_URL = /^https?:\/\/[^\s<>]+/i;
const LINK = /^\[([^\]\n]+)\]\(\s*([^)\s]+)\s*\)/;

/** The URL as a normalised string when it is absolute http(s), else null. */
export function safeHttpUrl(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Inline nodes: {type:'text'|'code', value} | {type:'strong', children} | {type:'link', href, children}. */
export function parseInline(text, allowLinks = true) {
  const nodes = [];
  let buffer = '';
  const pushText = (value) => {
    buffer += value;
  };
  const flush = () => {
    if (buffer) nodes.push({ type: 'text', value: buffer });
    buffer = '';
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length && /[\\`*[\]()#+\-.!_]/.test(text[i + 1])) {
      pushText(text[i + 1]);
      i += 2;
      continue;
    }
    if (ch === '`') {
      const run = /^`+/.exec(rest)[0];
      const end = text.indexOf(run, i + run.length);
      if (end > i + run.length) {
        flush();
        nodes.push({ type: 'code', value: text.slice(i + run.length, end).trim() || ' ' });
        i = end + run.length;
        continue;
      }
      pushText(run);
      i += run.length;
      continue;
    }
    if (rest.startsWith('**')) {
      const end = findClosingStrong(text, i + 2);
      if (end > i + 2) {
        flush();
        nodes.push({ type: 'strong', children: parseInline(text.slice(i + 2, end), allowLinks) });
        i = end + 2;
        continue;
      }
      pushText('**');
      i += 2;
      continue;
    }
    if (allowLinks && ch === '[') {
      const match = LINK.exec(rest);
      const href = match && safeHttpUrl(match[2]);
      if (href) {
        flush();
        nodes.push({ type: 'link', href, children: parseInline(match[1], false) });
        i += match[0].length;
        continue;
      }
    }
    if (allowLinks && (ch === 'h' || ch === 'H') && (i === 0 || /[\s(]/.test(text[i - 1]))) {
      const match = BARE_URL.exec(rest);
      if (match) {
        const raw = match[0].replace(/[.,;:!?'")\]]+$/, '');
        const href = safeHttpUrl(raw);
        if (href) {
          flush();
          nodes.push({ type: 'link', href, children: [{ type: 'text', value: raw }] });
          i += raw.length;
          continue;
        }
      }
    }
    pushText(ch);
    i += 1;
  }
  flush();
  return nodes;
}

/** Index of the `**` that closes a bold run opened before `from`, skipping code spans; -1 if none. */
function findClosingStrong(text, from) {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '`') {
      const close = text.indexOf('`', i + 1);
      if (close > 0) i = close;
      continue;
    }
    if (text[i] === '*' && text[i + 1] === '*') return i;
  }
  return -1;
}

/**
 * Block nodes: {type:'paragraph', lines:[inline[]]} | {type:'list', ordered, start, items:[inline[]]}
 * | {type:'code', value}.
 */
export function parseMarkdown(source) {
  const lines = String(source ?? '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  const blocks = [];
  let paragraph = null;
  let list = null;
  const close = () => {
    paragraph = null;
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (FENCE.test(line)) {
      close();
      const body = [];
      i += 1;
      while (i < lines.length && !FENCE.test(lines[i])) body.push(lines[i++]);
      blocks.push({ type: 'code', value: body.join('\n') });
      continue;
    }
    if (line.trim() === '') {
      close();
      continue;
    }
    const ordered = ORDERED.exec(line);
    const bullet = ordered ? null : BULLET.exec(line);
    if (ordered || bullet) {
      const isOrdered = Boolean(ordered);
      if (!list || list.ordered !== isOrdered) {
        paragraph = null;
        list = { type: 'list', ordered: isOrdered, start: isOrdered ? Number(ordered[1]) : 1, items: [] };
        blocks.push(list);
      }
      list.items.push((isOrdered ? ordered[2] : bullet[1]).trim());
      continue;
    }
    if (list && /^\s+\S/.test(line)) {
      // An indented line continues the current list item.
      list.items[list.items.length - 1] += ` ${line.trim()}`;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      close();
      blocks.push({ type: 'paragraph', heading: true, lines: [heading[1]] });
      continue;
    }
    list = null;
    if (!paragraph) {
      paragraph = { type: 'paragraph', lines: [] };
      blocks.push(paragraph);
    }
    paragraph.lines.push(line.trim());
  }
  return blocks.map((block) => {
    if (block.type === 'list') return { ...block, items: block.items.map((item) => parseInline(item)) };
    if (block.type === 'paragraph') {
      const inline = block.lines.map((l) => parseInline(l));
      return {
        type: 'paragraph',
        lines: block.heading ? [[{ type: 'strong', children: inline[0] }]] : inline,
      };
    }
    return block;
  });
}

function appendInline(doc, parent, nodes) {
  for (const node of nodes) {
    if (node.type === 'text') {
      parent.appendChild(doc.createTextNode(node.value));
    } else if (node.type === 'code') {
      const code = doc.createElement('code');
      code.textContent = node.value;
      parent.appendChild(code);
    } else if (node.type === 'strong') {
      const strong = doc.createElement('strong');
      appendInline(doc, strong, node.children);
      parent.appendChild(strong);
    } else if (node.type === 'link') {
      const a = doc.createElement('a');
      a.setAttribute('href', node.href);
      a.setAttribute('rel', 'noopener noreferrer');
      a.setAttribute('target', '_blank');
      appendInline(doc, a, node.children);
      parent.appendChild(a);
    }
  }
}

/** Renders markdown into a DocumentFragment. `doc` defaults to the page's document. */
export function renderMarkdown(source, doc = globalThis.document) {
  const fragment = doc.createDocumentFragment();
  for (const block of parseMarkdown(source)) {
    if (block.type === 'paragraph') {
      const p = doc.createElement('p');
      block.lines.forEach((line, index) => {
        if (index > 0) p.appendChild(doc.createElement('br'));
        appendInline(doc, p, line);
      });
      fragment.appendChild(p);
    } else if (block.type === 'list') {
      const listEl = doc.createElement(block.ordered ? 'ol' : 'ul');
      if (block.ordered && block.start !== 1) listEl.setAttribute('start', String(block.start));
      for (const item of block.items) {
        const li = doc.createElement('li');
        appendInline(doc, li, item);
        listEl.appendChild(li);
      }
      fragment.appendChild(listEl);
    } else if (block.type === 'code') {
      const pre = doc.createElement('pre');
      const code = doc.createElement('code');
      code.textContent = block.value;
      pre.appendChild(code);
      fragment.appendChild(pre);
    }
  }
  return fragment;
}
