// Shared by the monitor and the seat page: the boot data (user, CSRF token, catalog), words,
// DOM building, formatting, seat colour states, POSTs with the CSRF token, the header.
"use strict";

const boot = JSON.parse(document.getElementById("boot").textContent);
const catalog = boot.catalog || {};
const serverClock = { offset: 0 }; // server time minus this browser's, from the last "at" seen
const STATES = ["ready", "ringing", "talking", "wrap-up", "paused", "logged-out"];
// the colour states named with the shared words of common.<lang>.toml
const STATE_KEYS = { ready: "presence.ready", ringing: "call_state.ringing", talking: "call_state.talking",
                     "wrap-up": "presence.wrap-up", paused: "presence.paused", "logged-out": "presence.logged-out" };

function t(key, params) {
  let text = Object.prototype.hasOwnProperty.call(catalog, key) ? catalog[key] : key;
  for (const [name, value] of Object.entries(params || {})) text = text.split(`{${name}}`).join(String(value));
  return text;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const serverNow = () => Date.now() / 1000 + serverClock.offset;
const norm = (value) => String(value || "").replace(/_/g, "-");
const stateLabel = (state) => t(STATE_KEYS[state]);

function setTime(data) {
  if (data && typeof data.at === "number") serverClock.offset = data.at - Date.now() / 1000;
}

function pct(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

function clock(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

function reasonLabel(reason) {
  const key = `pause.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

function seatState(seat) {
  const presence = norm(seat.presence), call = norm(seat.call_state);
  if (presence === "logged-out") return "logged-out";
  if (call === "ringing") return "ringing";
  if (call === "on-call" || call === "talking") return "talking";
  if (presence === "wrap-up") return "wrap-up";
  if (presence === "paused") return "paused";
  return "ready";
}

// null while the floor has seen no state change of the seat since it started ("—")
function timeInState(seat) {
  if (typeof seat.since === "number") return serverNow() - seat.since;
  if (typeof seat.time_in_state_s !== "number") return null;
  return seat.time_in_state_s + (serverNow() - (seat.at || serverNow()));
}

function queueName(queue) {
  return queue.startsWith("campaign-") ? t("monitor.target.campaign", { name: queue.slice(9) }) : queue;
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": boot.csrf },
    body: JSON.stringify(body || {}),
  });
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (!response.ok) throw new Error((data && data.error) || `HTTP ${response.status}`);
  return data;
}

function toast(text, bad) {
  const box = $("toast");
  box.textContent = text;
  box.className = bad ? "toast error" : "toast";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function setConnection(state) {
  const dot = $("connection");
  dot.dataset.state = state;
  dot.title = t(`monitor.connection.${state}`);
}

// The page's words, the user's name and the language switch (POST /api/me/lang, then reload).
function startPage(titleKey) {
  document.documentElement.lang = boot.lang === "zh" ? "zh-CN" : "en";
  document.title = t(titleKey);
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $("user").textContent = boot.user.name || boot.user.username;
  $("logout-csrf").value = boot.csrf;
  const lang = $("lang");
  lang.value = boot.lang;
  lang.addEventListener("change", async () => {
    try { await post("/api/me/lang", { lang: lang.value }); location.reload(); } catch (err) {
      toast(t("monitor.error", { message: err.message }), true);
      lang.value = boot.lang;
    }
  });
}

// An EventSource that comes back: the browser retries a dropped stream itself; a refused one
// (401, 5xx) is closed for good, so we probe why and open a new one with a growing delay.
function liveStream(url, probe, handlers) {
  const STALE_MS = 40000; // no event, not even the 15 s heartbeat, for this long: reconnect
  let source = null, last = 0, timer = null, backoff = 1000;
  const seen = () => { last = Date.now(); };
  function open() {
    clearTimeout(timer);
    if (source) source.close();
    setConnection("connecting");
    source = new EventSource(url);
    seen();
    source.onopen = seen;
    for (const [kind, handle] of Object.entries(handlers)) {
      source.addEventListener(kind, (e) => { seen(); backoff = 1000; setConnection("live"); handle(JSON.parse(e.data)); });
    }
    source.onerror = () => {
      setConnection("lost");
      if (source.readyState === EventSource.CLOSED) later();
    };
  }
  async function later() {
    if (source) source.close();
    clearTimeout(timer);
    try {
      const answer = await fetch(probe, { credentials: "same-origin" });
      if (answer.status === 401) { location.href = `/login?next=${encodeURIComponent(location.pathname)}`; return; }
    } catch (err) { /* the server is down: keep trying */ }
    timer = setTimeout(open, backoff);
    backoff = Math.min(backoff * 2, 15000);
  }
  setInterval(() => { if (source && Date.now() - last > STALE_MS) { setConnection("lost"); later(); } }, 5000);
  open();
}
