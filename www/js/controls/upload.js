// file_selector: uploads files to a SQL action. Each file is one call of
// on_action with the payload {id, name, type, size, encoding, content,
// index, count}: content is the file's text when it is UTF-8 without NUL
// (encoding "text"), otherwise its bytes in base64 (encoding "base64";
// decode(payload->>'content', 'base64') gives a bytea). The request body
// is bounded by pg_dash.max_body_size (1MB by default), so files larger
// than max_file_size (default 700 kB) are refused before sending. A
// progress bar shows the upload; the bound state key gets the file name(s).
import { h, normalizeError } from '../dom.js';
import { num, toText, truthy } from '../template.js';
import * as api from '../api.js';

const DEFAULT_MAX = 700 * 1024;

// "12.3 kB" for a byte count.
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// {encoding, content} of a file's bytes.
export function encodeFile(bytes) {
  if (!bytes.includes(0)) {
    try {
      return { encoding: 'text', content: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
    } catch { /* not UTF-8: base64 */ }
  }
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { encoding: 'base64', content: btoa(bin) };
}

// Whether name matches the accepted extensions (".csv,.xlsx"; "*" or empty: all).
function accepted(name, extensions) {
  const list = extensions.split(/[,;]/).map((e) => e.trim().toLowerCase()).filter(Boolean);
  if (!list.length || list.includes('*')) return true;
  const n = name.toLowerCase();
  return list.some((e) => (e.startsWith('.') ? n.endsWith(e) : e.includes('/') ? true : n.endsWith(`.${e}`)));
}

function file_selector(node, ctx) {
  const fn = typeof node.properties.on_action === 'string' ? node.properties.on_action : '';
  const input = h('input', { type: 'file', class: 'visually-hidden' });
  const caption = h('span', { class: 'file-caption' });
  const button = h('label', { class: 'btn file-button' }, input, '⬆ ', caption);
  const bar = h('progress', { class: 'upload-progress', max: 100, value: 0, hidden: true });
  const status = h('span', { class: 'action-status', role: 'status', 'aria-live': 'polite' });
  const el = h('div', { class: 'file-selector' }, button, bar, status);
  let busy = false;
  let extensions = '';

  const show = (kind, text) => { status.className = `action-status ${kind || ''}`; status.textContent = text || ''; };

  const send = async (files) => {
    if (busy || !files.length) return;
    if (!fn) { show('error', 'This file selector has no on_action: there is nowhere to send the file.'); return; }
    const max = num(ctx.prop(node, 'max_file_size'), DEFAULT_MAX);
    for (const f of files) {
      if (!accepted(f.name, extensions)) { show('error', `${f.name}: only ${extensions} files are accepted.`); return; }
      if (f.size > max) { show('error', `${f.name} is ${formatBytes(f.size)}; the limit is ${formatBytes(max)} (max_file_size).`); return; }
    }
    busy = true;
    el.setAttribute('aria-busy', 'true');
    input.disabled = true;
    const total = files.reduce((n, f) => n + f.size, 0) || 1;
    let done = 0;
    bar.hidden = false;
    bar.value = 0;
    show('busy', `Uploading ${files.length === 1 ? files[0].name : `${files.length} files`}…`);
    try {
      for (let i = 0; i < files.length; i++) {
        const f = files[i];
        const enc = encodeFile(new Uint8Array(await f.arrayBuffer()));
        const payload = { id: node.properties.id ?? null, name: f.name, type: f.type || 'application/octet-stream', size: f.size, ...enc, index: i, count: files.length };
        const r = await api.upload(`/api/action/${encodeURIComponent(fn)}`, { payload }, (sent, all) => {
          bar.value = Math.round(((done + (f.size * sent) / (all || 1)) / total) * 100);
        });
        done += f.size;
        bar.value = Math.round((done / total) * 100);
        ctx.actionDone(r);
      }
      const key = ctx.stateKey(node, 'content');
      const names = files.map((f) => f.name);
      if (key) await ctx.store.set(key, files.length === 1 ? names[0] : names);
      if (truthy(ctx.prop(node, 'notify', true))) show('ok', `Uploaded ${names.join(', ')} (${formatBytes(total)}).`);
      else show('ok', '');
    } catch (e) {
      const n = normalizeError(e);
      const tooLarge = e.status === 413 ? ' The server refuses requests over pg_dash.max_body_size.' : '';
      show('error', [n.message, n.detail, n.hint].filter(Boolean).join(' — ') + tooLarge);
    } finally {
      busy = false;
      el.removeAttribute('aria-busy');
      input.disabled = false;
      input.value = '';
    }
  };

  input.addEventListener('change', () => send([...input.files]));
  // Drag and drop onto the element.
  el.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    el.classList.add('dragging');
    caption.textContent = toText(ctx.prop(node, 'drop_message', 'Drop here to upload'));
  });
  const leave = () => { el.classList.remove('dragging'); caption.textContent = toText(ctx.prop(node, 'label', 'Upload')) || 'Upload'; };
  el.addEventListener('dragleave', leave);
  el.addEventListener('drop', (ev) => {
    ev.preventDefault();
    leave();
    const files = [...((ev.dataTransfer && ev.dataTransfer.files) || [])];
    send(truthy(ctx.prop(node, 'multiple', false)) ? files : files.slice(0, 1));
  });

  ctx.track(node.bindings, () => {
    caption.textContent = toText(ctx.prop(node, 'label', 'Upload')) || 'Upload';
    input.multiple = truthy(ctx.prop(node, 'multiple', false));
    extensions = toText(ctx.prop(node, 'extensions', ''));
    if (extensions) input.accept = extensions; else input.removeAttribute('accept');
    const off = node.properties.active !== undefined && !truthy(ctx.prop(node, 'active', true));
    input.disabled = off || !fn || busy;
    button.classList.toggle('disabled', input.disabled);
    if (!fn) show('', 'Uploads are off: the page gives this file selector no on_action.');
  });
  return el;
}

export default { file_selector };
