// Entry point of the pg_dash front end.
const status = document.getElementById('status');
fetch('/healthz').then((r) => r.json()).then((h) => {
  status.textContent = `worker ${h.worker} · v${h.version}`;
});
