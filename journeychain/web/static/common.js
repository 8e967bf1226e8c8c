// journeychain pages: shared helpers (no framework, no build step).
"use strict";
const JC = {
  async get(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || body.error || `the service answered ${r.status}`);
    return body;
  },
  async post(url, data) {
    const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || body.error || `the service answered ${r.status}`);
    return body;
  },
  el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  },
  span(seconds) {
    if (seconds === null || seconds === undefined) return "";
    let s = Math.abs(seconds); const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600; const m = Math.floor(s / 60);
    return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m`;
  },
  time(ts) { return ts ? new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC" : ""; },
  tokens(wei) {
    const v = BigInt(wei || "0"); const whole = v / 10n ** 18n; const frac = (v % 10n ** 18n) / 10n ** 16n;
    return `${whole.toLocaleString("en")}.${String(frac).padStart(2, "0")} JIT`;
  },
  pct(x) { return x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`; },
  // Refresh `fn` whenever the chain has a new block (server-sent events), without a reload.
  // The stream's first event (the block when it connects) refreshes too: a block mined between
  // the page's first load and the stream's start is never missed.
  live(fn) {
    const src = new EventSource("/api/web/events");
    src.addEventListener("block", () => fn());
    return src;
  },
};
