// The path prefix pg_dash is served under (pg_dash.base_path, e.g. "/dash"
// behind a proxy that forwards https://example.com/dash/ to it), which the
// server writes into the page as <meta name="pg-dash-base">; "" at the root.
// Every URL of the server the front end asks for is built with url().
const meta = document.querySelector('meta[name="pg-dash-base"]');
export const base = meta ? (meta.getAttribute('content') || '').replace(/\/+$/, '') : '';

// The URL of a server path: "/api/pages" -> "/dash/api/pages".
export function url(path) {
  return base && path.startsWith('/') ? base + path : path;
}

// The server path of a URL path: "/dash/p/x" -> "/p/x" (a path without the
// prefix is taken as it is).
export function serverPath(pathname) {
  return base && (pathname === base || pathname.startsWith(`${base}/`)) ? pathname.slice(base.length) || '/' : pathname;
}
