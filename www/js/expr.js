// Evaluates the binding expressions of pages, in the parsed form the server
// produces (src/lib/page_expr.c; docs/page-syntax.md section 2), with
// Python's semantics for the subset pages use. There is no eval and no
// Function: the tree is walked. Names are looked up through a callback, and
// attributes and items are read only from a value's own data (never from
// its prototype), so an expression cannot reach `constructor`, `__proto__`
// or any global.
//
// Values are JSON values: numbers (Python's int and float are both JS
// numbers, so an integral float prints as an int), strings, booleans, null
// (None), arrays (lists and tuples), objects (dicts), and query results
// {columns, rows}: result.col reads the first row, result[i] a row (as a
// dict), result["col"] a column (as a list), len(result) counts rows.

// An error of the page's expression (Python would raise it).
export class ExprError extends Error {}

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const NOT_LOADED = undefined;

// Whether v is a named query's result.
export function isResult(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Array.isArray(v.rows) && Array.isArray(v.columns);
}

function columnNames(v) { return v.columns.map((c) => (typeof c === 'string' ? c : c && c.name)); }

// A result's row as a dict.
function rowDict(v, row) {
  if (!Array.isArray(row)) return row;
  const cols = columnNames(v);
  return Object.fromEntries(cols.map((c, i) => [c, row[i]]));
}

function isDict(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

function typeName(v) {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

function checkName(name) {
  if (typeof name !== 'string' || FORBIDDEN.has(name) || name.startsWith('__')) throw new ExprError(`name ${name} is not allowed`);
}

// ---- Python values -------------------------------------------------------

// Python's truth value.
export function truth(v) {
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (isResult(v)) return v.rows.length > 0;
  return Object.keys(v).length > 0;
}

function pyFloatStr(x) {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return String(x);
  const s = String(x);
  // JS writes 1e-7 and 1e+21; Python 1e-07 and 1e+21
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

// repr() of a value.
export function repr(v) {
  if (typeof v === 'string') {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
  }
  return str(v);
}

// str() of a value.
export function str(v) {
  if (v === undefined) return '';
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return pyFloatStr(v);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(repr).join(', ')}]`;
  if (isResult(v)) {
    const rows = v.rows.map((r) => rowDict(v, r));
    return `[${rows.map(repr).join(', ')}]`;
  }
  return `{${Object.keys(v).map((k) => `${repr(k)}: ${repr(v[k])}`).join(', ')}}`;
}

// Python's ==.
export function equal(a, b) {
  if (a === b) return true;
  if (typeof a === 'boolean') a = Number(a);
  if (typeof b === 'boolean') b = Number(b);
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isDict(a) && isDict(b) && !isResult(a) && !isResult(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

function num(v, op) {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  throw new ExprError(`unsupported operand type(s) for ${op}: '${typeName(v)}'`);
}

// Python's < for numbers, strings and lists.
function less(a, b, op) {
  if (typeof a === 'string' && typeof b === 'string') return a < b;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!equal(a[i], b[i])) return less(a[i], b[i], op);
    }
    return a.length < b.length;
  }
  return num(a, op) < num(b, op);
}

function contains(container, item) {
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw new ExprError("'in <string>' requires string as left operand");
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => equal(x, item));
  if (isResult(container)) return columnNames(container).includes(item);
  if (isDict(container)) return typeof item === 'string' && hasOwn(container, item);
  throw new ExprError(`argument of type '${typeName(container)}' is not iterable`);
}

function compare(a, op, b) {
  switch (op) {
    case '==': return equal(a, b);
    case '!=': return !equal(a, b);
    case '<': return less(a, b, op);
    case '>': return less(b, a, op);
    case '<=': return less(a, b, op) || equal(a, b);
    case '>=': return less(b, a, op) || equal(a, b);
    case 'in': return contains(b, a);
    case 'not in': return !contains(b, a);
    case 'is': return a === b || (a === undefined && b === null);
    case 'is not': return !(a === b || (a === undefined && b === null));
    default: throw new ExprError(`unknown comparison ${op}`);
  }
}

function repeat(seq, n) {
  const k = Math.max(0, Math.trunc(num(n, '*')));
  if (typeof seq === 'string') return seq.repeat(k);
  let out = [];
  for (let i = 0; i < k; i++) out = out.concat(seq);
  return out;
}

function arith(a, op, b) {
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return a.concat(b);
    return num(a, op) + num(b, op);
  }
  if (op === '*') {
    if ((typeof a === 'string' || Array.isArray(a)) && (typeof b === 'number' || typeof b === 'boolean')) return repeat(a, b);
    if ((typeof b === 'string' || Array.isArray(b)) && (typeof a === 'number' || typeof a === 'boolean')) return repeat(b, a);
    return num(a, op) * num(b, op);
  }
  const x = num(a, op);
  const y = num(b, op);
  switch (op) {
    case '-': return x - y;
    case '/': if (y === 0) throw new ExprError('division by zero'); return x / y;
    case '//': if (y === 0) throw new ExprError('integer division or modulo by zero'); return Math.floor(x / y);
    case '%': {
      if (y === 0) throw new ExprError('integer division or modulo by zero');
      const r = x % y;
      return r !== 0 && (r < 0) !== (y < 0) ? r + y : r;
    }
    default: throw new ExprError(`unknown operator ${op}`);
  }
}

// ---- access --------------------------------------------------------------

function getAttr(v, name) {
  checkName(name);
  if (v === NOT_LOADED) return NOT_LOADED;
  if (isResult(v)) {
    const row = v.rows[0];
    if (!row) return null;
    return Array.isArray(row) ? row[columnNames(v).indexOf(name)] : (hasOwn(row, name) ? row[name] : undefined);
  }
  if (isDict(v)) return hasOwn(v, name) ? v[name] : undefined;
  throw new ExprError(`'${typeName(v)}' object has no attribute '${name}'`);
}

function index(len, k) {
  if (typeof k === 'boolean') k = Number(k);
  if (typeof k !== 'number' || !Number.isInteger(k)) throw new ExprError('indices must be integers');
  const i = k < 0 ? len + k : k;
  if (i < 0 || i >= len) throw new ExprError('index out of range');
  return i;
}

function getItem(v, k) {
  if (v === NOT_LOADED || k === NOT_LOADED) return NOT_LOADED;
  if (isResult(v)) {
    if (typeof k === 'string') {
      const c = columnNames(v).indexOf(k);
      if (c < 0) throw new ExprError(`KeyError: ${repr(k)}`);
      return v.rows.map((r) => (Array.isArray(r) ? r[c] : r[k]));
    }
    return rowDict(v, v.rows[index(v.rows.length, k)]);
  }
  if (typeof v === 'string') {
    const chars = Array.from(v);
    return chars[index(chars.length, k)];
  }
  if (Array.isArray(v)) return v[index(v.length, k)];
  if (isDict(v)) {
    const key = typeof k === 'string' ? k : str(k);
    checkName(key);
    if (!hasOwn(v, key)) throw new ExprError(`KeyError: ${repr(k)}`);
    return v[key];
  }
  throw new ExprError(`'${typeName(v)}' object is not subscriptable`);
}

function sliceOf(v, lo, hi, step) {
  if (v === NOT_LOADED) return NOT_LOADED;
  if (isResult(v)) v = v.rows.map((r) => rowDict(v, r));
  const seq = typeof v === 'string' ? Array.from(v) : v;
  if (!Array.isArray(seq)) throw new ExprError(`'${typeName(v)}' object is not subscriptable`);
  const n = seq.length;
  const s = step === null ? 1 : num(step, 'slice');
  if (s === 0 || !Number.isInteger(s)) throw new ExprError('slice step cannot be zero');
  const clamp = (x, def, lowB, highB) => {
    if (x === null) return def;
    let i = num(x, 'slice');
    if (i < 0) i += n;
    return Math.min(Math.max(i, lowB), highB);
  };
  const start = s > 0 ? clamp(lo, 0, 0, n) : clamp(lo, n - 1, -1, n - 1);
  const stop = s > 0 ? clamp(hi, n, 0, n) : clamp(hi, -1, -1, n - 1);
  const out = [];
  for (let i = start; s > 0 ? i < stop : i > stop; i += s) out.push(seq[i]);
  return typeof v === 'string' ? out.join('') : out;
}

// ---- builtins ------------------------------------------------------------

function iterable(v) {
  if (typeof v === 'string') return Array.from(v);
  if (Array.isArray(v)) return v;
  if (isResult(v)) return v.rows.map((r) => rowDict(v, r));
  if (isDict(v)) return Object.keys(v);
  throw new ExprError(`'${typeName(v)}' object is not iterable`);
}

// Python's round(): to the nearest of the double's exact value, halves to even.
export function pyRound(x, nd) {
  x = num(x, 'round()');
  const digits = nd === undefined || nd === null ? 0 : num(nd, 'round()');
  if (!Number.isFinite(x)) return x;
  if (digits >= 0 && digits <= 40) {
    // the exact decimal expansion decides whether x is a tie
    const t = Math.abs(x).toFixed(digits + 60);
    const [ip, fp = ''] = t.split('.');
    if (/^50*$/.test(fp.slice(digits))) {
      const kept = ip + fp.slice(0, digits);
      const even = Number(kept[kept.length - 1]) % 2 === 0;
      const v = even ? Number(`${ip}.${fp.slice(0, digits) || '0'}`) : Number(Math.abs(x).toFixed(digits));
      return x < 0 ? -v : v;
    }
    return Number(x.toFixed(digits));
  }
  const scale = 10 ** Math.abs(digits);
  const s = digits >= 0 ? x * scale : x / scale;
  const r = Math.abs(s % 1) === 0.5 ? 2 * Math.round(s / 2) : Math.round(s);
  return digits >= 0 ? r / scale : r * scale;
}

function toInt(v) {
  if (v === undefined) return 0;
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ExprError('cannot convert float infinity or NaN to integer');
    return Math.trunc(v);
  }
  if (typeof v === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(v)) return Number(v.replace(/_/g, ''));
  throw new ExprError(`invalid literal for int(): ${repr(v)}`);
}

function toFloat(v) {
  if (v === undefined) return 0;
  if (typeof v === 'boolean' || typeof v === 'number') return Number(v);
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase().replace(/_/g, '');
    if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(t)) return NaN;
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number(t);
  }
  throw new ExprError(`could not convert string to float: ${repr(v)}`);
}

function extreme(args, pick) {
  const items = args.length === 1 ? iterable(args[0]) : args;
  if (!items.length) throw new ExprError('arg is an empty sequence');
  return items.reduce((best, x) => (pick(x, best) ? x : best));
}

const BUILTINS = new Map([
  ['len', (v) => {
    if (typeof v === 'string') return Array.from(v).length;
    if (Array.isArray(v)) return v.length;
    if (isResult(v)) return v.rows.length;
    if (isDict(v)) return Object.keys(v).length;
    throw new ExprError(`object of type '${typeName(v)}' has no len()`);
  }],
  ['list', (v) => (v === undefined ? [] : [...iterable(v)])],
  ['str', (v) => (v === undefined ? '' : str(v))],
  ['int', toInt],
  ['float', toFloat],
  ['round', pyRound],
  ['abs', (v) => Math.abs(num(v, 'abs()'))],
  ['min', (...a) => extreme(a, (x, best) => less(x, best, 'min()'))],
  ['max', (...a) => extreme(a, (x, best) => less(best, x, 'max()'))],
  ['sum', (v, start = 0) => iterable(v).reduce((acc, x) => arith(acc, '+', x), start)],
  ['bool', (v) => truth(v)],
]);

// ---- evaluation ----------------------------------------------------------

// Evaluates an expression tree; lookup(name) gives a name's value
// (undefined while a query result is not loaded yet).
export function evaluate(node, lookup) {
  if (!Array.isArray(node)) throw new ExprError('malformed expression');
  const ev = (n) => evaluate(n, lookup);
  switch (node[0]) {
    case 'c': return node[1];
    case 'n': checkName(node[1]); return lookup(node[1]);
    case 'get': {
      let v = ev(node[1]);
      for (const t of node.slice(2)) {
        if (t[0] === '.') v = getAttr(v, t[1]);
        else if (t[0] === '[]') v = getItem(v, ev(t[1]));
        else v = sliceOf(v, t[1] === null ? null : ev(t[1]), t[2] === null ? null : ev(t[2]), t[3] === null ? null : ev(t[3]));
      }
      return v;
    }
    case 'call': {
      const fn = BUILTINS.get(node[1]);
      if (!fn) throw new ExprError(`function ${node[1]} is not available`);
      const args = node.slice(2).map(ev);
      if (args.some((a) => a === NOT_LOADED)) return NOT_LOADED;
      return fn(...args);
    }
    case 'u': {
      const v = ev(node[2]);
      if (v === NOT_LOADED) return NOT_LOADED;
      return node[1] === '-' ? -num(v, 'unary -') : num(v, 'unary +');
    }
    case 'not': return !truth(ev(node[1]));
    case 'pow': {
      const a = ev(node[1]);
      const b = ev(node[2]);
      if (a === NOT_LOADED || b === NOT_LOADED) return NOT_LOADED;
      const x = num(a, '**');
      const y = num(b, '**');
      if (x === 0 && y < 0) throw new ExprError('0.0 cannot be raised to a negative power');
      return x ** y;
    }
    case 'ops': {
      let v = ev(node[1]);
      for (let i = 2; i < node.length; i += 2) {
        const r = ev(node[i + 1]);
        if (v === NOT_LOADED || r === NOT_LOADED) return NOT_LOADED;
        v = arith(v, node[i], r);
      }
      return v;
    }
    case 'cmp': {
      let left = ev(node[1]);
      for (let i = 2; i < node.length; i += 2) {
        const right = ev(node[i + 1]);
        if ((left === NOT_LOADED || right === NOT_LOADED) && !node[i].startsWith('is')) return NOT_LOADED;
        if (!compare(left, node[i], right)) return false;
        left = right;
      }
      return true;
    }
    case 'and': {
      let v;
      for (const n of node.slice(1)) { v = ev(n); if (!truth(v)) return v; }
      return v;
    }
    case 'or': {
      let v;
      for (const n of node.slice(1)) { v = ev(n); if (truth(v)) return v; }
      return v;
    }
    case 'if': return truth(ev(node[2])) ? ev(node[1]) : ev(node[3]);
    case 'list': case 'tuple': return node.slice(1).map(ev);
    case 'dict': {
      const entries = [];
      for (let i = 1; i + 1 < node.length; i += 2) {
        const k = ev(node[i]);
        const key = typeof k === 'string' ? k : str(k);
        checkName(key);
        entries.push([key, ev(node[i + 1])]);
      }
      return Object.fromEntries(entries);
    }
    case 'f': return renderParts(node[1], lookup);
    default: throw new ExprError(`unknown expression ${node[0]}`);
  }
}

// ---- format specifications -----------------------------------------------

const SPEC = /^(?:(.)?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/u;

function group(intPart, sep, every) {
  if (!sep) return intPart;
  let out = '';
  for (let i = intPart.length; i > 0; i -= every) out = intPart.slice(Math.max(0, i - every), i) + (out ? sep + out : '');
  return out;
}

function formatGeneral(x, prec, upper, alt) {
  // Python's g: exponent if exp < -4 or exp >= precision
  const p = prec === 0 ? 1 : prec;
  if (x === 0) return '0';
  let s;
  const e = Number(x.toExponential(p - 1).split('e')[1]);
  if (e < -4 || e >= p) {
    s = x.toExponential(p - 1);
    if (!alt) s = s.replace(/\.?0+e/, 'e');
    s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  } else {
    s = x.toFixed(Math.max(0, p - 1 - e));
    if (!alt && s.includes('.')) s = s.replace(/\.?0+$/, '');
  }
  return upper ? s.toUpperCase() : s;
}

function formatNumber(v, m) {
  const [, , , signOpt = '-', , alt, , , grouping, precStr, typeOpt] = m;
  let type = typeOpt || '';
  const prec = precStr === undefined ? undefined : Number(precStr);
  let x = typeof v === 'boolean' ? Number(v) : v;
  if (type === 'c') return String.fromCodePoint(x);
  if ('dnbxXo'.includes(type) && type !== '' && !Number.isInteger(x)) {
    throw new ExprError(`Unknown format code '${type}' for object of type 'float'`);
  }
  const neg = x < 0 || Object.is(x, -0);
  x = Math.abs(x);
  let body;
  let prefix = '';
  if (!Number.isFinite(x)) body = Number.isNaN(x) ? 'nan' : 'inf';
  else if (type === 'd' || type === 'n' || (type === '' && Number.isInteger(x) && prec === undefined)) body = group(String(x), grouping, 3);
  else if ('xXob'.includes(type)) {
    body = group(x.toString(type === 'o' ? 8 : type === 'b' ? 2 : 16), grouping === '_' ? '_' : '', 4);
    if (type === 'X') body = body.toUpperCase();
    if (alt) prefix = type === 'X' ? '0X' : `0${type}`;
  } else if (type === 'f' || type === 'F' || type === '%') {
    const y = type === '%' ? x * 100 : x;
    const [i, f] = y.toFixed(prec === undefined ? 6 : prec).split('.');
    body = group(i, grouping, 3) + (f !== undefined ? `.${f}` : (alt ? '.' : '')) + (type === '%' ? '%' : '');
  } else if (type === 'e' || type === 'E') {
    body = x.toExponential(prec === undefined ? 6 : prec).replace(/e([+-])(\d)$/, 'e$10$2');
    if (type === 'E') body = body.toUpperCase();
  } else {
    // g, G, or no type with a float: Python's general format
    if (type === '' && prec === undefined) body = pyFloatStr(x);
    else body = formatGeneral(x, prec === undefined ? 6 : prec, type === 'G', alt);
    const [i, f] = body.split('.');
    if (grouping && !/e/i.test(body)) body = group(i, grouping, 3) + (f !== undefined ? `.${f}` : '');
  }
  let sign = '';
  if (neg && !(m[4] === 'z' && !/[1-9]/.test(body))) sign = '-';
  else if (!neg && signOpt === '+') sign = '+';
  else if (!neg && signOpt === ' ') sign = ' ';
  return { sign, prefix, body };
}

function pad(text, fill, align, width, signPart) {
  const len = Array.from(signPart + text).length;
  if (!width || len >= width) return signPart + text;
  const n = width - len;
  const f = fill || ' ';
  if (align === '<') return signPart + text + f.repeat(n);
  if (align === '^') return f.repeat(Math.floor(n / 2)) + signPart + text + f.repeat(n - Math.floor(n / 2));
  if (align === '=') return signPart + f.repeat(n) + text;
  return f.repeat(n) + signPart + text;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

// Formats an ISO date-time text with strftime directives, using its fields as written.
export function strftime(value, spec) {
  const m = typeof value === 'string' ? value.match(ISO) : null;
  if (!m) throw new ExprError(`cannot format ${repr(value)} as a date`);
  const [, Y, mo, d, H = '00', Mi = '00', S = '00', frac = '', tz = ''] = m;
  const date = new Date(Date.UTC(Number(Y), Number(mo) - 1, Number(d)));
  const wd = (date.getUTCDay() + 6) % 7;
  const yday = Math.floor((date - Date.UTC(Number(Y), 0, 1)) / 86400000) + 1;
  const h12 = ((Number(H) + 11) % 12) + 1;
  const two = (n) => String(n).padStart(2, '0');
  const map = {
    Y, m: mo, d, H, M: Mi, S, y: Y.slice(2), f: (frac + '000000').slice(0, 6),
    b: MONTHS[Number(mo) - 1].slice(0, 3), B: MONTHS[Number(mo) - 1], a: DAYS[wd].slice(0, 3), A: DAYS[wd],
    j: String(yday).padStart(3, '0'), p: Number(H) < 12 ? 'AM' : 'PM', I: two(h12), w: String((wd + 1) % 7),
    z: tz === 'Z' ? '+0000' : tz.replace(':', ''), Z: tz === 'Z' ? 'UTC' : tz, '%': '%',
    x: `${mo}/${d}/${Y.slice(2)}`, X: `${H}:${Mi}:${S}`, c: `${DAYS[wd].slice(0, 3)} ${MONTHS[Number(mo) - 1].slice(0, 3)} ${d.replace(/^0/, ' ')} ${H}:${Mi}:${S} ${Y}`,
  };
  return spec.replace(/%(.)/g, (all, c) => (hasOwn(map, c) ? map[c] : all));
}

// format(value, spec) as Python does it.
export function format(v, spec) {
  if (v === undefined) return '';
  if (!spec) return isResult(v) ? resultText(v) : str(v);
  const m = spec.match(SPEC);
  if (!m) {
    if (spec.includes('%')) return strftime(v, spec);
    throw new ExprError(`invalid format specification ${spec}`);
  }
  let [, fill, align] = m;
  const width = m[7] ? Number(m[7]) : 0;
  const zero = m[6];
  const type = m[10] || '';
  if (isResult(v)) v = resultValue(v);
  if (typeof v === 'number' || typeof v === 'boolean') {
    if ('s'.includes(type) && type) throw new ExprError(`Unknown format code 's' for object of type '${typeName(v)}'`);
    const { sign, prefix, body } = formatNumber(v, m);
    if (!align && zero) { fill = '0'; align = '='; }
    return pad(prefix + body, fill, align || '>', width, sign);
  }
  let text = str(v);
  if (type && type !== 's') throw new ExprError(`Unknown format code '${type}' for object of type '${typeName(v)}'`);
  if (m[9] !== undefined) text = Array.from(text).slice(0, Number(m[9])).join('');
  return pad(text, fill, align || '<', width, '');
}

// A result with one cell stands for that cell; otherwise for its rows.
function resultValue(v) {
  if (v.rows.length === 1) {
    const r = v.rows[0];
    const cells = Array.isArray(r) ? r : Object.values(r);
    if (cells.length === 1) return cells[0];
  }
  return v;
}

function resultText(v) {
  const one = resultValue(v);
  if (one !== v) return str(one);
  return v.rows.map((r) => (Array.isArray(r) ? r : Object.values(r)).map((c) => str(c)).join(', ')).join('\n');
}

// Evaluates one field {"e", "c", "f"} to its text.
function fieldText(field, lookup) {
  let v = evaluate(field.e, lookup);
  if (v === undefined) return '';
  if (field.c === 'r' || field.c === 'a') v = repr(v);
  else if (field.c === 's') v = isResult(v) ? resultText(v) : str(v);
  return format(v, field.f || '');
}

// The text of a template's parts (strings and fields).
export function renderParts(parts, lookup) {
  return parts.map((p) => (typeof p === 'string' ? p : fieldText(p, lookup))).join('');
}

// The value of a template: a lone field without conversion or format is
// its value itself (a list stays a list); anything else is text.
export function evalTemplate(parts, lookup) {
  if (parts.length === 1 && typeof parts[0] === 'object' && parts[0] !== null && !parts[0].c && !parts[0].f) {
    return evaluate(parts[0].e, lookup);
  }
  return renderParts(parts, lookup);
}
