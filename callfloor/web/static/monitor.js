// The team lead's live monitor: the board from /monitor/events (server-sent events), tiles per
// queue and campaign, the seat grid with time in state ticking here, alerts, the queue-watcher's
// decisions, and a menu per seat (move, ready, pause, log out, listen). No framework, no build.
"use strict";

const floor = { queues: {}, campaigns: {}, seats: {}, alerts: {}, decisions: [] };

// -- seats --------------------------------------------------------------------------------------
function renderSeat(id) {
  const grid = $("seats");
  const old = $(`seat-${id}`);
  const seat = floor.seats[id];
  if (!seat) { if (old) old.remove(); return; }
  const state = seatState(seat);
  let label = stateLabel(state);
  if (state === "paused" && seat.reason) label += ` · ${reasonLabel(seat.reason)}`;
  const cell = el("button", { class: `seat s-${state}`, "data-testid": `seat-${id}`, "data-state": state,
                              type: "button", onclick: (e) => openMenu(id, e.currentTarget) },
    el("div", { class: "id", text: seat.name && seat.name !== id ? `${id} · ${seat.name}` : id }),
    el("div", { class: "state", "data-testid": `seat-${id}-state`, text: label }),
    el("div", { class: "clock", "data-testid": `seat-${id}-clock`, text: clock(timeInState(seat)) }),
    el("div", { class: "queues", "data-testid": `seat-${id}-queues`,
                text: (seat.queues || []).map(queueName).join(", ") || "—" }),
    seat.call ? el("div", { class: "call", "data-testid": `seat-${id}-call`, text: `${t("monitor.call")} ${seat.call.slice(0, 8)}` }) : null);
  if (old) { old.replaceWith(cell); return; }
  const after = [...grid.children].find((c) => c.dataset.testid.slice(5).localeCompare(id, undefined, { numeric: true }) > 0);
  grid.insertBefore(cell, after || null);
}

// -- tiles --------------------------------------------------------------------------------------
function row(testid, key, value, bad) {
  return [el("dt", { text: t(key) }), el("dd", { "data-testid": testid, class: bad ? "bad" : null, text: value })];
}

function alerting(subject) {
  return Object.values(floor.alerts).some((a) => a.subject === subject);
}

function longestWait(queue) {
  if (!queue.waiting) return 0;
  const since = (queue.callers || []).map((c) => c.since).filter((v) => typeof v === "number");
  if (since.length) return serverNow() - Math.min(...since);
  return (queue.longest_wait_s || 0) + Math.max(0, serverNow() - (queue.at || serverNow()));
}

function renderQueue(id) {
  const old = $(`queue-${id}`);
  const q = floor.queues[id];
  if (!q || id.startsWith("campaign-")) { if (old) old.remove(); return; }
  const sl = q.sl || {};
  const seats = q.seats || {};
  const tid = `queue-${id}`;
  const tile = el("article", { class: `tile${alerting(`queue:${id}`) ? " alerting" : ""}`, "data-testid": tid },
    el("h3", { text: id }),
    el("div", { class: "big", "data-testid": `${tid}-waiting`, title: t("metric.waiting"), text: String(q.waiting || 0) }),
    el("dl", {},
      ...row(`${tid}-longest`, "metric.longest_wait", clock(longestWait(q))),
      ...row(`${tid}-sl15`, "monitor.sl_15m", pct(sl["15m"]), sl["15m"] != null && sl["15m"] < 0.8),
      ...row(`${tid}-sl30`, "monitor.sl_30m", pct(sl["30m"])),
      ...row(`${tid}-sl60`, "monitor.sl_60m", pct(sl["60m"])),
      ...row(`${tid}-sltoday`, "monitor.sl_today", pct(sl.today)),
      ...row(`${tid}-abandon`, "metric.abandon_rate", pct(q.abandon_rate)),
      ...row(`${tid}-asa`, "metric.asa", clock(q.asa_s)),
      ...row(`${tid}-aht`, "metric.aht", clock(q.aht_s)),
      ...row(`${tid}-answered`, "monitor.answered_offered", `${q.answered || 0} / ${q.offered || 0}`)),
    el("div", { class: "counts", "data-testid": `${tid}-seats` },
      ...STATES.map((s) => el("span", { class: `chip s-${s}`, "data-testid": `${tid}-seats-${s}`,
                                         title: stateLabel(s), text: String(seats[s.replace("-", "_")] || 0) }))));
  upsert($("queues"), old, tile, id);
}

function renderCampaign(id) {
  const old = $(`campaign-${id}`);
  const c = floor.campaigns[id];
  if (!c) { if (old) old.remove(); return; }
  const tid = `campaign-${id}`;
  const target = c.target_abandon;
  const over = (rate) => rate != null && target != null && rate > target;
  const seats = c.seats || {};
  const known = typeof c.active === "boolean"; // false without the dialer: no state, no button
  const dialling = known ? (c.active ? "dialling" : "stopped") : null;
  const tile = el("article", { class: `tile${alerting(`campaign:${id}`) ? " alerting" : ""}`, "data-testid": tid },
    el("h3", { text: id }),
    known ? el("div", { class: "dialling" },
      el("span", { class: `badge ${dialling}`, "data-testid": `${tid}-state`, "data-state": dialling,
                   text: t(`monitor.campaign.${dialling}`) }),
      el("span", { class: "mode", "data-testid": `${tid}-mode`, "data-mode": c.pacing_now || c.mode, text: modeText(c) }),
      mayToggle(c) ? el("button", { type: "button", "data-testid": `${tid}-toggle`,
        text: t(c.active ? "monitor.campaign.stop" : "monitor.campaign.start"),
        onclick: (e) => toggleCampaign(id, !c.active, e.currentTarget) }) : null) : null,
    el("dl", {},
      ...row(`${tid}-dials`, "metric.dials", String(c.dials || 0)),
      ...row(`${tid}-connect`, "metric.connect_rate", pct(c.connect_rate)),
      ...row(`${tid}-drop24`, "monitor.drop_24h", `${pct(c.drop_rate_24h)} / ${pct(target)}`, over(c.drop_rate_24h)),
      ...row(`${tid}-drop30`, "monitor.drop_30d", `${pct(c.drop_rate_30d)} / ${pct(target)}`, over(c.drop_rate_30d)),
      ...row(`${tid}-seats`, "monitor.busy_idle", `${seats.busy || 0} / ${seats.idle || 0}`),
      ...row(`${tid}-inflight`, "monitor.in_flight", String(c.in_flight || 0)),
      ...row(`${tid}-pacing`, "metric.pacing_ratio", c.pacing_ratio == null ? "—" : Number(c.pacing_ratio).toFixed(2))));
  upsert($("campaigns"), old, tile, id);
}

// The pacing mode, and the mode pacing uses now when predictive has fallen back to progressive.
function modeText(c) {
  const mode = t(`monitor.mode.${c.mode}`);
  if (!c.pacing_now || c.pacing_now === c.mode) return mode;
  return t("monitor.campaign.fallback", { mode, now: t(`monitor.mode.${c.pacing_now}`) });
}

// As the server decides (callfloor/web/monitor.py): a lead with a team, only for campaigns that
// assign seats of that team; a lead without one and an admin, every campaign.
function mayToggle(c) {
  const user = boot.user || {};
  return user.role === "admin" || !user.team || (c.teams || []).includes(user.team);
}

async function toggleCampaign(id, active, button) {
  button.disabled = true;
  try {
    const result = await post(`/api/monitor/campaigns/${encodeURIComponent(id)}/active`, { active });
    APPLY.campaign({ type: "campaign", id, data: { ...floor.campaigns[id], ...result } });
    toast(t(active ? "monitor.done.campaign_started" : "monitor.done.campaign_stopped", { campaign: id }));
  } catch (err) {
    button.disabled = false;
    toast(t("monitor.error", { message: err.message }), true);
  }
}

function showCampaigns() {
  $("campaigns-section").hidden = Object.keys(floor.campaigns).length === 0;
}

function upsert(parent, old, node, id) {
  if (old) { old.replaceWith(node); return; }
  const after = [...parent.children].find((c) => (c.querySelector("h3")?.textContent || "").localeCompare(id) > 0);
  parent.insertBefore(node, after || null);
}

function renderAlerts() {
  const banner = $("alerts");
  const alerts = Object.entries(floor.alerts);
  banner.replaceChildren(...alerts.map(([id, a]) => {
    const value = a.kind === "longest_wait" ? clock(a.value) : pct(a.value);
    const threshold = a.kind === "longest_wait" ? clock(a.threshold) : pct(a.threshold);
    return el("div", { "data-testid": `alert-${id}`, text: t(`monitor.alert.${a.kind}`, { subject: a.subject, value, threshold }) });
  }));
  banner.hidden = alerts.length === 0;
}

// The watcher's explanation in the page's language: its message key and numbers through the
// catalog (formatted as floor/watcher.py does), else the English text it came with.
const PERCENT = new Set(["sl_15m", "trigger_sl", "target_sl", "recover_sl"]);
function decisionText(d) {
  if (!d.key || !Object.prototype.hasOwnProperty.call(catalog, d.key)) return d.text || d.rule || "";
  const shown = {};
  for (const [name, value] of Object.entries(d.params || {})) {
    if (value === null || value === undefined) shown[name] = "n/a";
    else if (typeof value === "number" && PERCENT.has(name)) shown[name] = `${Math.round(value * 100)}%`;
    else if (typeof value === "number" && Math.abs(value) >= 100) shown[name] = String(Math.round(value));
    else if (typeof value === "number") shown[name] = String(Math.round(value * 10) / 10);
    else shown[name] = value;
  }
  return t(d.key, shown);
}

function renderDecisions() {
  const list = $("decisions");
  list.dataset.empty = t("monitor.no_decisions");
  list.replaceChildren(...floor.decisions.map((d, i) => {
    const when = typeof d.at === "number" ? new Date(d.at * 1000).toLocaleTimeString() : "";
    const what = [d.seat, d.source && `${d.source} →`, d.target].filter(Boolean).join(" ");
    const why = decisionText(d);
    return el("li", { "data-testid": `decision-${i}` }, `${when} ${what}`, el("span", { class: "why", text: why }));
  }));
}

// -- the stream ---------------------------------------------------------------------------------
function applyBoard(board) {
  setTime(board);
  floor.queues = board.queues || {};
  floor.campaigns = board.campaigns || {};
  floor.seats = board.seats || {};
  floor.alerts = Object.fromEntries((board.alerts || []).map((a) => [a.id, a]));
  floor.decisions = board.decisions || [];
  for (const id of ["queues", "campaigns", "seats"]) $(id).replaceChildren();
  Object.keys(floor.queues).forEach(renderQueue);
  Object.keys(floor.campaigns).forEach(renderCampaign);
  showCampaigns();
  Object.keys(floor.seats).forEach(renderSeat);
  renderAlerts();
  renderDecisions();
}

const APPLY = {
  queue: (item) => { put(floor.queues, item); renderQueue(item.id); },
  campaign: (item) => { put(floor.campaigns, item); renderCampaign(item.id); showCampaigns(); },
  seat: (item) => { put(floor.seats, item); renderSeat(item.id); },
  alert: (item) => {
    if (item.data && item.data.active !== false) floor.alerts[item.id] = item.data; else delete floor.alerts[item.id];
    renderAlerts();
    const [kind, id] = String((item.data && item.data.subject) || "").split(":");
    if (kind === "queue") renderQueue(id); else if (kind === "campaign") renderCampaign(id);
  },
  decision: (item) => { floor.decisions = [item.data, ...floor.decisions].slice(0, 50); renderDecisions(); },
};

function put(map, item) {
  if (item.data) { map[item.id] = item.data; setTime(item.data); } else delete map[item.id];
}

// -- actions ------------------------------------------------------------------------------------
async function act(url, body, done) {
  try {
    const result = await post(url, body);
    if (result && result.id && floor.seats[result.id]) APPLY.seat({ type: "seat", id: result.id, data: result });
    toast(done);
    closeMenu();
  } catch (err) {
    toast(t("monitor.error", { message: err.message }), true);
  }
}

function targets() {
  const queues = Object.keys(floor.queues).filter((q) => !q.startsWith("campaign-")).sort();
  const campaigns = Object.keys(floor.campaigns).sort();
  return [...queues.map((q) => [`queue:${q}`, t("monitor.target.queue", { name: q })]),
          ...campaigns.map((c) => [`campaign:${c}`, t("monitor.target.campaign", { name: c })])];
}

function openMenu(id, anchor) {
  const seat = floor.seats[id];
  const menu = $("seat-menu");
  const base = `/api/monitor/seats/${encodeURIComponent(id)}`;
  const target = el("select", { "data-testid": "menu-move-target" },
    ...targets().map(([value, label]) => el("option", { value, text: label })));
  const reason = el("select", { "data-testid": "menu-pause-reason" },
    ...(boot.pause_reasons || []).map((r) => el("option", { value: r, text: reasonLabel(r) })));
  menu.replaceChildren(
    el("h4", { text: seat && seat.name ? `${id} · ${seat.name}` : id }),
    el("div", { class: "row" }, target, el("button", { type: "button", "data-testid": "menu-move", text: t("action.move"),
      onclick: () => act(`${base}/move`, { target: target.value },
                         t("monitor.done.move", { seat: id, target: target.selectedOptions[0]?.textContent || target.value })) })),
    el("div", { class: "row" }, el("button", { type: "button", "data-testid": "menu-ready", text: t("action.ready"),
      onclick: () => act(`${base}/presence`, { action: "ready" }, t("monitor.done.presence", { seat: id, action: stateLabel("ready") })) })),
    el("div", { class: "row" }, reason, el("button", { type: "button", "data-testid": "menu-pause", text: t("action.pause"),
      onclick: () => act(`${base}/presence`, { action: "pause", reason: reason.value },
                         t("monitor.done.presence", { seat: id, action: stateLabel("paused") })) })),
    el("div", { class: "row" }, el("button", { type: "button", "data-testid": "menu-logout", text: t("action.logout_seat"),
      onclick: () => act(`${base}/presence`, { action: "logout" }, t("monitor.done.presence", { seat: id, action: stateLabel("logged-out") })) })),
    seat && seat.call ? el("div", { class: "row" }, el("button", { type: "button", "data-testid": "menu-listen", text: t("action.listen"),
      onclick: () => act(`/api/monitor/calls/${encodeURIComponent(seat.call)}/listen`, {}, t("monitor.done.listen", { call: seat.call.slice(0, 8) })) })) : null,
    el("div", { class: "row" }, el("button", { type: "button", "data-testid": "menu-close", text: t("action.cancel"), onclick: closeMenu })));
  const box = anchor.getBoundingClientRect();
  menu.style.left = `${Math.min(window.scrollX + box.left, window.scrollX + document.documentElement.clientWidth - 260)}px`;
  menu.style.top = `${window.scrollY + box.bottom + 4}px`;
  menu.dataset.seat = id;
  menu.hidden = false;
}

function closeMenu() {
  $("seat-menu").hidden = true;
}

// -- start --------------------------------------------------------------------------------------
function tick() {
  for (const [id, seat] of Object.entries(floor.seats)) {
    const cell = $(`seat-${id}-clock`);
    if (cell) cell.textContent = clock(timeInState(seat));
  }
  for (const [id, queue] of Object.entries(floor.queues)) {
    const cell = $(`queue-${id}-longest`);
    if (cell && queue.waiting) cell.textContent = clock(longestWait(queue));
  }
}

function start() {
  startPage("monitor.title");
  $("legend").replaceChildren(...STATES.map((s) => el("span", { class: `chip s-${s}`, text: stateLabel(s) })));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeMenu(); });
  document.addEventListener("click", (e) => {
    const menu = $("seat-menu");
    if (!menu.hidden && !menu.contains(e.target) && !e.target.closest(".seat")) closeMenu();
  });
  setInterval(tick, 1000);
  liveStream("/monitor/events", "/api/monitor/board", { board: applyBoard, ...APPLY });
}

start();
