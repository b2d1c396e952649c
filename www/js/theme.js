// Light and dark themes: prefers-color-scheme, overridden by a choice kept
// in localStorage["pg_dash.theme"] (html[data-theme]). The top bar's button
// and a page's <|toggle|theme|> both switch it; every change fires the
// window event "pg_dash:theme" (charts redraw on it).
const THEME_KEY = 'pg_dash.theme';
const dark = matchMedia('(prefers-color-scheme: dark)');

// Shows theme t ('light', 'dark', or anything else: the system's).
function apply(t) {
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
  window.dispatchEvent(new Event('pg_dash:theme'));
}

// The theme shown now: 'light' or 'dark'.
export function currentTheme() {
  return document.documentElement.dataset.theme || (dark.matches ? 'dark' : 'light');
}

// Switches to theme t and remembers the choice.
export function setTheme(t) {
  try { localStorage.setItem(THEME_KEY, t); } catch { /* storage disabled */ }
  apply(t);
}

// Calls fn whenever the theme changes; returns a function that stops it.
export function onThemeChange(fn) {
  window.addEventListener('pg_dash:theme', fn);
  return () => window.removeEventListener('pg_dash:theme', fn);
}

// Applies the remembered choice and follows the system's changes.
export function initTheme() {
  let saved = null;
  try { saved = localStorage.getItem(THEME_KEY); } catch { /* storage disabled */ }
  apply(saved);
  dark.addEventListener('change', () => window.dispatchEvent(new Event('pg_dash:theme')));
}
