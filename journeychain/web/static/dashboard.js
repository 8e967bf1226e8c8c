"use strict";
const charts = {};
let allJourneys = [];

function row(cells) { return JC.el("tr", {}, ...cells); }

function renderJourneys() {
  const status = document.getElementById("status").value;
  const playbook = document.getElementById("playbook").value;
  const tbody = document.querySelector("#journeys tbody");
  tbody.replaceChildren();
  for (const j of allJourneys) {
    if (status && j.status !== status) continue;
    if (playbook && String(j.playbook) !== playbook) continue;
    const when = j.overdue ? JC.el("span", { class: "late" }, `late by ${JC.span(j.late_by)}`)
      : j.left !== null ? JC.el("span", { class: j.at_risk ? "risk" : "" }, `${JC.span(j.left)} left`) : "";
    const badge = j.overdue ? JC.el("span", { class: "badge late" }, "overdue")
      : j.at_risk ? JC.el("span", { class: "badge risk" }, "at risk") : JC.el("span", { class: "badge muted" }, j.status);
    const link = JC.el("a", { href: `/dashboard/journey/${j.journey}` }, j.reference || j.journey.slice(0, 10) + "…");
    tbody.append(row([JC.el("td", {}, link), JC.el("td", {}, badge),
      JC.el("td", {}, j.status === "open" ? `${j.step} ${j.step_name || ""}` : "–"),
      JC.el("td", {}, j.responsible || "–"), JC.el("td", { class: "num" }, when),
      JC.el("td", { class: "num hide-narrow" }, j.breaches)]));
  }
}

async function loadJourneys() {
  const data = await JC.get("/api/web/journeys");
  allJourneys = data.journeys;
  const select = document.getElementById("playbook");
  const known = new Set([...select.options].map((o) => o.value));
  for (const p of new Set(allJourneys.map((j) => String(j.playbook)))) {
    if (!known.has(p)) select.append(JC.el("option", { value: p }, `playbook ${p}`));
  }
  renderJourneys();
}

function query() {
  const p = new URLSearchParams();
  const since = document.getElementById("since").value, until = document.getElementById("until").value;
  if (since) p.set("since", since);
  if (until) p.set("until", until);
  return p.toString() ? `?${p}` : "";
}

function chart(id, config) {
  if (typeof Chart === "undefined") return;
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(document.getElementById(id), config);
}

async function loadCompliance() {
  const data = await JC.get(`/api/web/compliance${query()}`);
  document.getElementById("csv").href = `/api/web/compliance.csv${query()}`;
  const orgs = document.querySelector("#orgs tbody");
  orgs.replaceChildren();
  for (const o of data.organisations) {
    orgs.append(row([JC.el("th", { scope: "row" }, o.name), JC.el("td", { class: "num" }, o.journeys),
      JC.el("td", { class: "num" }, o.steps), JC.el("td", { class: "num" }, JC.pct(o.on_time_rate)),
      JC.el("td", { class: "num" + (o.breaches ? " late" : "") }, o.breaches),
      JC.el("td", { class: "num" }, JC.span(o.median_seconds)), JC.el("td", { class: "num" }, JC.span(o.p90_seconds)),
      JC.el("td", { class: "num" + (o.penalties !== "0" ? " late" : "") }, JC.tokens(o.penalties)),
      JC.el("td", { class: "num" }, JC.tokens(o.payouts)),
      JC.el("td", { class: "num" }, o.rating_average === null ? "–" : `${o.rating_average.toFixed(1)}/5 (${o.ratings})`)]));
  }
  const steps = document.querySelector("#steps tbody");
  steps.replaceChildren();
  for (const s of data.steps) {
    steps.append(row([JC.el("th", { scope: "row" }, s.name),
      JC.el("td", { class: "num" }, s.steps), JC.el("td", { class: "num" }, JC.pct(s.on_time_rate)),
      JC.el("td", { class: "num" + (s.breaches ? " late" : "") }, s.breaches),
      JC.el("td", { class: "num" }, JC.span(s.median_seconds)), JC.el("td", { class: "num" }, JC.span(s.p90_seconds))]));
  }
  const labels = data.organisations.map((o) => o.name);
  const common = { responsive: true, maintainAspectRatio: false, animation: false };
  chart("ontime", { type: "bar", data: { labels, datasets: [{ label: "on time %", backgroundColor: "#1a7f37",
    data: data.organisations.map((o) => (o.on_time_rate === null ? 0 : o.on_time_rate * 100)) }] },
    options: { ...common, scales: { y: { min: 0, max: 100 } } } });
  chart("breaches", { type: "bar", data: { labels, datasets: [
    { label: "breaches", backgroundColor: "#b42318", data: data.organisations.map((o) => o.breaches), yAxisID: "y" },
    { label: "payouts (JIT)", backgroundColor: "#0550ae", data: data.organisations.map((o) => Number(BigInt(o.payouts) / 10n ** 18n)), yAxisID: "y1" }] },
    options: { ...common, scales: { y: { beginAtZero: true, position: "left" }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } } });
}

async function refresh() {
  try {
    await Promise.all([loadJourneys(), loadCompliance()]);
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (e) {
    document.getElementById("updated").textContent = e.message;
  }
}

document.getElementById("range").addEventListener("submit", (ev) => { ev.preventDefault(); loadCompliance(); });
document.getElementById("status").addEventListener("change", renderJourneys);
document.getElementById("playbook").addEventListener("change", renderJourneys);
refresh();
JC.live(refresh);
