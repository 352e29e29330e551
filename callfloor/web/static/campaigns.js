// The campaigns page: the table from GET /api/campaigns, start and stop (PATCH), the JSON editor
// (POST /api/campaigns), delete, lead import with its report, and each campaign's history.
// Words come from the catalog in the boot data (campaigns.<lang>.toml); pages.js has t, el, toast.
"use strict";

const LEAD_STATUSES = ["new", "retry", "callback", "held", "done", "dnc"];
const panels = ["editor", "import", "history"];
let importing = null; // the campaign the import panel is for

const when = (at) => new Date(at * 1000).toLocaleString(boot.lang === "zh" ? "zh-CN" : "en");
const path = (id, rest) => `/api/campaigns/${encodeURIComponent(id)}${rest || ""}`;

// A key of a family ("campaigns.change" + "updated"), or the value itself when the catalog has none.
function word(family, value) {
  const key = `${family}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

class Refused extends Error {
  constructor(answer) {
    super(answer.data.error || (answer.data.errors || []).join("; ") || `HTTP ${answer.status}`);
    this.answer = answer;
  }
}

// Any method, with the CSRF token; JSON bodies unless a content type is given (a CSV file).
async function call(method, url, body, type) {
  const headers = { "X-CSRF-Token": boot.csrf };
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = type || "application/json";
    payload = type ? body : JSON.stringify(body);
  }
  const response = await fetch(url, { method, credentials: "same-origin", headers, body: payload });
  if (response.status === 401) location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  return { ok: response.ok, status: response.status, data: data || {} };
}

async function must(method, url, body, type) {
  const answer = await call(method, url, body, type);
  if (!answer.ok) throw new Refused(answer);
  return answer.data;
}

function guard(work) {
  return async (event) => {
    try { await work(event); } catch (err) { toast(t("campaigns.refused", { message: err.message }), true); }
  };
}

function show(panel) {
  for (const name of panels) $(name).hidden = name !== panel;
  if (panel) $(panel).scrollIntoView({ block: "nearest" });
}

// -- the table ----------------------------------------------------------------------------------
async function load() {
  const list = (await must("GET", "/api/campaigns")).sort((a, b) => a.id.localeCompare(b.id));
  const rows = await Promise.all(list.map(async (c) => {
    const [def, leads] = await Promise.all([call("GET", path(c.id)), call("GET", path(c.id, "/leads"))]);
    return { ...c, def: def.ok ? def.data : null, leads: leads.ok ? leads.data : null };
  }));
  $("campaign-list").querySelector("tbody").replaceChildren(...rows.map(row));
  $("empty").hidden = rows.length > 0;
}

function leadsText(found) {
  if (!found) return "—";
  const parts = LEAD_STATUSES.filter((s) => found.leads[s]).map((s) => `${word("campaigns.status", s)} ${found.leads[s]}`);
  return parts.length ? parts.join(" · ") : "0";
}

function row(c) {
  const tid = `campaign-${c.id}`;
  const source = c.def ? c.def.source : "";
  const state = c.active ? "dialling" : "stopped";
  const over = c.abandon_24h != null && c.target_abandon != null && c.abandon_24h > c.target_abandon;
  return el("tr", { "data-testid": tid, "data-source": source, "data-state": state },
    el("td", { text: c.id }), el("td", { text: c.name || "" }),
    el("td", { "data-testid": `${tid}-source`, text: source ? word("campaigns.source", source) : "—" }),
    el("td", { text: word("monitor.mode", c.mode) }),
    el("td", {}, el("span", { class: `badge ${state}`, "data-testid": `${tid}-state`, text: t(`campaigns.state.${state}`) })),
    el("td", { "data-testid": `${tid}-pacing`, text: word("monitor.mode", c.pacing_now) }),
    el("td", { "data-testid": `${tid}-leads`, text: leadsText(c.leads) }),
    el("td", { "data-testid": `${tid}-abandon`, class: over ? "bad" : null,
               text: `${pct(c.abandon_24h)} / ${pct(c.target_abandon)}` }),
    el("td", {}, el("div", { class: "actions" }, ...actions(c, tid, source))));
}

// A lead with a team changes only the campaigns that assign a seat of its team (the API says 403).
function mayChange(c) {
  if (!boot.may_change) return false;
  if (boot.user.role !== "lead" || !boot.user.team) return true;
  return Boolean(c.def && (c.def.teams || []).includes(boot.user.team));
}

function actions(c, tid, source) {
  const button = (suffix, key, work, attrs) => el("button", { type: "button", "data-testid": `${tid}-${suffix}`,
    text: t(key), onclick: guard(work), ...(attrs || {}) });
  const out = [];
  const may = mayChange(c);
  if (may) {
    out.push(button("toggle", c.active ? "campaigns.action.stop" : "campaigns.action.start", () => toggle(c)));
    out.push(button("import", "campaigns.action.import", () => openImport(c.id)));
    // a plain link: the browser downloads the file with the session cookie (no script needed)
    out.push(el("a", { class: "button", "data-testid": `${tid}-export`, href: `${path(c.id)}/results.csv`,
      download: `${c.id}-results.csv`, text: t("campaigns.action.export") }));
  }
  out.push(button("history", "campaigns.action.history", () => openHistory(c.id)));
  if (source === "file") {
    out.push(el("span", { class: "note", "data-testid": `${tid}-file-note`, text: t("campaigns.in_file") }));
  } else if (may && source === "api") {
    out.push(button("edit", "campaigns.action.edit", () => openEditor(c.id)));
    out.push(button("delete", "campaigns.action.delete", () => remove(c.id),
      { disabled: c.active, title: c.active ? t("campaigns.stop_first") : null }));
  }
  return out;
}

async function toggle(c) {
  await must("PATCH", path(c.id), { active: !c.active });
  toast(t(c.active ? "campaigns.done.stopped" : "campaigns.done.started", { id: c.id }));
  await load();
}

async function remove(id) {
  if (!confirm(t("campaigns.confirm_delete", { id }))) return;
  await must("DELETE", path(id));
  toast(t("campaigns.done.deleted", { id }));
  if (importing === id || $("editor").dataset.id === id) show(null);
  await load();
}

// -- the editor ---------------------------------------------------------------------------------
async function openEditor(id) {
  let keys = boot.example;
  if (id) {
    const { campaign } = await must("GET", path(id));
    keys = Object.fromEntries(Object.entries(campaign).filter(([key]) => key !== "leads")); // POST refuses leads
  }
  $("editor").dataset.id = id || "";
  $("editor-title").textContent = id ? t("campaigns.edit_title", { id }) : t("campaigns.new_title");
  $("editor-json").value = JSON.stringify(keys, null, 2);
  $("editor-errors").replaceChildren();
  show("editor");
  $("editor-json").focus();
}

function problems(lines) {
  $("editor-errors").replaceChildren(...lines.map((line, i) => el("li", { "data-testid": `editor-error-${i}`, text: line })));
}

async function save() {
  let keys;
  try { keys = JSON.parse($("editor-json").value); } catch (err) {
    problems([t("campaigns.not_json", { message: err.message })]);
    return;
  }
  const answer = await call("POST", "/api/campaigns", keys);
  if (!answer.ok) {
    problems(answer.status === 422 && Array.isArray(answer.data.errors) ? answer.data.errors : [new Refused(answer).message]);
    return;
  }
  problems([]);
  const id = answer.data.campaign.id;
  toast(t(answer.data.created ? "campaigns.done.created" : "campaigns.done.saved", { id }));
  for (const warning of answer.data.warnings || []) toast(t("campaigns.warning", { id, warning }), true);
  show(null);
  await load();
}

// -- lead import --------------------------------------------------------------------------------
function openImport(id) {
  importing = id;
  $("import-title").textContent = t("campaigns.import_title", { id });
  $("import-file").value = "";
  $("import-report").hidden = true;
  show("import");
}

async function runImport(dryRun) {
  const file = $("import-file").files[0];
  if (!file) { toast(t("campaigns.no_file"), true); return; }
  const report = await must("POST", path(importing, `/leads${dryRun ? "?dry_run=1" : ""}`), file, "text/csv");
  const numbers = { rows: report.rows, leads: report.leads, inserted: report.inserted, merged: report.merged.length,
                    bad: report.errors.length, existing: report.existing.length, held: report.held, dnc: report.on_dnc };
  $("import-summary").textContent = t(dryRun ? "campaigns.report.checked" : "campaigns.report.imported", numbers)
    + (report.held ? ` ${t("campaigns.report.held", numbers)}` : "") + (report.on_dnc ? ` ${t("campaigns.report.dnc", numbers)}` : "");
  $("import-errors").replaceChildren(...report.errors.map((e, i) => el("li", { "data-testid": `import-error-${i}`,
    text: t("campaigns.report.bad_row", e) })));
  $("import-merged").replaceChildren(...report.merged.map((m) => el("li", { text: t("campaigns.report.merged_row", m) })),
    ...report.existing.map((x) => el("li", { text: t("campaigns.report.existing_row", x) })));
  $("import-report").hidden = false;
  $("import-report").dataset.dryRun = String(dryRun);
  if (!dryRun) await load();
}

// -- history ------------------------------------------------------------------------------------
async function openHistory(id) {
  const { versions } = await must("GET", path(id, "/versions"));
  $("history-title").textContent = t("campaigns.history_title", { id });
  $("versions").replaceChildren(...versions.map((v, i) => el("li", { "data-testid": `version-${i}` },
    el("details", {},
      el("summary", { "data-testid": `version-${i}-summary` },
        el("span", { class: "when", text: when(v.at) }), " · ",
        el("span", { text: word("campaigns.source", v.source) }), " · ",
        el("strong", { "data-testid": `version-${i}-change`, text: word("campaigns.change", v.change) }), " · ",
        el("span", { text: v.by ? t("campaigns.by", { by: v.by }) : t("campaigns.by_file") }), " · ",
        el("span", { "data-testid": `version-${i}-changed`,
                     text: v.changed && v.changed.length ? t("campaigns.changed", { keys: v.changed.join(", ") }) : t("campaigns.unchanged") })),
      el("pre", { class: "json", "data-testid": `version-${i}-settings`, text: JSON.stringify(v.campaign, null, 2) })))));
  if (!versions.length) $("versions").append(el("li", { text: t("campaigns.no_versions") }));
  show("history");
}

function setup() {
  startPage("campaigns.title");
  $("new-campaign").hidden = !boot.may_change;
  $("read-only").hidden = Boolean(boot.may_change);
  $("new-campaign").addEventListener("click", guard(() => openEditor(null)));
  $("reload").addEventListener("click", guard(load));
  $("editor-save").addEventListener("click", guard(save));
  $("editor-cancel").addEventListener("click", () => show(null));
  $("import-check").addEventListener("click", guard(() => runImport(true)));
  $("import-run").addEventListener("click", guard(() => runImport(false)));
  $("import-close").addEventListener("click", () => show(null));
  $("history-close").addEventListener("click", () => show(null));
  guard(load)();
}

setup();
