// The cockpit (社区智治在线) for duty leaders and admins: per grid, what needs someone now.
// Every figure is a link to the list behind it; each table downloads as CSV. Uses app.js's helpers.
"use strict";

Object.assign(TEXT.zh, {
  cockpit: "社区智治在线", cockpitTitle: "社区智治在线", cockpitHint: "各网格此刻的情况；点数字查看明细。", grid: "网格", allGrids: "全社区",
  c_households: "住户", c_open_alerts: "未处理警报", c_past_limit: "超时未确认", c_oldest: "最久未确认",
  c_hubs_offline: "设备离线", c_unwatched: "监测盲区", c_visits_overdue: "走访逾期",
  c_median_ack: "确认用时中位数", c_within_limit: "限时内确认", minutes: "分钟", none: "无",
  trendTitle: "最近 30 天每天发出的警报", trendPeak: "最多 {n} 条/天", trendSummary: "最近 30 天共发出 {n} 条警报，其中误报 {f} 条",
  downloadCsv: "下载 CSV", csv_grids: "各网格", csv_alerts: "未处理警报", csv_households: "需关注住户",
  csv_trend: "每日趋势", behind: "{grid} · {figure}", closeList: "收起", listEmpty: "这一项没有记录。",
  watch_no_consent: "未签知情同意", watch_no_hub: "未装设备", watch_hub_silent: "设备无信号",
  gapsTitle: "值班与代班缺口",
  watch_watched: "监测中", lastVisit: "上次走访", visitDue: "应走访", ageLimit: "已等 {a} 分钟（时限 {l} 分钟）", ageOnly: "已等 {a} 分钟",
});
Object.assign(TEXT.en, {
  cockpit: "Community at a glance", cockpitTitle: "Community at a glance",
  cockpitHint: "Each grid right now; a number opens the list behind it.", grid: "Grid", allGrids: "Whole community",
  c_households: "Households", c_open_alerts: "Open alerts", c_past_limit: "Past their limit",
  c_oldest: "Oldest unacknowledged", c_hubs_offline: "Hubs offline", c_unwatched: "Blind spots",
  c_visits_overdue: "Visits overdue", c_median_ack: "Median time to acknowledge",
  c_within_limit: "Acknowledged in time", minutes: "min", none: "none",
  trendTitle: "Alerts raised per day, last 30 days", trendPeak: "up to {n} a day", trendSummary: "{n} alerts in the last 30 days, {f} false alarms",
  downloadCsv: "Download CSV", csv_grids: "grids", csv_alerts: "open alerts", csv_households: "households needing something",
  csv_trend: "daily trend", behind: "{grid} · {figure}", closeList: "Close", listEmpty: "Nothing here.",
  watch_no_consent: "no consent", watch_no_hub: "no hub", watch_hub_silent: "hub silent",
  gapsTitle: "Gaps in cover",
  watch_watched: "watched", lastVisit: "last visit", visitDue: "visit due", ageLimit: "waiting {a} min (limit {l} min)", ageOnly: "waiting {a} min",
});

// Figures that count alerts, and figures that count households.
const ALERT_FIGURES = ["open_alerts", "past_limit"];
const HOME_FIGURES = ["hubs_offline", "unwatched", "visits_overdue"];

function mayOpenCockpit() {
  return app.me && ["duty_leader", "admin"].includes(app.me.role);
}

async function openCockpit(query) {
  const visit = ++app.visit;
  show("cockpit");
  const view = await api("/cockpit");
  if (visit !== app.visit) return;
  app.cockpit = view;
  $("cockpit-grids").replaceChildren(cockpitTable(view));
  $("cockpit-trend").replaceChildren(trendChart(view.trend));
  $("cockpit-downloads").replaceChildren(...["grids", "alerts", "households", "trend"].map((table) =>
    el("button", { type: "button", "data-table": table, onclick: () => downloadCsv(table) },
       `${t("downloadCsv")} · ${t(`csv_${table}`)}`)));
  // Overdue visits and the 369 figures come after: the table and its lists do not wait for them.
  renderCockpitCare(visit).catch((e) => { if (e.message !== "401") toast(problem(e), { error: true }); });
  const cover = await api("/cover");
  if (visit !== app.visit) return;
  const gaps = app.lang === "zh" ? cover.gaps_zh : cover.gaps;
  $("cockpit-gaps-list").replaceChildren(...gaps.map((gap) => el("li", { text: gap })));
  $("cockpit-gaps").hidden = !cover.gaps.length;
  const params = new URLSearchParams(query || "");
  renderBehind(params.get("grid"), params.get("show"));
  // After a figure's link, the list it stands for is where the reader goes next.
  ($("cockpit-behind").hidden ? $("cockpit-title") : $("cockpit-behind-title")).focus();
}

function totals(view) {
  const sum = (key) => view.grids.flatMap((g) => g[key]);
  const acked = view.grids.reduce((n, g) => n + g.acknowledged, 0);
  const inTime = view.grids.reduce((n, g) => n + (g.within_limit_share ?? 0) * g.acknowledged, 0);
  return { grid_id: "", name: t("allGrids"), households: view.grids.reduce((n, g) => n + g.households, 0),
           open_alerts: sum("open_alerts"), past_limit: sum("past_limit"), hubs_offline: sum("hubs_offline"),
           unwatched: sum("unwatched"), visits_overdue: sum("visits_overdue"),
           oldest_open_min: Math.max(...view.grids.map((g) => g.oldest_open_min ?? -1)),
           median_ack_min: view.median_ack_min, within_limit_share: acked ? inTime / acked : null, total: true };
}

function figureLink(grid, key, ids) {
  if (!ids.length) return el("span", { class: "zero", text: "0" });
  const where = grid.total ? "" : `grid=${encodeURIComponent(grid.grid_id)}&`;
  return el("a", { href: `#/cockpit?${where}show=${key}`, class: key === "past_limit" ? "figure hot" : "figure",
                   "aria-label": `${grid.name} ${t(`c_${key}`)} ${ids.length}`, text: String(ids.length) });
}

function minutes(value) {
  return value === null || value === undefined || value < 0 ? t("none") : `${value} ${t("minutes")}`;
}

function cockpitTable(view) {
  const heads = ["grid", "c_households", "c_open_alerts", "c_past_limit", "c_oldest", "c_hubs_offline",
                 "c_unwatched", "c_visits_overdue", "c_median_ack", "c_within_limit"];
  const row = (g) => {
    const cells = [
      g.total ? el("strong", { text: g.name }) : g.name, String(g.households),
      figureLink(g, "open_alerts", g.open_alerts), figureLink(g, "past_limit", g.past_limit),
      minutes(g.oldest_open_min), figureLink(g, "hubs_offline", g.hubs_offline),
      figureLink(g, "unwatched", g.unwatched), figureLink(g, "visits_overdue", g.visits_overdue),
      minutes(g.median_ack_min),
      g.within_limit_share === null ? t("none") : `${Math.round(g.within_limit_share * 100)}%`];
    return el("tr", { class: g.total ? "total" : null },
      ...cells.map((c, i) => el(i ? "td" : "th", { scope: i ? null : "row", "data-label": t(heads[i]) }, c)));
  };
  return el("table", { class: "cockpit-table" },
    el("caption", { class: "quiet", text: t("cockpitHint") }),
    el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col", text: t(h) })))),
    el("tbody", {}, ...view.grids.map(row), row(totals(view))));
}

function renderBehind(gridId, key) {
  const box = $("cockpit-behind");
  const view = app.cockpit;
  if (!key || !view || ![...ALERT_FIGURES, ...HOME_FIGURES].includes(key)) { box.hidden = true; return; }
  const grids = gridId ? view.grids.filter((g) => g.grid_id === gridId) : view.grids;
  const ids = new Set(grids.flatMap((g) => g[key]));
  const title = fill("behind", { grid: gridId ? gridName(gridId) : t("allGrids"), figure: t(`c_${key}`) });
  let items;
  if (ALERT_FIGURES.includes(key)) {
    items = view.alerts.filter((a) => ids.has(a.id)).map((a) => el("li", { class: `alert tier-${a.colour}` },
      el("a", { href: `#/household/${encodeURIComponent(a.household_id)}`, text: a.household_alias || a.household_id }),
      ` · ${t(a.kind)} · ${t(a.state)} · `, a.limit_min === null ? fill("ageOnly", { a: Math.round(a.age_min) })
        : fill("ageLimit", { a: Math.round(a.age_min), l: a.limit_min })));
  } else {
    items = view.households.filter((h) => ids.has(h.household_id)).map((h) => el("li", { class: `alert tier-${h.colour}` },
      el("a", { href: `#/household/${encodeURIComponent(h.household_id)}`, text: h.alias || h.household_id }),
      ` · ${t(h.colour)} · ${t(`watch_${h.watch}`)} · ${t("lastVisit")} ${clock(h.last_visit_at)}`
        + (h.visit_overdue ? ` · ${t("visitDue")} ${clock(h.visit_due_at)}` : "")));
  }
  $("cockpit-behind-title").textContent = title;
  $("cockpit-behind-list").replaceChildren(...(items.length ? items : [el("li", { class: "quiet", text: t("listEmpty") })]));
  box.hidden = false;
}

function trendChart(trend) {
  const ns = "http://www.w3.org/2000/svg", w = 20, h = 100, peak = Math.max(3, ...trend.map((d) => d.opened));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${trend.length * w} ${h + 20}`);
  svg.setAttribute("role", "img");
  const total = trend.reduce((n, d) => n + d.opened, 0), falseAlarms = trend.reduce((n, d) => n + d.false_alarms, 0);
  svg.setAttribute("aria-label", fill("trendSummary", { n: total, f: falseAlarms }));
  trend.forEach((d, i) => {
    for (const [value, colour] of [[d.opened, "#1565c0"], [d.false_alarms, "#9e9e9e"]]) {
      if (!value) continue;
      const bar = document.createElementNS(ns, "rect"), height = (value / peak) * h;
      bar.setAttribute("x", i * w + 2); bar.setAttribute("width", w - 4);
      bar.setAttribute("y", h - height); bar.setAttribute("height", height); bar.setAttribute("fill", colour);
      svg.append(bar);
    }
    if (i % 7 === (trend.length - 1) % 7) {  // every week, ending on today
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", i * w); label.setAttribute("y", h + 16); label.setAttribute("font-size", "12");
      label.setAttribute("fill", "currentColor");
      label.textContent = d.day.slice(5);
      svg.append(label);
    }
  });
  const scale = document.createElementNS(ns, "text");
  scale.setAttribute("x", 2); scale.setAttribute("y", 12); scale.setAttribute("font-size", "12");
  scale.setAttribute("fill", "currentColor");
  scale.textContent = fill("trendPeak", { n: peak });
  svg.append(scale);
  return svg;
}

async function downloadCsv(table) {
  try {
    const response = await fetch(`/cockpit/${table}.csv`, { headers: { Authorization: `Bearer ${app.token}` } });
    if (!response.ok) throw Object.assign(new Error(response.statusText), { status: response.status });
    const link = el("a", { href: URL.createObjectURL(await response.blob()),
                           download: `cockpit-${table}.csv` });
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (e) { toast(problem(e), { error: true }); }
}
