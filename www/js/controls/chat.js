// chat: a conversation. messages is a list of [id, content, sender_id] (a
// state key, or a named query whose rows are (id, content, sender_id)), the
// newest last; users a list of [id, name] (or names). Sending calls
// on_action with {id, message, sender_id}: the action stores the message
// (a table) and announces it (NOTIFY or pg_dash.publish on a channel the
// messages query has in refresh_on), so that every browser shows it at once;
// or it returns the new list for a state key. Messages are markdown by
// default (mode=raw or pre: plain text), sanitized like page markdown.
import { h, clear, normalizeError } from '../dom.js';
import { num, toText, truthy } from '../template.js';
import { renderBlocks } from '../markdown.js';

// [{id, content, sender}] from the bound messages.
export function chatMessages(v) {
  let rows = [];
  if (Array.isArray(v)) rows = v;
  else if (v && typeof v === 'object' && Array.isArray(v.rows)) {
    const cols = (v.columns || []).map((c) => (typeof c === 'string' ? c : c.name));
    rows = v.rows.map((r) => (Array.isArray(r) ? r : cols.map((c) => r[c])));
  }
  return rows.map((m) => (Array.isArray(m)
    ? { id: m[0], content: toText(m[1]), sender: m[2] }
    : m && typeof m === 'object' ? { id: m.id, content: toText(m.content ?? m.message), sender: m.sender_id ?? m.sender } : { id: null, content: toText(m), sender: null }));
}

// Map of user id -> name.
function userNames(users) {
  const out = new Map();
  let list = [];
  if (Array.isArray(users)) list = users;
  else if (users && typeof users === 'object' && Array.isArray(users.rows)) list = users.rows;
  else if (typeof users === 'string') list = users.split(';');
  for (const u of list) {
    if (Array.isArray(u)) out.set(String(u[0]), toText(u[1] ?? u[0]));
    else if (u && typeof u === 'object') out.set(String(u.id), toText(u.name ?? u.label ?? u.id));
    else out.set(String(u), toText(u));
  }
  return out;
}

function chat(node, ctx) {
  const fn = typeof node.properties.on_action === 'string' ? node.properties.on_action : '';
  const log = h('div', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0' });
  const inputId = `c${Math.random().toString(36).slice(2, 9)}`;
  const input = h('textarea', { id: inputId, class: 'chat-input', rows: 2, placeholder: 'Write a message…' });
  const send = h('button', { type: 'submit', class: 'btn' }, 'Send');
  const status = h('div', { class: 'field-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'chat-form' }, h('label', { class: 'visually-hidden', for: inputId }, 'Message'), input, send);
  const el = h('div', { class: 'chat' }, log, form, status);

  const submit = async () => {
    const text = input.value.trim();
    if (!text || !fn) return;
    send.disabled = true;
    status.hidden = true;
    try {
      await ctx.action(fn, { id: node.properties.id ?? null, message: text, sender_id: toText(ctx.prop(node, 'sender_id', 'taipy')) });
      input.value = '';
    } catch (e) {
      const n = normalizeError(e);
      status.hidden = false;
      status.textContent = [n.message, n.detail, n.hint].filter(Boolean).join(' — ');
    } finally {
      send.disabled = false;
      input.focus();
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
  // Enter sends, Shift+Enter is a new line.
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); submit(); }
  });

  ctx.track(node.bindings, () => {
    const me = toText(ctx.prop(node, 'sender_id', 'taipy'));
    const names = userNames(ctx.prop(node, 'users'));
    const mode = String(ctx.prop(node, 'mode', 'markdown'));
    const showSender = truthy(ctx.prop(node, 'show_sender', false));
    const pageSize = num(ctx.prop(node, 'page_size'), 50);
    const raw = ctx.prop(node, 'messages');
    const all = chatMessages(raw);
    const msgs = pageSize > 0 ? all.slice(-pageSize) : all;
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    clear(log);
    for (const m of msgs) {
      const mine = String(m.sender) === me;
      const who = names.get(String(m.sender)) || toText(m.sender);
      const body = mode === 'raw' || mode === 'pre'
        ? h('div', { class: `chat-text${mode === 'pre' ? ' pre' : ''}` }, m.content)
        : h('div', { class: 'chat-text md' }, renderBlocks(m.content));
      log.appendChild(h('div', { class: `chat-message${mine ? ' mine' : ''}`, dataset: { sender: toText(m.sender) } },
        showSender || !mine ? h('div', { class: 'chat-sender' }, who || 'unknown') : null, body));
    }
    if (!msgs.length) log.appendChild(h('div', { class: 'empty' }, raw === undefined ? 'Loading messages…' : 'No messages yet'));
    if (atEnd || log.dataset.filled !== 'true') log.scrollTop = log.scrollHeight;
    log.dataset.filled = 'true';
    log.dataset.count = String(msgs.length);
    form.hidden = node.properties.with_input !== undefined && !truthy(ctx.prop(node, 'with_input', true));
    const off = (node.properties.active !== undefined && !truthy(ctx.prop(node, 'active', true))) || !fn;
    input.disabled = off;
    send.disabled = off;
    if (!fn) input.placeholder = 'Sending is off: the page gives this chat no on_action.';
    const height = ctx.prop(node, 'height');
    if (typeof height === 'string' && /^[\d.]+(px|em|rem|vh|%)?$/.test(height)) log.style.maxHeight = /\d$/.test(height) ? `${height}px` : height;
  });
  return el;
}

export default { chat };
