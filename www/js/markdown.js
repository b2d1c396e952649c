// Markdown of pages: markdown-it (CommonMark and tables) with Python-Markdown's
// attribute lists ("# Title {: .big}", through markdown-it-attrs), raw HTML
// allowed and then sanitized by DOMPurify against an allow-list: no script,
// style, form or frame elements, no on* handlers, no style attributes, and
// links and images only where url.js's safeUrl() allows them, checked on
// the parsed URL the browser will follow (images: this server and inert
// data:). The libraries come from npm (scripts/build-www.sh) and are
// loaded by index.html as async classic scripts, so that the application
// need not wait for them before asking for its data: librariesReady()
// resolves once they have run, and pages are rendered after it.
//
// A page's inline elements are rendered inside the markdown around them:
// the text gets a placeholder per element (private-use characters that
// markdown leaves alone), and each placeholder in the sanitized DOM is
// replaced by the element's node, so "### <|{title}|>" is a heading and a
// table row can hold controls.

import { safeUrl } from './url.js';
import { url } from './base.js';

const PLACEHOLDER = /\uE000(\d+)\uE001/g;

const PURIFY = {
  RETURN_DOM_FRAGMENT: true,
  FORBID_TAGS: ['style', 'script', 'form', 'input', 'button', 'select', 'textarea', 'option',
    'iframe', 'frame', 'frameset', 'object', 'embed', 'link', 'meta', 'base', 'template', 'svg', 'math'],
  FORBID_ATTR: ['style', 'srcset', 'action', 'formaction'],
  // relative URLs too, "about" included (a page beside this one); safeUrl() decides below
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|[^a-z:]*$|[^:]*[/?#]|[a-z+.-]+(?:[^a-z+.:-]|$))/i,
};

// Resolves once markdown-it, markdown-it-attrs and DOMPurify have run (or
// failed to load: rendering then says which is missing).
export function librariesReady() {
  const ready = (name, src) => {
    if (globalThis[name]) return Promise.resolve();
    const s = document.querySelector(`script[src="${url(src)}"]`);
    if (!s) return Promise.resolve();
    return new Promise((resolve) => {
      s.addEventListener('load', resolve, { once: true });
      s.addEventListener('error', resolve, { once: true });
    });
  };
  return Promise.all([ready('markdownit', '/vendor/markdown-it.min.js'),
    ready('markdownItAttrs', '/vendor/markdown-it-attrs.min.js'), ready('DOMPurify', '/vendor/purify.min.js')]);
}

let md = null;

// The markdown-it instance, made on first use.
function parser() {
  if (!md) {
    const { markdownit, markdownItAttrs } = globalThis;
    if (typeof markdownit !== 'function') throw new Error('markdown-it is not loaded (/vendor/markdown-it.min.js)');
    md = markdownit({ html: true, linkify: false, typographer: false, breaks: false });
    if (typeof markdownItAttrs === 'function') {
      md.use(markdownItAttrs, { leftDelimiter: '{:', rightDelimiter: '}', allowedAttributes: ['id', 'class'] });
    }
    md.core.ruler.push('pg_dash_no_handlers', dropHandlers);
  }
  return md;
}

// An event-handler attribute inside a tag of raw HTML (onclick=, / onload =).
const HANDLER = /([\s"'/])on[a-z0-9_-]*\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]*)/gi;

// Removes event-handler attributes from the raw HTML of the markdown before
// the browser parses it: DOMPurify would drop them, but Chromium reports
// each one it parses, even in an inert document, as a violation of the
// page's Content-Security-Policy (nothing runs). DOMPurify stays the
// sanitizer; this only spares the parse.
function dropHandlers(state) {
  const clean = (html) => html.replace(/<[^<>]*>/g, (tag) => tag.replace(HANDLER, '$1'));
  for (const t of state.tokens) {
    if (t.type === 'html_block') t.content = clean(t.content);
    for (const c of t.children || []) if (c.type === 'html_inline') c.content = clean(c.content);
  }
}

// Sanitized DOM of an HTML text.
function sanitize(html) {
  const purify = globalThis.DOMPurify;
  if (!purify || typeof purify.sanitize !== 'function') throw new Error('DOMPurify is not loaded (/vendor/purify.min.js)');
  const frag = purify.sanitize(html, PURIFY);
  // DOMPurify's check is a pattern; the one check that parses like the browser has the last word
  for (const a of frag.querySelectorAll('a[href]')) {
    const href = safeUrl(a.getAttribute('href'), 'link');
    if (!href) { a.removeAttribute('href'); continue; }
    a.setAttribute('href', href);
    const u = new URL(href);
    if (/^https?:$/.test(u.protocol) && u.origin !== location.origin) { a.target = '_blank'; a.rel = 'noopener noreferrer'; }
  }
  for (const img of frag.querySelectorAll('img[src]')) {
    const src = safeUrl(img.getAttribute('src'), 'image');
    if (src) img.setAttribute('src', src);
    else img.removeAttribute('src');
  }
  return frag;
}

// Renders markdown text as a DocumentFragment of block elements.
export function renderBlocks(text) {
  return sanitize(parser().render(String(text)));
}

// Renders markdown text as inline content (no paragraph around it).
export function renderInline(text) {
  return sanitize(parser().renderInline(String(text)));
}

// The placeholder text standing for inline element i.
export function placeholder(i) {
  return `\uE000${i}\uE001`;
}

// Renders markdown text holding placeholders, putting elements[i] where
// placeholder(i) is; elements no placeholder took are appended at the end.
export function renderWithElements(text, elements) {
  const frag = renderBlocks(text);
  const placed = new Set();
  const walker = document.createTreeWalker(frag, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.includes('\uE000')) texts.push(n);
  for (const t of texts) {
    const parts = t.data.split(PLACEHOLDER);
    const out = document.createDocumentFragment();
    parts.forEach((p, k) => {
      if (k % 2 === 0) { if (p) out.appendChild(document.createTextNode(p)); return; }
      const i = Number(p);
      if (elements[i] && !placed.has(i)) { out.appendChild(elements[i]); placed.add(i); }
    });
    t.replaceWith(out);
  }
  elements.forEach((el, i) => { if (el && !placed.has(i)) frag.appendChild(el); });
  return frag;
}
