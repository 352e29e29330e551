// A seat's own page: its state (time in state ticking here), ready / pause / log out, and the
// dialer's screen: a preview lead to dial or skip, or the call's screen pop with the script and
// the disposition buttons (a callback asks for its time). Events: /api/seat/events.
"use strict";

// screen: the preview or call shown; lastCall: the call shown before a preview (a reconnect
// sends it again and must not hide the preview); disposed: the call whose disposition we saved.
const me = { seat: null, screen: null, lastCall: null, disposed: null, ended: new Map() };  // ended: call -> its "ended" event
const seatApi = () => `/api/seats/${encodeURIComponent(boot.user.seat)}`;
const QUARTER_HOUR = 900;

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

// The lead as both views show it: campaign, customer, number, attempts, its data, the script.
function leadPart(pop, status, attemptsKey) {
  const lead = pop.lead;
  const data = Object.entries(lead.data || {}).map(([k, v]) => el("div", { class: "row" }, `${k}: ${v}`));
  return [
    el("h3", { "data-testid": "screen-campaign", text: pop.campaign_name || pop.campaign || "" }),
    el("p", { "data-testid": "screen-status", text: status }),
    field("screen-name", "seatpage.customer", lead.name || "—"),
    field("screen-number", "seatpage.number", lead.number || "—"),
    field("screen-attempts", attemptsKey, String(lead.attempts ?? "—")),
    ...data,
    el("h4", { text: t("seatpage.script") }),
    el("div", { class: "script", "data-testid": "screen-script", text: pop.script || "" }),
  ];
}

function renderScreen() {
  const box = $("screen");
  const pop = me.screen;
  const kind = !pop || !pop.lead ? "empty" : pop.event === "preview" ? "preview" : "call";
  box.dataset.kind = kind;
  $("preview-next").disabled = kind === "preview" && !pop.dialling;
  if (kind === "empty") box.replaceChildren(el("p", { "data-testid": "screen-empty", text: t("seatpage.no_call") }));
  else if (kind === "preview") box.replaceChildren(...previewView(pop));
  else box.replaceChildren(...callView(pop));
}

// -- preview: the seat reads the lead, then dials or skips it --------------------------------
function previewView(pop) {
  const status = pop.dialling ? t("seatpage.dialling", { number: pop.lead.number }) : t("seatpage.preview");
  const dial = el("button", { type: "button", "data-testid": "preview-dial", text: t("seatpage.dial"),
    disabled: Boolean(pop.dialling), onclick: () => previewAction("dial") });
  const skip = el("button", { type: "button", "data-testid": "preview-skip", text: t("seatpage.skip"),
    disabled: Boolean(pop.dialling), onclick: () => previewAction("skip") });
  return [...leadPart(pop, status, "seatpage.attempts_before"), el("div", { class: "dispositions" }, dial, skip)];
}

async function nextLead() {
  try {
    showPreview(await post(`${seatApi()}/preview`, {}));
  } catch (err) {
    toast(t("monitor.error", { message: err.message }), true);
  }
}

function showPreview(view) {
  const shown = me.screen;
  // the answer and the stream's event bring the same lead: one view; after a dial that went
  // nowhere (no answer) the lead offered again is a new preview
  if (shown && shown.event === "preview" && !shown.dialling && shown.lead.id === view.lead.id
      && shown.campaign === view.campaign) return;
  me.screen = { ...view, event: "preview" };
  renderScreen();
}

async function previewAction(action) {
  const pop = me.screen;
  for (const id of ["preview-dial", "preview-skip"]) $(id).disabled = true;
  let placed;
  try {
    placed = await post(`${seatApi()}/preview/${action}`, {});
  } catch (err) {
    toast(t("monitor.error", { message: err.message }), true);
    renderScreen();
    return;
  }
  if (action === "skip") {
    if (me.screen === pop) me.screen = null;
    toast(t("seatpage.skipped", { name: pop.lead.name || pop.lead.number }));
  } else if (me.screen === pop) {
    pop.dialling = true; // the call's own screen replaces this once the customer answers
    pop.call = placed && placed.call; // or its "ended" event, if nobody does
    const early = me.ended.get(pop.call); // a busy line can end before this answer came
    if (early) { notReached(early); return; }
  }
  renderScreen();
}

// -- the call: script, dispositions, and the callback's time -----------------------------------
function callView(pop) {
  const note = el("input", { type: "text", "data-testid": "disposition-note", placeholder: t("seatpage.note") });
  const form = el("div", { class: "callback", "data-testid": "callback-form", hidden: true });
  const buttons = (pop.dispositions || []).map((d) => el("button", {
    type: "button", "data-testid": `disposition-${d.code}`, text: d.label || d.code,
    onclick: () => (d.kind === "callback" ? openCallback(form, d, note) : dispose(d.code, note.value)) }));
  const status = pop.open === false ? t("seatpage.call_closed") : t("seatpage.call_open");
  return [...leadPart(pop, status, "seatpage.attempts"), el("h4", { text: t("seatpage.disposition") }), note,
          el("div", { class: "dispositions" }, ...buttons), form];
}

function openCallback(form, disposition, note) {
  const at = el("input", { type: "datetime-local", "data-testid": "callback-at", required: true,
    value: localInput(Math.ceil((serverNow() + 3600) / QUARTER_HOUR) * QUARTER_HOUR), min: localInput(serverNow()) });
  const to = el("select", { "data-testid": "callback-to" },
    el("option", { value: "seat", text: t("seatpage.callback_to_seat") }),
    el("option", { value: "campaign", text: t("seatpage.callback_to_campaign") }));
  form.replaceChildren(
    el("h4", { text: t("seatpage.callback", { label: disposition.label || disposition.code }) }),
    el("label", { class: "row" }, el("span", { text: t("seatpage.callback_at") }), at),
    el("label", { class: "row" }, el("span", { text: t("seatpage.callback_to") }), to),
    el("div", { class: "row" },
      el("button", { type: "button", "data-testid": "callback-save", text: t("seatpage.callback_save"),
        onclick: () => bookCallback(form, disposition.code, note.value, at.value, to.value) }),
      el("button", { type: "button", "data-testid": "callback-cancel", text: t("action.cancel"),
        onclick: () => { form.hidden = true; } })));
  form.hidden = false;
  at.focus();
}

async function bookCallback(form, code, note, value, to) {
  const due = fromLocalInput(value);
  if (due === null) { toast(t("seatpage.callback_missing"), true); return; }
  const when = shownTime(due);
  if (due <= serverNow()) { toast(t("seatpage.callback_past", { when }), true); return; }
  if (await dispose(code, note, { callback_at: due, callback_to: to })) {
    form.hidden = true;
    toast(t(to === "seat" ? "seatpage.callback_booked_seat" : "seatpage.callback_booked_campaign", { when }));
  }
}

async function dispose(code, note, callback) {
  const call = me.screen && me.screen.call;
  try {
    await post(`${seatApi()}/disposition`, { code, note: note || undefined, ...(callback || {}) });
  } catch (err) {
    toast(t("monitor.error", { message: err.message }), true);
    return false;
  }
  me.disposed = call;
  toast(t("seatpage.disposed", { code }));
  return true;
}

// A datetime-local value ("2026-03-02T10:30") is this browser's local time; unix seconds back.
function localInput(seconds) {
  const d = new Date(seconds * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

function fromLocalInput(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!m) return null;
  return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]).getTime() / 1000;
}

function shownTime(seconds) {
  return new Date(seconds * 1000).toLocaleString(boot.lang === "zh" ? "zh-CN" : "en",
    { dateStyle: "medium", timeStyle: "short" });
}

// -- presence and the stream -------------------------------------------------------------------
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
    if (event.call !== me.disposed) toast(t("seatpage.disposed", { code: event.code }));
    return;
  }
  if (event.event === "ended") {
    me.ended.set(event.call, event);
    if (me.ended.size > 20) me.ended.delete(me.ended.keys().next().value);
  }
  const dialled = me.screen && me.screen.event === "preview" && me.screen.dialling;
  if (event.event === "ended" && dialled && event.call === me.screen.call) { notReached(event); return; }
  const shown = me.screen && me.screen.event !== "preview" && event.call && me.screen.call === event.call;
  if (event.event === "ended" || (shown && event.lead)) {
    // the call on screen ended, or a reconnect sent it again: keep the note and the open form
    if (shown && (event.event === "ended" || event.open === false)) closed();
    return;
  }
  if (!event.lead) return;
  if (event.event === "preview") { showPreview(event); return; }
  // a reconnect sends the last call again: it must not hide the lead being previewed
  if (me.screen && me.screen.event === "preview" && event.call === me.lastCall) return;
  me.lastCall = event.call;
  me.screen = event;
  renderScreen();
}

function notReached(event) {
  // the previewed lead was dialled and not reached (busy, no answer...): the seat is free again
  const lead = me.screen.lead;
  toast(t("seatpage.not_reached", { name: lead.name || lead.number, outcome: outcomeLabel(event.outcome) }));
  me.screen = null;
  renderScreen();
}

function outcomeLabel(outcome) {
  const key = `seatpage.outcome.${outcome}`;
  const text = t(key);
  return text === key ? String(outcome) : text;
}

function closed() {
  me.screen.open = false;
  const status = $("screen-status");
  if (status) status.textContent = t("seatpage.call_closed");
}

function start() {
  startPage("seatpage.title");
  if (!boot.user.seat) { $("screen").textContent = t("seatpage.no_seat"); return; }
  const reasons = $("seat-pause-reason");
  reasons.replaceChildren(...(boot.pause_reasons || []).map((r) => el("option", { value: r, text: reasonLabel(r) })));
  $("seat-ready").addEventListener("click", () => presence("ready"));
  $("seat-pause").addEventListener("click", () => presence("pause", reasons.value));
  $("seat-logout").addEventListener("click", () => presence("logout"));
  $("preview-next").addEventListener("click", nextLead);
  setInterval(tick, 1000);
  renderMe();
  renderScreen();
  liveStream("/api/seat/events", "/api/seat", {
    seat: (item) => { me.seat = item.data; setTime(item.data); renderMe(); },
    screen: onScreen,
  });
}

start();
