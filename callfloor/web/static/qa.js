// The QA pages: the review queue, the review page (player + form), the daily summary and the
// seat's own evaluations. One script; boot.view says which. Needs pages.js and qaplayer.js.
"use strict";

const view = $("view");
const fmtScore = (value) => (value === null || value === undefined ? "—" : Number(value).toFixed(1));
const when = (unix) => (unix ? new Date(unix * 1000).toLocaleString(boot.lang === "zh" ? "zh-CN" : "en-GB") : "—");
const text = (label) => (label ? (boot.lang === "zh" && label.zh) || label.en : "");

async function getJSON(url) {
  const answer = await fetch(url, { credentials: "same-origin" });
  const data = await answer.json().catch(() => null);
  if (!answer.ok) throw new Error((data && data.error) || `HTTP ${answer.status}`);
  return data;
}

// POST that keeps the error body (validation errors come per item).
async function send(url, body) {
  const answer = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": boot.csrf },
    body: JSON.stringify(body),
  });
  const data = await answer.json().catch(() => null);
  return { ok: answer.ok, status: answer.status, data: data || {} };
}

function statusLabel(status) { return t(`qa.status.${status}`); }

// -- the queue -----------------------------------------------------------------------------
async function showQueue(day) {
  const input = el("input", { type: "date", value: day, "data-testid": "queue-day" });
  const body = el("tbody", { "data-testid": "queue" });
  view.replaceChildren(
    el("h2", { text: t("qa.queue") }),
    el("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); load(); } },
      el("label", {}, `${t("qa.day")} `, input), el("button", { type: "submit", text: t("qa.load") })),
    el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ...["qa.seat", "qa.team", "qa.started", "qa.duration", "qa.stratum_col", "qa.flags",
        "qa.status_col", "qa.score", ""].map((k) => el("th", { text: k ? t(k) : "" })))), body));
  async function load() {
    let data;
    try { data = await getJSON(`/api/qa/queue?day=${encodeURIComponent(input.value)}`); } catch (err) {
      toast(err.message, true); return;
    }
    body.replaceChildren(...data.calls.map((c) => el("tr", { "data-testid": `queue-row-${c.call}` },
      el("td", { text: c.seat }), el("td", { text: c.team || "" }), el("td", { text: when(c.started_at) }),
      el("td", { text: clock(c.duration_s) }), el("td", { text: t(`qa.stratum.${c.stratum}`) }),
      el("td", { text: c.flags.join(", ") }),
      el("td", { "data-testid": `queue-status-${c.call}`, text: statusLabel(c.status) }),
      el("td", { text: fmtScore(c.score) }),
      el("td", {}, el("a", { href: `/qa/calls/${encodeURIComponent(c.call)}`, "data-testid": `queue-open-${c.call}`, text: t("qa.open") })))));
    if (!data.calls.length) body.append(el("tr", {}, el("td", { colspan: "9", class: "empty", text: t("qa.no_calls") })));
  }
  await load();
}

// -- the review page -----------------------------------------------------------------------
function answerControls(item, disabled) {
  const name = `answer-${item.id}`;
  const choices = item.type === "scale"
    ? Array.from({ length: item.max - item.min + 1 }, (_, i) => [String(item.min + i), String(item.min + i)])
    : [["yes", t("qa.yes")], ["no", t("qa.no")]];
  if (item.na) choices.push(["na", t("qa.na")]);
  return el("span", { class: "choices" }, ...choices.map(([value, label]) => el("label", {},
    el("input", { type: "radio", name, value, disabled, "data-testid": `${name}-${value}` }), ` ${label}`)));
}

function renderForm(form, disabled) {
  return el("div", { class: "qa-form", "data-testid": "form" },
    el("h3", { text: `${text(form.title)} · v${form.version}` }),
    ...form.sections.map((section) => el("fieldset", { class: section.weight ? "" : "veto-section" },
      el("legend", { text: text(section.title) }),
      ...section.items.map((item) => el("div", { class: `item${item.veto ? " veto" : ""}`, "data-testid": `item-${item.id}` },
        el("div", { class: "label" }, text(item.label),
          item.veto ? el("span", { class: "veto-badge", "data-testid": `veto-${item.id}`, text: t("qa.veto_item") }) : null),
        item.description ? el("div", { class: "hint", text: text(item.description) }) : null,
        answerControls(item, disabled),
        el("div", { class: "item-error", "data-testid": `error-${item.id}`, hidden: true }))))));
}

function collectAnswers(form) {
  const answers = {};
  for (const section of form.sections) {
    for (const item of section.items) {
      const picked = document.querySelector(`input[name="answer-${item.id}"]:checked`);
      if (!picked) continue;
      const v = picked.value;
      answers[item.id] = v === "na" ? null : v === "yes" ? true : v === "no" ? false : Number(v);
    }
  }
  return answers;
}

function defectsEditor(player) {
  const list = el("ol", { class: "defects", "data-testid": "defects" });
  const defects = [];
  const category = el("input", { type: "text", "data-testid": "defect-category", placeholder: t("qa.defect_category") });
  const note = el("input", { type: "text", "data-testid": "defect-note", placeholder: t("qa.defect_note") });
  function redraw() {
    list.replaceChildren(...defects.map((d, i) => el("li", { "data-testid": `defect-${i}` },
      el("button", { type: "button", class: "link", text: clock(d.at_s), onclick: () => player.seek(d.at_s) }),
      ` ${d.category}${d.note ? ` — ${d.note}` : ""} `,
      el("button", { type: "button", text: t("qa.remove"), onclick: () => { defects.splice(i, 1); redraw(); } }))));
  }
  const add = el("button", { type: "button", "data-testid": "add-defect", text: t("qa.add_defect"), onclick: () => {
    if (!category.value.trim()) { category.focus(); return; }
    defects.push({ category: category.value.trim(), at_s: Math.round(player.now() * 10) / 10, note: note.value.trim() });
    category.value = ""; note.value = "";
    redraw();
  } });
  return { defects, node: el("div", { class: "defect-editor" }, el("h4", { text: t("qa.defects") }), list,
    el("div", { class: "row" }, category, note, add)) };
}

function showErrors(form, data) {
  for (const node of document.querySelectorAll(".item-error")) { node.hidden = true; node.textContent = ""; }
  for (const [item, message] of Object.entries(data.items || {})) {
    const node = $(`error-${item}`);
    if (node) { node.textContent = message; node.hidden = false; }
  }
  const other = [...Object.values(data.fields || {}), ...Object.entries(data.defects || {}).map(([i, m]) => `#${Number(i) + 1}: ${m}`)];
  toast(other.length ? other.join("; ") : t("qa.problems"), true);
}

function evaluationCard(e, onChange) {
  const card = el("li", { class: "evaluation", "data-testid": `evaluation-${e.id}` },
    el("div", { class: "head" },
      el("strong", { "data-testid": `evaluation-${e.id}-score`, text: fmtScore(e.score) }),
      ` · ${statusLabel(e.status)} · ${e.reviewer} · ${when(e.submitted_at)}`),
    e.veto.length ? el("div", { class: "vetoed", text: t("qa.vetoed", { items: e.veto.join(", ") }) }) : null,
    e.defects.length ? el("ul", {}, ...e.defects.map((d) => el("li", { text: `${clock(d.at_s)} ${d.category}${d.note ? ` — ${d.note}` : ""}` }))) : null,
    e.coaching ? el("p", { class: "coaching", text: e.coaching }) : null,
    e.dispute ? el("p", { class: "dispute", text: `${t("qa.dispute")}: ${e.dispute.reason}` }) : null);
  if (boot.user.role === "seat" && e.status === "submitted" && e.seat === boot.user.seat) {
    const reason = el("textarea", { "data-testid": `dispute-reason-${e.id}`, placeholder: t("qa.dispute_reason") });
    card.append(reason, el("button", { type: "button", "data-testid": `dispute-${e.id}`, text: t("qa.dispute"), onclick: async () => {
      const answer = await send(`/api/qa/evaluations/${e.id}/dispute`, { reason: reason.value });
      if (!answer.ok) { toast(answer.data.error || `HTTP ${answer.status}`, true); return; }
      toast(t("qa.disputed"));
      onChange();
    } }));
  }
  if (boot.may_score && boot.user.role !== "seat" && ["disputed", "in_review"].includes(e.status) && e.reviewer !== boot.user.username) {
    card.append(el("button", { type: "button", "data-testid": `uphold-${e.id}`, text: t("qa.uphold"), onclick: async () => {
      const answer = await send(`/api/qa/evaluations/${e.id}/decision`, { decision: "uphold", note: "" });
      if (!answer.ok) { toast(answer.data.error || `HTTP ${answer.status}`, true); return; }
      onChange();
    } }));
  }
  return card;
}

async function showReview(uuid) {
  let data;
  try { data = await getJSON(`/api/qa/calls/${encodeURIComponent(uuid)}`); } catch (err) {
    view.replaceChildren(el("p", { class: "error", text: err.message })); return;
  }
  const c = data.call;
  const playerBox = el("section", { class: "player", "data-testid": "player" });
  const facts = el("dl", { class: "facts", "data-testid": "call-facts" },
    el("dt", { text: t("qa.seat") }), el("dd", { text: `${c.seat || "—"}${c.team ? ` (${c.team})` : ""}` }),
    el("dt", { text: t("qa.started") }), el("dd", { text: when(c.started_at) }),
    el("dt", { text: t("qa.duration") }), el("dd", { text: clock(c.duration_s) }),
    el("dt", { text: t("qa.call") }), el("dd", { text: `${c.direction} ${c.caller} → ${c.callee}` }),
    data.sample ? el("dt", { text: t("qa.stratum_col") }) : null,
    data.sample ? el("dd", { text: `${t(`qa.stratum.${data.sample.stratum}`)} (p = ${data.sample.probability.toFixed(3)})` }) : null);
  const evaluations = el("ol", { class: "evaluations", "data-testid": "evaluations" });
  const side = el("section", { class: "side" });
  view.replaceChildren(
    el("a", { href: boot.user.role === "seat" ? "/seat/qa" : "/qa", class: "back", text: t("qa.back") }),
    el("div", { class: "review" }, el("div", { class: "left" }, facts, playerBox,
      data.analytics_error ? el("p", { class: "hint", text: t("qa.no_analytics", { reason: data.analytics_error }) }) : null,
      el("h3", { text: t("qa.earlier") }), evaluations), side));
  const player = new Player(playerBox, `/api/qa/calls/${encodeURIComponent(uuid)}/audio`,
                            data.analytics ? data.analytics.segments : [], boot.speeds);
  window.qaPlayer = player;
  // After a submit or a decision only the evaluations and the form change: the recording is
  // not fetched again (every fetch is a playback in the audit log).
  const render = (found) => {
    evaluations.replaceChildren(...found.evaluations.map((e) => evaluationCard(e, refresh)));
    if (!found.evaluations.length) evaluations.append(el("li", { class: "empty", text: t("qa.no_evaluations") }));
    const current = found.evaluations.find((e) => e.status !== "revised");
    side.replaceChildren();
    if (found.may_score && found.form && !current) side.append(scoringForm(found.form, uuid, player, refresh));
  };
  async function refresh() {
    try { render(await getJSON(`/api/qa/calls/${encodeURIComponent(uuid)}`)); } catch (err) { toast(err.message, true); }
  }
  render(data);
  await player.load();
}

function scoringForm(form, uuid, player, refresh) {
  const editor = defectsEditor(player);
  const coaching = el("textarea", { "data-testid": "coaching", rows: 3 });
  const result = el("div", { class: "result", "data-testid": "result" });
  const submit = el("button", { type: "submit", "data-testid": "submit", text: t("qa.submit") });
  return el("form", { class: "scoring", "data-testid": "scoring", onsubmit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    const answer = await send(`/api/qa/calls/${encodeURIComponent(uuid)}/evaluations`, {
      form_id: form.id, form_version: form.version, answers: collectAnswers(form),
      defects: editor.defects, coaching: coaching.value });
    submit.disabled = false;
    if (!answer.ok) { showErrors(form, answer.data); return; }
    const saved = answer.data.evaluation;
    result.textContent = t("qa.submitted", { score: fmtScore(saved.score) });
    toast(result.textContent);
    player.stop();
    await refresh();
  } }, renderForm(form, false), editor.node,
  el("label", { class: "coaching" }, el("h4", { text: t("qa.coaching") }), coaching), submit, result);
}

// -- the daily summary ---------------------------------------------------------------------
async function showSummary(day) {
  const input = el("input", { type: "date", value: day, "data-testid": "summary-day" });
  const box = el("div", { "data-testid": "summary" });
  view.replaceChildren(el("h2", { text: t("qa.summary") }),
    el("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); load(); } },
      el("label", {}, `${t("qa.day")} `, input), el("button", { type: "submit", text: t("qa.load") })), box);
  async function load() {
    let data;
    try { data = await getJSON(`/api/qa/summary/daily?day=${encodeURIComponent(input.value)}`); } catch (err) {
      toast(err.message, true); return;
    }
    const row = (key, line, label) => el("tr", { "data-testid": `summary-${key}` },
      el("td", { text: label }), el("td", { "data-testid": `summary-${key}-scored`, text: String(line.scored) }),
      el("td", { "data-testid": `summary-${key}-average`, text: fmtScore(line.average) }),
      el("td", { "data-testid": `summary-${key}-vetoes`, text: String(line.vetoes) }));
    box.replaceChildren(
      el("table", { class: "list" }, el("thead", {}, el("tr", {}, ...["qa.team", "qa.scored", "qa.average", "qa.vetoes"].map((k) => el("th", { text: t(k) })))),
        el("tbody", {}, ...data.teams.map((l) => row(`team-${l.key}`, l, l.key)), row("total", data.total, t("qa.total")))),
      el("h3", { text: t("qa.top_defects") }),
      el("ol", { "data-testid": "summary-defects" }, ...data.top_defects.map((d) => el("li", { text: `${d.category} (${d.count})` }))),
      el("a", { href: `/api/qa/summary/daily?day=${encodeURIComponent(data.day)}&format=csv`, "data-testid": "summary-csv", text: t("qa.csv") }));
  }
  await load();
}

// -- the seat's own evaluations ------------------------------------------------------------
async function showMine() {
  let data;
  try { data = await getJSON("/api/qa/my/evaluations"); } catch (err) {
    view.replaceChildren(el("p", { class: "error", text: err.message })); return;
  }
  const list = el("ol", { class: "evaluations", "data-testid": "my-evaluations" },
    ...data.evaluations.map((e) => {
      const card = evaluationCard(e, showMine);
      card.prepend(el("a", { href: `/qa/calls/${encodeURIComponent(e.call)}`, text: `${when(e.call_started_at)} · ${clock(e.call_duration_s)}` }));
      return card;
    }));
  if (!data.evaluations.length) list.append(el("li", { class: "empty", text: t("qa.no_evaluations") }));
  view.replaceChildren(el("h2", { text: t("qa.mine") }), list);
}

startPage("qa.title");
({ queue: () => showQueue(boot.day), review: () => showReview(boot.call), summary: () => showSummary(boot.day),
   mine: showMine })[boot.view]();
