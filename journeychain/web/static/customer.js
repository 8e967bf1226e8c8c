"use strict";
// The customer's page. The token in the path opens this journey only; a signing key, when the
// link carries one, is in the fragment (never sent to the server) and kept in this tab only.
const token = decodeURIComponent(location.pathname.split("/").pop());
const api = `/api/customer/${encodeURIComponent(token)}`;
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("key")) {
  sessionStorage.setItem(`jc-key-${token}`, fragment.get("key"));
  history.replaceState(null, "", location.pathname); // the key leaves the address bar
}
const linkKey = sessionStorage.getItem(`jc-key-${token}`);

function say(text, cls) { const m = document.getElementById("message"); m.textContent = text; m.className = cls || ""; }

const PRIMARY = { confirm: "ConfirmValue", dispute: "Dispute", rate: "Rate" };

// What the service asks the customer to sign must be what the customer chose: the action, the
// step and score, and the text's salted commitment (keccak256(salt ‖ text)). Anything else is
// refused before a signature is made.
function checkRequest(body, request) {
  const typed = request.typed_data, m = typed.message;
  if (typed.primaryType !== PRIMARY[body.action]) throw new Error("the service asked to sign something else: not signed");
  if (body.step !== undefined && Number(m.step) !== body.step) throw new Error("the request names another step: not signed");
  if (body.score !== undefined && Number(m.score) !== body.score) throw new Error("the request names another score: not signed");
  const said = body.action === "dispute" ? m.reason : body.action === "rate" ? m.comment : null;
  if (said === null) return;
  const zero = "0x" + "00".repeat(32);
  if (!body.text) { if (said !== zero) throw new Error("the request commits to a text you did not write: not signed"); return; }
  const st = request.statement;
  if (!st || st.text !== body.text || st.commitment.toLowerCase() !== said.toLowerCase()) throw new Error("the request commits to another text: not signed");
  const rebuilt = ethers.keccak256(ethers.concat([st.salt, ethers.toUtf8Bytes(st.text)]));
  if (rebuilt.toLowerCase() !== said.toLowerCase()) throw new Error("the text's commitment does not check out: not signed");
}

async function sign(typed, signer) {
  if (window.ethereum) {
    const accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
    const account = accounts.find((a) => a.toLowerCase() === signer.toLowerCase());
    if (!account) throw new Error(`your wallet has no account ${signer}, this journey's signer: switch account and try again`);
    return window.ethereum.request({ method: "eth_signTypedData_v4", params: [account, JSON.stringify(typed)] });
  }
  if (!linkKey) throw new Error("no wallet in this browser and no key in the link: ask for a new link");
  const wallet = new ethers.Wallet(linkKey);
  if (wallet.address.toLowerCase() !== signer.toLowerCase()) throw new Error("the link's key is not this journey's: ask for a new link");
  const types = { ...typed.types }; delete types.EIP712Domain;
  return wallet.signTypedData(typed.domain, types, typed.message);
}

async function act(body, done) {
  const buttons = document.querySelectorAll("#act button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    say("Preparing what you sign…");
    const request = await JC.post(`${api}/request`, body);
    checkRequest(body, request);
    say("Sign the request in your wallet…");
    const signature = await sign(request.typed_data, request.signer);
    say("Sending…");
    const back = { action: request.action, typed_data: request.typed_data, step: request.step, score: request.score };
    await JC.post(`${api}/submit`, { request: back, signature });
    say(done, "ok");
    await load();
  } catch (e) {
    say(e.message || String(e), "late");
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

function options(select, steps, links) {
  select.replaceChildren(...steps.map((i) => JC.el("option", { value: i }, `${i} ${links[i].name}`)));
}

async function load() {
  let v;
  try { v = await JC.get(api); } catch (e) { say(e.message, "late"); document.getElementById("act").hidden = true; return; }
  document.getElementById("status").textContent = v.status === "open" ? "in progress" : v.status;
  const ol = document.getElementById("links");
  ol.replaceChildren(...v.links.map((l) => {
    const when = l.done_at ? `done ${JC.time(l.done_at)}` : l.promised_by ? `promised by ${JC.time(l.promised_by)}` : "no deadline";
    const late = l.late ? JC.el("span", { class: "badge late" }, l.late_by ? `late by ${JC.span(l.late_by)}` : "late") : l.done_at ? JC.el("span", { class: "badge ok" }, "on time") : null;
    return JC.el("li", { class: l.late ? "lateitem" : l.state }, JC.el("strong", {}, l.name), " ",
      late, JC.el("br"), JC.el("span", { class: "muted" }, `${l.owner || "not yet assigned"} · ${when}`),
      l.disputed ? JC.el("span", { class: "badge late" }, " disputed") : null);
  }));
  document.getElementById("confirm-box").hidden = !v.can_confirm;
  document.getElementById("dispute-box").hidden = !v.can_dispute.length;
  document.getElementById("rate-box").hidden = !v.can_rate.length;
  options(document.getElementById("dispute-step"), v.can_dispute, v.links);
  options(document.getElementById("rate-step"), v.can_rate, v.links);
  document.getElementById("act").hidden = !(v.can_confirm || v.can_dispute.length || v.can_rate.length);
  document.getElementById("signer-note").textContent = window.ethereum ? "You sign with your wallet." : linkKey ? "You sign with the key your link carries; it stays in this browser tab." : "Open this page in a browser with a wallet to sign.";
  if (v.confirmed && !document.getElementById("message").textContent) say("You confirmed value was delivered.", "ok");
  document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
}

document.getElementById("confirm").addEventListener("click", () => act({ action: "confirm" }, "Thank you: you confirmed value was delivered."));
document.getElementById("dispute").addEventListener("click", () => act({ action: "dispute", step: Number(document.getElementById("dispute-step").value), text: document.getElementById("dispute-reason").value }, "Your dispute is recorded: payouts wait for the arbiter."));
document.getElementById("rate").addEventListener("click", () => act({ action: "rate", step: Number(document.getElementById("rate-step").value), score: Number(document.getElementById("rate-score").value), text: document.getElementById("rate-comment").value }, "Thank you for your rating."));
load();
