// Property values of the page tree: booleans, or strings that may hold
// bindings: "{name}", "{name.field}", "{None}" (null) and templates such as
// "Device: {device_id}". A binding names a session_state key or a named query.

const BINDING = /\{([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_]+)*)\}/g;

// The parts of a template: strings and {name, path} bindings.
export function parse(value) {
  if (typeof value !== 'string') return [value];
  const parts = [];
  let last = 0;
  for (const m of value.matchAll(BINDING)) {
    if (m.index > last) parts.push(value.slice(last, m.index));
    parts.push({ name: m[1], path: m[2] ? m[2].slice(1).split('.') : [] });
    last = m.index + m[0].length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return parts;
}

// The single binding of a value that is exactly "{name...}", else null.
export function pureBinding(value) {
  const parts = parse(value);
  return parts.length === 1 && typeof parts[0] === 'object' && parts[0] !== null ? parts[0] : null;
}

// The names bound by a value.
export function names(value) {
  return parse(value).filter((p) => p && typeof p === 'object').map((p) => p.name);
}

// Reads path (field names) from a value: a query result's field reads the
// first row's column; objects are read by key.
export function readPath(v, path) {
  for (const f of path) {
    if (v === null || v === undefined) return undefined;
    if (Array.isArray(v.rows) && Array.isArray(v.columns)) {
      const cols = v.columns.map((c) => (typeof c === 'string' ? c : c.name));
      const row = v.rows[0];
      if (!row) return undefined;
      v = Array.isArray(row) ? row[cols.indexOf(f)] : row[f];
    } else {
      v = v[f];
    }
  }
  return v;
}

// Text for a value shown inside a template or a text control.
export function toText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') {
    if (Array.isArray(v.rows) && Array.isArray(v.columns)) {
      if (v.rows.length === 1 && (Array.isArray(v.rows[0]) ? v.rows[0].length === 1 : Object.keys(v.rows[0]).length === 1)) {
        return toText(Array.isArray(v.rows[0]) ? v.rows[0][0] : Object.values(v.rows[0])[0]);
      }
      return v.rows.map((r) => (Array.isArray(r) ? r : Object.values(r)).map(toText).join(', ')).join('\n');
    }
    return JSON.stringify(v);
  }
  return String(v);
}

// Resolves a property value with lookup(name) giving a binding's value:
// a pure binding gives the raw value, a template gives text.
export function resolve(value, lookup) {
  if (typeof value !== 'string') return value;
  const parts = parse(value);
  const one = pureBinding(value);
  if (one) return one.name === 'None' ? null : readPath(lookup(one.name), one.path);
  return parts.map((p) => (typeof p === 'string' ? p
    : p.name === 'None' ? '' : toText(readPath(lookup(p.name), p.path)))).join('');
}

// Interprets a property as a boolean ("True", "true", "1", true).
export function truthy(v) {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return /^(true|yes|on|1)$/i.test(v.trim());
  return false;
}

// Interprets a property as a number, or def.
export function num(v, def) {
  if (v === null || v === undefined || v === '') return def;
  const n = Number(v);
  return Number.isFinite(n) ? n : def;
}
