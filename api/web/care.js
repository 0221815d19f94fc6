// The five visits (五色五访), colour suggestions and the 369 limits on the page: a line on each card,
// a panel on the household page where a person decides a suggested colour, and two cockpit tables.
// Uses app.js's helpers.
"use strict";

Object.assign(TEXT.zh, {
  visitOverdue: "走访已逾期（应于 {d} 前）", visitDueLine: "上次走访：{last} · 下次应走访：{due}",
  visitOverdueLine: "上次走访：{last} · 应于 {due} 前走访，已逾期",
  careTitle: "走访与颜色", suggestColour: "建议调为{c}（最近 {n} 次真实警报）",
  suggestWhy: "最近的真实警报有 {n} 次，建议把颜色由{from}调为{to}。是否调整由您决定，请写明理由。",
  colourReason: "理由", raiseTo: "调为{c}", keepColour: "保留原色", colourChanged: "颜色已调整",
  suggestionDeclined: "已保留原色", reasonNeeded: "请先写明理由。",
  visitsDueTitle: "逾期走访（五色五访）", noVisitsDue: "没有逾期的走访。", claimedBy: "负责：{who}",
  overdueFor: "逾期 {d}", responsesTitle: "369 限时响应（{m}）",
  responsesHint: "本月警报中，{r} 小时内确认、{h} 小时内上门或处置、{s} 小时内办结的比例。",
  r_group: "分组", r_alerts: "警报", r_respond: "{h} 小时内确认", r_handle: "{h} 小时内处置",
  r_settle: "{h} 小时内办结", by_all: "全社区", csv_responses: "369 限时响应", durDays: "{n} 天",
  saveCall: "电话联系上了", callSaved: "电话联系已记录", call: "电话联系",
  myResponsesTitle: "我负责住户的 369 限时响应（{m}）", myResponsesNone: "本月还没有需要计时的警报。",
  myResponsesLine: "本月 {n} 条警报：{r}；{h}；{s}。", stepShare: "{label} {w}/{m}（{p}%）",
});
Object.assign(TEXT.en, {
  visitOverdue: "Visit overdue (due {d})", visitDueLine: "Last visit: {last} · next due: {due}",
  visitOverdueLine: "Last visit: {last} · was due {due}: overdue",
  careTitle: "Visits and colour", suggestColour: "Suggested: {c} ({n} genuine alerts lately)",
  suggestWhy: "{n} genuine alerts lately: consider changing the colour from {from} to {to}. "
    + "It is your decision; say why.",
  colourReason: "Reason", raiseTo: "Change to {c}", keepColour: "Keep the colour",
  colourChanged: "Colour changed", suggestionDeclined: "Colour kept", reasonNeeded: "Say why first.",
  visitsDueTitle: "Visits overdue (five visits)", noVisitsDue: "No visit is overdue.", claimedBy: "claimed by {who}",
  overdueFor: "overdue {d}", responsesTitle: "369 response limits ({m})",
  responsesHint: "Of this month's alerts, the share acknowledged within {r} h, handled (visited or "
    + "resolved) within {h} h and resolved within {s} h.",
  r_group: "Group", r_alerts: "Alerts", r_respond: "acknowledged ≤ {h} h", r_handle: "handled ≤ {h} h",
  r_settle: "resolved ≤ {h} h", by_all: "Whole community", csv_responses: "369 response limits",
  durDays: "{n} days", saveCall: "Reached them by phone", callSaved: "Call recorded", call: "phone call",
  myResponsesTitle: "369 response limits for my households ({m})", myResponsesNone: "No timed alerts this month yet.",
  myResponsesLine: "{n} alerts this month: {r}; {h}; {s}.", stepShare: "{label} {w}/{m} ({p}%)",
});

// ---- cards ---------------------------------------------------------------------------------
function careLines(home) {
  const lines = [];
  if (home.visit?.overdue) {
    lines.push(el("div", { class: "meta visit-overdue", text: fill("visitOverdue", { d: clock(home.visit.due_at) }) }));
  }
  const s = home.colour_suggestion;
  if (s) lines.push(el("div", { class: "meta suggestion", text: fill("suggestColour", { c: t(s.to_colour), n: s.alerts }) }));
  return lines;
}

// ---- the household page ----------------------------------------------------------------------
function renderHouseholdCare(home) {
  const box = $("household-care");
  const v = home.visit;
  $("household-care-visit").textContent = v ? fill(v.overdue ? "visitOverdueLine" : "visitDueLine",
    { last: clock(v.last_visit_at), due: clock(v.due_at) }) : "";
  $("household-care-visit").classList.toggle("visit-overdue", Boolean(v?.overdue));
  const s = home.colour_suggestion;
  const holder = $("household-care-suggestion");
  // A half-written reason survives the card's periodic refresh while the suggestion is the same.
  if (!s) { holder.replaceChildren(); delete holder.dataset.suggestion; }
  else if (holder.dataset.suggestion !== `${home.id}:${s.id}:${app.lang}`) {
    const typed = holder.dataset.suggestion?.startsWith(`${home.id}:${s.id}:`) ? $("colour-reason")?.value : "";
    holder.dataset.suggestion = `${home.id}:${s.id}:${app.lang}`;
    holder.replaceChildren(suggestionForm(home, s));
    $("colour-reason").value = typed || "";
  }
  box.hidden = !v && !s;
}

function suggestionForm(home, s) {
  const reason = el("input", { id: "colour-reason", maxlength: "2000" });
  const decide = async (change) => {
    const text = reason.value.trim();
    if (!text) { toast(t("reasonNeeded"), { error: true }); reason.focus(); return; }
    const where = `/households/${encodeURIComponent(home.id)}`;
    try {
      const fresh = change
        ? await api(`${where}/colour`, { method: "POST", body: { colour: s.to_colour, reason: text } })
        : await api(`${where}/colour-suggestion/decline`, { method: "POST", body: { reason: text } });
      toast(t(change ? "colourChanged" : "suggestionDeclined"));
      app.homes.set(home.id, fresh);
      $("household-card").replaceChildren(card(fresh, false));
      renderHouseholdCare(fresh);
      $("care-title").focus();
    } catch (e) { toast(problem(e), { error: true }); }
  };
  return el("div", { class: "suggestion-box" },
    el("p", { class: "suggestion", text: fill("suggestWhy", { n: s.alerts, from: t(home.colour), to: t(s.to_colour) }) }),
    el("div", { class: "inline" },
      el("label", { for: "colour-reason", text: t("colourReason") }), reason,
      el("button", { type: "button", class: "primary", onclick: () => decide(true) }, fill("raiseTo", { c: t(s.to_colour) })),
      el("button", { type: "button", onclick: () => decide(false) }, t("keepColour"))));
}

// ---- the dashboard: a worker's own 369 figures (the cockpit is the leaders') ----------------
async function renderMyResponses(visit) {
  const box = $("my-responses");
  if (!app.me || app.me.role === "volunteer" || mayOpenCockpit()) { box.hidden = true; return; }
  let report;
  try { report = await api("/cockpit/responses"); } catch (e) { box.hidden = true; return; }
  if (visit !== app.visit) return;
  const all = report.rows.find((r) => r.by === "all");
  const h = report.limits_h;
  const step = (key, f) => fill("stepShare", { label: fill(`r_${key}`, { h: h[key] }), w: f.within, m: f.measured,
                                                p: f.measured ? Math.round(f.share * 100) : "–" });
  $("my-responses-title").textContent = fill("myResponsesTitle", { m: report.month });
  $("my-responses-line").textContent = all.alerts
    ? fill("myResponsesLine", { n: all.alerts, r: step("respond", all.respond), h: step("handle", all.handle),
                                s: step("settle", all.settle) })
    : t("myResponsesNone");
  $("my-responses-download").replaceChildren(el("button", { type: "button", onclick: downloadResponses },
    `${t("downloadCsv")} · ${t("csv_responses")}`));
  box.hidden = false;
}

// ---- the cockpit -----------------------------------------------------------------------------
async function renderCockpitCare(visit) {
  const [overdue, staff, report] = await Promise.all([
    api("/visits/overdue"), api("/staff").catch(() => []), api("/cockpit/responses")]);
  if (visit !== app.visit) return;
  const names = new Map(staff.map((s) => [s.id, s.name]));
  $("cockpit-visits").replaceChildren(...(overdue.length ? overdue.map((v) => el("li", { class: `alert tier-${v.colour}` },
    el("a", { href: `#/household/${encodeURIComponent(v.household_id)}`, text: v.alias || v.household_id }),
    ` · ${t(v.colour)} · ${gridName(v.grid_id)} · ${t("lastVisit")} ${clock(v.last_visit_at)} · `
      + `${fill("overdueFor", { d: v.overdue_h >= 48 ? fill("durDays", { n: Math.floor(v.overdue_h / 24) })
                                                        : duration(Math.round(v.overdue_h * 60)) })} · `
      + fill("claimedBy", { who: v.claimed_by.map((id) => names.get(id) ?? `#${id}`).join(t("listSep")) || t("none") })))
    : [el("li", { class: "quiet", text: t("noVisitsDue") })]));
  $("responses-title").textContent = fill("responsesTitle", { m: report.month });
  $("cockpit-responses").replaceChildren(responsesTable(report));
  $("responses-download").replaceChildren(el("button", { type: "button", onclick: downloadResponses },
    `${t("downloadCsv")} · ${t("csv_responses")}`));
}

function responsesTable(report) {
  const h = report.limits_h;
  const heads = [t("r_group"), t("r_alerts"), fill("r_respond", { h: h.respond }), fill("r_handle", { h: h.handle }),
                 fill("r_settle", { h: h.settle })];
  const share = (step) => (step.measured ? `${step.within}/${step.measured} · ${Math.round(step.share * 100)}%` : t("none"));
  const label = (r) => (r.by === "grid" ? gridName(r.group) : r.by === "colour" ? t(r.group) : t("by_all"));
  const row = (r) => el("tr", { class: r.by === "all" ? "total" : null },
    ...[label(r), String(r.alerts), share(r.respond), share(r.handle), share(r.settle)].map((c, i) =>
      el(i ? "td" : "th", { scope: i ? null : "row", "data-label": heads[i] }, c)));
  return el("table", { class: "cockpit-table" },
    el("caption", { class: "quiet", text: fill("responsesHint", { r: h.respond, h: h.handle, s: h.settle }) }),
    el("thead", {}, el("tr", {}, ...heads.map((x) => el("th", { scope: "col", text: x })))),
    el("tbody", {}, ...report.rows.map(row)));
}

async function downloadResponses() {
  try {
    const response = await fetch("/cockpit/responses.csv", { headers: { Authorization: `Bearer ${app.token}` } });
    if (!response.ok) throw Object.assign(new Error(response.statusText), { status: response.status });
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: "responses.csv" });
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (e) { toast(problem(e), { error: true }); }
}

// The dashboard's own figures are words built from data: built again in the language chosen
// (app.js's handler, registered first, has switched it by now).
document.addEventListener("DOMContentLoaded", () => {
  $("lang").addEventListener("click", () => {
    if (app.token && !$("dashboard").hidden) renderMyResponses(app.visit);
  });
});
