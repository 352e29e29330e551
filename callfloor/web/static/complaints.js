// The complaints page: cases, candidate calls, playback, follow-up steps and blacklist records.
// Words come from the catalog in the boot data (complaints.<lang>.toml); pages.js has t, el, post.
"use strict";

const STATES = ["open", "investigating", "awaiting_customer", "closed"];
const ACTIONS = { open: ["investigate", "close"], investigating: ["ask_customer", "close"],
                  awaiting_customer: ["customer_replied", "close"], closed: ["reopen"] };
let current = null; // the case shown

const when = (at) => (at === null || at === undefined ? "—" : new Date(at * 1000).toLocaleString(boot.lang === "zh" ? "zh-CN" : "en"));
const localInput = (value) => (value ? new Date(value).getTime() / 1000 : null); // datetime-local: the browser's zone

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

async function send(method, url, body) {
  if (method === "POST") return post(url, body);
  const response = await fetch(url, { method, credentials: "same-origin", headers: { "X-CSRF-Token": boot.csrf } });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function guard(work) {
  return async (event) => {
    if (event && event.preventDefault) event.preventDefault();
    try { await work(event); } catch (err) { toast(t("monitor.error", { message: err.message }), true); }
  };
}

function fill(table, rows) {
  const body = table.querySelector("tbody");
  body.replaceChildren(...rows);
}

async function loadCases() {
  const state = $("filter-state").value, number = $("filter-number").value.trim();
  const query = new URLSearchParams();
  if (state) query.set("state", state);
  if (number) query.set("number", number);
  const cases = await getJson(`/api/complaints?${query}`);
  fill($("case-list"), cases.map((c) => el("tr", { "data-testid": `case-${c.id}`, class: "clickable", onclick: guard(() => showCase(c.id)) },
    el("td", { text: `#${c.id}` }), el("td", { text: c.number }), el("td", { text: t(`complaints.state.${c.state}`) }),
    el("td", { text: when(c.approx_at) }))));
}

function play(call) {
  const player = $("player");
  player.src = `/api/complaints/calls/${encodeURIComponent(call)}/recording?case=${current.case.id}`;
  player.play().catch(() => {});
}

function callRow(call, linked) {
  const uuid = call.call || call.uuid;
  const hasAudio = call.recording !== undefined ? call.recording : Boolean(call.recording_path);
  const cells = [el("td", { text: t(`complaints.direction.${call.direction}`) }), el("td", { text: when(call.started_at) }),
    el("td", { text: call.seat || call.seat_id || "—" })];
  if (call.distance_s !== undefined) cells.push(el("td", { text: t("complaints.distance", { n: Math.round(call.distance_s / 60) }) }));
  const actions = el("td");
  if (hasAudio) actions.append(el("button", { type: "button", "data-testid": `play-${uuid}`, text: t("action.play"), onclick: guard(() => play(uuid)) }));
  if (linked) actions.append(el("button", { type: "button", text: t("complaints.unlink"), onclick: guard(async () => {
    await send("DELETE", `/api/complaints/${current.case.id}/calls/${encodeURIComponent(uuid)}`); await showCase(current.case.id); }) }));
  else actions.append(el("button", { type: "button", "data-testid": `link-${uuid}`, text: t("complaints.link"), onclick: guard(async () => {
    await post(`/api/complaints/${current.case.id}/calls`, { call: uuid }); await showCase(current.case.id); }) }));
  return el("tr", { "data-testid": `call-${uuid}` }, ...cells, actions);
}

function recordRow(r) {
  const cells = [el("td", { text: `#${r.id}` }), el("td", { text: r.campaign_id || t("complaints.scope_global") }),
    el("td", { text: t(`complaints.record.${r.state}`) }), el("td", { text: r.reason }), el("td", { text: when(r.expires_at) }),
    el("td", { text: `${r.proposed_by}${r.approved_by ? ` / ${r.approved_by}` : ""}` })];
  const actions = el("td");
  const decide = (verb) => guard(async () => {
    const body = verb === "approve" ? {} : { reason: prompt(t("complaints.reason")) || "" };
    await post(`/api/blacklist/${r.id}/${verb}`, body); await showCase(current.case.id);
  });
  if (r.state === "proposed") {
    actions.append(el("button", { type: "button", "data-testid": `approve-${r.id}`, text: t("complaints.approve"), onclick: decide("approve") }));
    actions.append(el("button", { type: "button", text: t("complaints.reject"), onclick: decide("reject") }));
  }
  if (r.state === "active") actions.append(el("button", { type: "button", text: t("complaints.revoke"), onclick: decide("revoke") }));
  return el("tr", { "data-testid": `record-${r.id}` }, ...cells, actions);
}

async function showCase(id) {
  current = await getJson(`/api/complaints/${id}`);
  const c = current.case;
  $("case").hidden = false;
  $("case-title").textContent = t("complaints.case_title", { id: c.id, number: c.number });
  $("case-summary").textContent = `${t(`complaints.state.${c.state}`)} · ${t(`complaints.channel.${c.channel}`)} · ${when(c.approx_at)} · ${c.description}`
    + (c.outcome ? ` · ${t(`complaints.outcome.${c.outcome}`)}` : "");
  const actions = $("case-actions");
  actions.replaceChildren(...ACTIONS[c.state].map((action) => el("button", { type: "button", "data-testid": `act-${action}`,
    text: t(`complaints.action.${action}`), onclick: guard(() => act(action)) })));
  if (c.state !== "closed") {
    const outcome = el("select", { "data-testid": "outcome" }, ...boot.outcomes.map((o) => el("option", { value: o, text: t(`complaints.outcome.${o}`) })));
    actions.append(outcome);
  }
  const linked = new Set(current.calls.map((call) => call.uuid));
  fill($("linked"), current.calls.map((call) => callRow(call, true)));
  const candidates = await getJson(`/api/complaints/${id}/candidates`);
  fill($("candidates"), candidates.filter((m) => !linked.has(m.call)).map((m) => callRow(m, false)));
  $("steps").replaceChildren(...current.steps.map((s) => el("li", { class: `step ${s.status}`, "data-testid": `step-${s.id}` },
    `${s.text} · ${t(`complaints.step.${s.status}`)} · ${when(s.due_at)} `,
    s.status === "done" ? null : el("button", { type: "button", text: t("complaints.done"), onclick: guard(async () => {
      await post(`/api/complaints/${c.id}/steps/${s.id}/done`); await showCase(c.id); }) }))));
  fill($("records"), current.blacklist.map(recordRow));
  $("blacklist-form").hidden = !current.may_blacklist;
  $("blacklist-propose").disabled = true;
  $("preview-result").textContent = "";
}

async function act(action) {
  const body = { action };
  if (action === "close") body.outcome = $("outcome").value;
  await post(`/api/complaints/${current.case.id}/actions`, body);
  await showCase(current.case.id);
  await loadCases();
}

function setup() {
  startPage("complaints.title");
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  $("filter-state").append(el("option", { value: "", text: t("complaints.all") }),
    ...STATES.map((s) => el("option", { value: s, text: t(`complaints.state.${s}`) })));
  const form = $("open-form");
  form.elements.channel.append(...boot.channels.map((c) => el("option", { value: c, text: t(`complaints.channel.${c}`) })));
  form.elements.tolerance_min.value = Math.round(boot.tolerance_s / 60);
  form.addEventListener("submit", guard(async () => {
    const f = form.elements;
    const made = await post("/api/complaints", { number: f.number.value, approx_at: localInput(f.approx_at.value),
      tolerance_s: Number(f.tolerance_min.value || boot.tolerance_s / 60) * 60, channel: f.channel.value, description: f.description.value });
    form.reset();
    f.tolerance_min.value = Math.round(boot.tolerance_s / 60);
    await loadCases();
    await showCase(made.case.id);
  }));
  $("step-form").addEventListener("submit", guard(async () => {
    const f = $("step-form").elements;
    await post(`/api/complaints/${current.case.id}/steps`, { text: f.text.value, due_at: localInput(f.due_at.value) });
    $("step-form").reset();
    await showCase(current.case.id);
  }));
  const bl = $("blacklist-form");
  const proposal = () => ({ number: current.case.number, campaign: bl.elements.campaign.value.trim() || null });
  $("blacklist-preview").addEventListener("click", guard(async () => {
    const p = proposal();
    const found = await getJson(`/api/blacklist/preview?${new URLSearchParams({ number: p.number, campaign: p.campaign || "" })}`);
    const parts = Object.entries(found.leads).map(([campaign, n]) => `${campaign}: ${n}`);
    $("preview-result").textContent = t("complaints.preview_result", { n: found.total }) + (parts.length ? ` (${parts.join(", ")})` : "");
    $("blacklist-propose").disabled = false;
  }));
  bl.addEventListener("submit", guard(async () => {
    const call = current.calls.length ? current.calls[0].uuid : null;
    const days = bl.elements.days.value;
    await post("/api/blacklist", { ...proposal(), reason: bl.elements.reason.value, complaint: current.case.id, call,
      days: days ? Number(days) : null });
    bl.reset();
    await showCase(current.case.id);
  }));
  $("filter-go").addEventListener("click", guard(loadCases));
  guard(loadCases)();
}

setup();
