// A small markdown renderer for the page's text: headings, paragraphs,
// lists, block quotes, rules, fenced and indented code, emphasis, strong,
// inline code and links (http, https, mailto: checked by url.js). It builds DOM
// nodes with createElement/textContent, so page text can never inject HTML.
import { h } from './dom.js';
import { safeUrl } from './url.js';

// Renders markdown text as a DocumentFragment of block elements.
export function renderBlocks(text) {
  const frag = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) frag.appendChild(h('p', null, renderInline(para.join('\n'))));
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (/^\s*$/.test(line)) { flush(); i++; continue; }
    if ((m = line.match(/^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*)/))) {
      flush();
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence)) body.push(lines[i++]);
      i++;
      const code = h('code', m[2] ? { class: `language-${m[2]}` } : null, body.join('\n'));
      frag.appendChild(h('pre', null, code));
      continue;
    }
    if ((m = line.match(/^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/))) {
      flush();
      frag.appendChild(h(`h${m[1].length}`, null, renderInline(m[2])));
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) { flush(); frag.appendChild(h('hr')); i++; continue; }
    if (/^ {4}/.test(line) && !para.length) {
      const body = [];
      while (i < lines.length && (/^ {4}/.test(lines[i]) || /^\s*$/.test(lines[i]))) body.push(lines[i++].slice(4));
      while (body.length && !body[body.length - 1].trim()) body.pop();
      frag.appendChild(h('pre', null, h('code', null, body.join('\n'))));
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      flush();
      const body = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) body.push(lines[i++].replace(/^\s{0,3}>\s?/, ''));
      frag.appendChild(h('blockquote', null, renderBlocks(body.join('\n'))));
      continue;
    }
    if ((m = line.match(/^(\s*)([-*+]|\d{1,9}[.)])\s+/))) {
      flush();
      const ordered = /\d/.test(m[2]);
      const list = h(ordered ? 'ol' : 'ul');
      if (ordered && parseInt(m[2], 10) !== 1) list.start = parseInt(m[2], 10);
      const itemRe = ordered ? /^\s*\d{1,9}[.)]\s+(.*)$/ : /^\s*[-*+]\s+(.*)$/;
      const items = [];
      while (i < lines.length) {
        const im = lines[i].match(itemRe);
        if (im) items.push([im[1]]);
        else if (items.length && /^\s+\S/.test(lines[i])) items[items.length - 1].push(lines[i].trim());
        else break;
        i++;
      }
      for (const item of items) list.appendChild(h('li', null, renderInline(item.join('\n'))));
      frag.appendChild(list);
      continue;
    }
    para.push(line);
    i++;
  }
  flush();
  return frag;
}

// Renders one line (or paragraph) of inline markdown as a DocumentFragment.
export function renderInline(text) {
  const frag = document.createDocumentFragment();
  const s = String(text);
  let i = 0;
  let buf = '';
  const out = (node) => {
    if (buf) { frag.appendChild(document.createTextNode(buf)); buf = ''; }
    frag.appendChild(node);
  };
  while (i < s.length) {
    const c = s[i];
    let m;
    const rest = s.slice(i);
    if (c === '\\' && i + 1 < s.length && /[\\`*_[\]()#+\-.!<>|{}~]/.test(s[i + 1])) { buf += s[i + 1]; i += 2; continue; }
    if (c === '`' && (m = rest.match(/^(`+)([\s\S]*?[^`])\1(?!`)/))) { out(h('code', null, m[2].trim() || m[2])); i += m[0].length; continue; }
    if ((c === '*' || c === '_') && (m = rest.match(/^(\*\*|__)(?=\S)([\s\S]*?\S)\1/))) { out(h('strong', null, renderInline(m[2]))); i += m[0].length; continue; }
    if ((c === '*' || c === '_') && (m = rest.match(/^(\*|_)(?=\S)([\s\S]*?\S)\1(?![*_])/))) {
      if (c === '*' || !/\w/.test(s[i - 1] || '')) { out(h('em', null, renderInline(m[2]))); i += m[0].length; continue; }
    }
    if (c === '~' && (m = rest.match(/^~~(?=\S)([\s\S]*?\S)~~/))) { out(h('del', null, renderInline(m[1]))); i += m[0].length; continue; }
    if (c === '[' && (m = rest.match(/^\[([^\]]*)\]\(\s*([^\s)]+)(?:\s+"([^"]*)")?\s*\)/))) {
      const href = safeUrl(m[2]);
      if (href) {
        const a = h('a', { href, title: m[3] }, renderInline(m[1]));
        const u = new URL(href);
        if (/^https?:$/.test(u.protocol) && u.origin !== location.origin) { a.target = '_blank'; a.rel = 'noopener noreferrer'; }
        out(a);
      } else {
        out(document.createTextNode(m[1]));
      }
      i += m[0].length;
      continue;
    }
    if (c === '\n') { out(h('br')); i++; continue; }
    buf += c;
    i++;
  }
  if (buf) frag.appendChild(document.createTextNode(buf));
  return frag;
}
