// Sign-in (docs/api.md, "Sign-in"): who is signed in, the header's role and
// sign-out link, the sign-in form (the page shown to a signed-out viewer,
// and Taipy's <|login|> control), and what a refused page says.
import { h, clear, normalizeError } from './dom.js';
import * as api from './api.js';

// What GET /api/me said: {signedIn: true, role} or {signedIn: false, code}
// (code sign_in_off: pg_dash.auth is none, nobody signs in; not_signed_in:
// signed-out viewers are served; sign_in_required: they are not).
let viewer = { signedIn: false, code: 'sign_in_off' };

export function currentViewer() { return viewer; }

// Asks the server who this browser is signed in as.
export async function whoAmI() {
  try {
    const r = await api.get('/api/me');
    viewer = { signedIn: true, role: r.role };
  } catch (e) {
    viewer = { signedIn: false, code: e.code || null };
  }
  return viewer;
}

// True for an error that signing in could cure.
export function needsSignIn(err) {
  return !!err && err.status === 401 && !viewer.signedIn;
}


// Signs out and starts again, signed out, at the start page.
export async function signOut() {
  try { await api.post('/api/logout'); } finally { location.assign('/'); }
}

// The sign-in form: title, an optional message, username, password, and
// the server's answer when it refuses. Once signed in, onSignedIn(username)
// runs, then the whole app starts again as the new role (its socket,
// queries and state all belong to the new session).
export function signInForm({ title = 'Sign in', message = '', onSignedIn = null } = {}) {
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, 'aria-label': 'Username' });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, 'aria-label': 'Password' });
  const status = h('div', { class: 'login-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'btn' }, 'Sign in');
  const form = h('form', { class: 'login', method: 'post', action: '/api/login' },
    h('h2', { class: 'login-title' }, title),
    message ? h('p', { class: 'login-message' }, message) : null,
    h('label', null, 'Username', user),
    h('label', null, 'Password', pass),
    submit, status);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    status.className = 'login-status busy';
    status.textContent = 'Signing in…';
    try {
      await api.post('/api/login', { username: user.value, password: pass.value });
    } catch (e) {
      const n = normalizeError(e);
      status.className = 'login-status error';
      status.textContent = [n.message, n.detail].filter(Boolean).join(' — ');
      pass.value = '';
      submit.disabled = false;
      return;
    }
    pass.value = '';
    try {
      if (onSignedIn) await onSignedIn(user.value);
    } finally {
      location.reload();
    }
  });
  return form;
}

// The view for a request the server refused: the sign-in form when signing
// in could help, else "you may not open this page".
export function refusedView(err, what) {
  if (needsSignIn(err)) {
    return h('div', { class: 'signin-page' },
      signInForm({ title: 'Sign in', message: `Sign in to see ${what}.` }));
  }
  const n = normalizeError(err);
  return h('div', { class: 'error-box refused', role: 'alert' },
    h('div', { class: 'error-title' }, `You may not open ${what}.`),
    n.detail ? h('div', { class: 'error-detail' }, n.detail) : null,
    viewer.signedIn ? h('div', { class: 'error-hint' }, `You are signed in as ${viewer.role}.`) : null);
}

// True for a refusal (401 or 403) rather than another failure.
export function isRefusal(err) {
  return !!err && (err.status === 401 || (err.status === 403 && !/^csrf_/.test(err.code || '')));
}

// The header's part: "role · Sign out", or "Sign in" where signing in is
// possible; nothing when pg_dash.auth is none.
export function renderHeader(el, showSignIn) {
  clear(el);
  if (viewer.signedIn) {
    el.append(h('span', { class: 'auth-role', title: 'Signed in as this PostgreSQL role' }, viewer.role),
      h('button', { type: 'button', class: 'link-button auth-signout', onclick: () => signOut() }, 'Sign out'));
  } else if (viewer.code === 'not_signed_in' || viewer.code === 'sign_in_required') {
    el.append(h('button', { type: 'button', class: 'link-button auth-signin', onclick: showSignIn }, 'Sign in'));
  }
}
