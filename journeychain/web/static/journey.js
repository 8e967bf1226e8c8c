"use strict";
const journeyId = decodeURIComponent(location.pathname.split("/").pop());

async function load() {
  try {
    const j = await JC.get(`/api/web/journey/${encodeURIComponent(journeyId)}`);
    document.getElementById("title").textContent = `Journey ${j.reference || j.journey_id.slice(0, 10) + "…"}: ${j.status}`;
    const check = document.getElementById("check");
    check.className = "check " + (j.hash_check.matches ? "ok" : "late");
    check.textContent = j.hash_check.matches
      ? `The history shown matches the chain's rolling hash ${j.hash_check.chain}.`
      : `The history shown does NOT match the chain: rebuilt ${j.hash_check.rebuilt}, chain ${j.hash_check.chain}.`;
    const tbody = document.querySelector("#steps tbody");
    tbody.replaceChildren();
    for (const s of j.steps) {
      const timing = s.completed_at ? (s.late ? JC.el("span", { class: "late" }, `late by ${JC.span(s.late_by)}`) : JC.el("span", { class: "ok" }, "on time")) : s.breached ? JC.el("span", { class: "late" }, "breached") : "–";
      const who = s.by ? `${s.by_name}${s.organisation ? " (" + s.organisation + ")" : ""}` : "–";
      tbody.append(JC.el("tr", {}, JC.el("th", { scope: "row" }, `${s.step} ${s.name}`), JC.el("td", {}, who),
        JC.el("td", {}, JC.time(s.completed_at)), JC.el("td", {}, timing),
        JC.el("td", { class: "hide-narrow" }, JC.el("code", {}, s.evidence ? s.evidence.slice(0, 18) + "…" : "")),
        JC.el("td", { class: "num" }, s.by && j.payouts[s.by] ? JC.tokens(String(j.payouts[s.by])) : "")));
    }
    const ol = document.getElementById("entries");
    ol.replaceChildren(...j.entries.map((e) => JC.el("li", {}, JC.el("span", { class: "muted" }, JC.time(e.time) + " "), e.text)));
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  } catch (e) {
    document.getElementById("check").textContent = e.message;
  }
}
load();
JC.live(load);
