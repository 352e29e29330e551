// A seat's own page: its state (time in state ticking here), ready / pause / log out, and the
// dialer's screen pop with the script and the disposition buttons. Events: /api/seat/events.
"use strict";

const me = { seat: null, screen: null };

function renderMe() {
  const seat = me.seat || { presence: "logged-out", call_state: "idle" };
  const state = seatState(seat);
  const box = $("my-seat");
  box.className = `seat s-${state}`;
  box.dataset.state = state;
  $("my-seat-id").textContent = seat.name && seat.name !== boot.user.seat ? `${boot.user.seat} · ${seat.name}` : boot.user.seat;
  let label = stateLabel(state);
  if (state === "paused" && seat.reason) label += ` · ${reasonLabel(seat.reason)}`;
  $("my-seat-state").textContent = label;
  $("my-seat-queues").textContent = (seat.queues || []).map(queueName).join(", ") || "—";
  tick();
}

function tick() {
  if (me.seat) $("my-seat-clock").textContent = clock(timeInState(me.seat));
}

function field(testid, key, value) {
  return el("div", { class: "row" }, el("strong", { text: `${t(key)}: ` }), el("span", { "data-testid": testid, text: value }));
}

function renderScreen() {
  const box = $("screen");
  const pop = me.screen;
  if (!pop || !pop.lead) {
    box.replaceChildren(el("p", { "data-testid": "screen-empty", text: t("seatpage.no_call") }));
    return;
  }
  const lead = pop.lead;
  const data = Object.entries(lead.data || {}).map(([k, v]) => el("div", { class: "row" }, `${k}: ${v}`));
  const note = el("input", { type: "text", "data-testid": "disposition-note", placeholder: t("seatpage.note") });
  const buttons = (pop.dispositions || []).map((d) => el("button", {
    type: "button", "data-testid": `disposition-${d.code}`, text: d.label || d.code,
    onclick: () => dispose(d.code, note.value) }));
  box.replaceChildren(
    el("h3", { "data-testid": "screen-campaign", text: pop.campaign_name || pop.campaign || "" }),
    el("p", { "data-testid": "screen-status", text: pop.open === false ? t("seatpage.call_closed") : t("seatpage.call_open") }),
    field("screen-name", "seatpage.customer", lead.name || "—"),
    field("screen-number", "seatpage.number", lead.number || "—"),
    field("screen-attempts", "seatpage.attempts", String(lead.attempts ?? "—")),
    ...data,
    el("h4", { text: t("seatpage.script") }),
    el("div", { class: "script", "data-testid": "screen-script", text: pop.script || "" }),
    el("h4", { text: t("seatpage.disposition") }),
    note,
    el("div", { class: "dispositions" }, ...buttons));
}

async function dispose(code, note) {
  try {
    await post(`/api/seats/${encodeURIComponent(boot.user.seat)}/disposition`, { code, note: note || undefined });
    toast(t("seatpage.disposed", { code }));
  } catch (err) {
    toast(t("monitor.error", { message: err.message }), true);
  }
}

async function presence(action, reason) {
  try {
    const seat = await post("/api/seat/presence", { action, reason });
    if (seat && seat.id) { me.seat = seat; setTime(seat); renderMe(); }
  } catch (err) {
    toast(t("monitor.error", { message: err.message }), true);
  }
}

function onScreen(event) {
  if (event.event === "disposition") {
    toast(t("seatpage.disposed", { code: event.code }));
    return;
  }
  if (event.lead) { me.screen = event; renderScreen(); }
}

function start() {
  startPage("seatpage.title");
  if (!boot.user.seat) { $("screen").textContent = t("seatpage.no_seat"); return; }
  const reasons = $("seat-pause-reason");
  reasons.replaceChildren(...(boot.pause_reasons || []).map((r) => el("option", { value: r, text: reasonLabel(r) })));
  $("seat-ready").addEventListener("click", () => presence("ready"));
  $("seat-pause").addEventListener("click", () => presence("pause", reasons.value));
  $("seat-logout").addEventListener("click", () => presence("logout"));
  setInterval(tick, 1000);
  renderMe();
  liveStream("/api/seat/events", "/api/seat", {
    seat: (item) => { me.seat = item.data; setTime(item.data); renderMe(); },
    screen: onScreen,
  });
}

start();
