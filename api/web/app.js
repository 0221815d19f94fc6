// Shouwang's dashboard: plain JavaScript, no build step. Simplified Chinese by default.
"use strict";

const TEXT = {
  zh: {
    title: "守望", skip: "跳到主要内容", logout: "退出", signin: "登录", username: "用户名",
    password: "密码", feed: "实时警报", connecting: "连接中", live: "实时", offline: "已断开",
    noAlerts: "目前没有未处理的警报。", households: "我负责的住户", back: "← 返回总览",
    chartTitle: "最近 7 天的生活迹象（每小时，按种类）", recordVisit: "记录走访或电话联系", visitNote: "情况",
    saveVisit: "我已见到老人", timeline: "时间线（最近 24 小时）", lastSign: "最近生活迹象",
    never: "暂无", fine: "无未处理警报", usualNow: "已安静 {d}；平常这段时间约有 {n} 次生活迹象",
    usualNowQuiet: "已安静 {d}；平常这段时间也少有动静", unwatched: "未在监测：尚未记录知情同意", retired: "已停止关注",
    closedSilent: "{kind}警报已结案（{outcome}），但至今仍无生活迹象", onlyUnwatched: "只看未在监测的住户", alertOpen: "警报：需要上门查看", alertAck: "已有人处理",
    acknowledge: "我来处理", resolve: "结案", outcome: "结果", wrongLogin: "用户名或密码不对",
    acked: "已确认，升级已停止", resolved: "已结案", visitSaved: "走访已记录", away: "外出至",
    red: "红色", orange: "橙色", yellow: "黄色", blue: "蓝色", green: "绿色",
    water: "用水", electricity: "用电", gas: "燃气", door: "开关门", visit: "走访",
    sign_of_life: "生活迹象", alert: "警报", silence: "外出", consent: "知情同意",
    opened: "发出", acknowledged: "已确认", escalated: "已升级", cleared: "自动解除",
    assigned: "已指派", commented: "备注", by: "由", open: "未处理", noReadings: "志愿者不查看读数", noAlertsShown: "志愿者不查看警报",
    elder_fine: "老人安好", needed_help: "需要帮助", hospitalised: "已送医", died: "已去世",
    was_away: "外出未归", device_fault: "设备故障", false_alarm: "误报", cleared_itself: "自行解除",
    inactivity: "长时间无活动", no_water: "长时间未用水", hub_offline: "设备离线",
    water_running: "水长流", gas_running: "燃气长开", help: "求助按钮", unusual_day: "今日异常", since: "自",
    hoursAgo: "小时前",
    minutesAgo: "分钟前", daysAgo: "天前", agoText: "{d}前", durMin: "{m} 分钟", durHour: "{h} 小时",
    durHourMin: "{h} 小时 {m} 分钟", justNow: "刚刚", chartSummary: "最近 7 天共 {n} 次生活迹象",
    lang: "English", chooseOutcome: "请选择结果…", confirmResolve: "确定以“{o}”结案吗？",
    confirm: "确定结案", cancel: "取消", alertsHere: "该住户的警报", noAlertsHere: "该住户没有未处理的警报。",
    actionBy: "{action}（{who}）", colon: "：", listSep: "、", paren: "（{x}）",
    actor_detector: "系统", actor_dispatch: "系统", actor_system: "系统", actor_demo: "演示",
    actor_cli: "命令行", actor_import: "导入", sensingOn: "同意监测", sensingOff: "不同意监测",
    devicesTitle: "设备", devicesHint: "供安装人员查看：每个设备最近一次发来消息的时间和电量。",
    unmappedTitle: "尚未对应的设备", unmappedHint: "这些设备已发来消息，但还没有说明它是哪一种迹象。用命令对应：shouwang hubs devices {hub} add 名称 种类",
    battery: "电量 {p}%", neverHeard: "尚未收到消息", deviceOffline: "已离线", messagesN: "{n} 条消息",
    motion: "人体感应", button: "按钮", activity: "活动", press_help: "一按即求助", press_fine: "平安键",
    press_mixed: "部分按法报平安，其余求助", via: "经",
    chartScroll: "图表可左右滑动", retry: "重试", rowScale: "{kind}（每小时最多 {n} 次）",
    usualLegend: "灰色：平常这个钟点的次数（过去 {d} 天的平均）", usualNotYet: "还没有足够的记录来说明平常的样子。",
    recentLife: "最近一小时内有生活迹象。",
    silenceLine: "已安静 {h}；按平常（过去 {d} 天），这段时间约有 {n} 次生活迹象。",
    alertHead: "警报 #{id}（{kind}）：", did_opened: "{who}发出", did_acknowledged: "{who}已确认",
    did_escalated: "已升级至{to}", escalatedAuto: "自动升级", did_resolved: "{who}结案",
    did_cleared: "自动解除", did_assigned: "{who}指派", did_commented: "{who}备注",
    movedOn: "上一级无人能联系上，立即升级", did_reminded: "第 {n} 次提醒{to}", did_reminded_nobody: "第 {n} 次提醒",
    familyWho: "家属{name}（{relation}）", did_family_called: "已通知{who}",
    did_family_unreached: "{who}回复：联系不上", did_family_delivery_failed: "没能把消息发给{who}",
    colour: "颜色", colour_tier_changed: "{who}将颜色从{from}改为{to}",
    colour_tier_suggested: "建议将颜色从{from}调为{to}（警报较多）", colour_tier_suggestion_declined: "{who}决定保持颜色",
    quote: "“{x}”", resolveNote: "备注（可选）", withNote: "备注：{n}",
    role_grid_head: "网格长", role_grid_member: "网格员", role_caseworker: "社工",
    role_duty_leader: "值班领导", role_admin: "管理员", role_volunteer: "志愿者",
    missingTitle: "找不到这户住户",
    missingText: "没有这户住户，或者它不是您负责的住户。请回到总览，从您负责的住户中选择。",
    backHome: "返回总览",
    err_not_found: "没有找到，或者不在您负责的范围内。", err_forbidden: "您的角色不能做这件事。",
    err_conflict: "已有人处理过这条警报，页面已更新。",
    err_too_many_requests: "尝试次数太多，请稍后再试。", err_network: "连不上服务器，请检查网络后重试。",
    err_invalid: "填写的内容不符合要求，请检查后重试。", err_invalid_request: "填写的内容不符合要求，请检查后重试。",
    err_bad_request: "请求无法读取，请刷新页面后重试。",
    err_internal: "服务器出了问题，已经记录下来；请稍后重试，或告诉管理员。", detail: "详情",
  },
  en: {
    title: "Shouwang", skip: "Skip to main content", logout: "Sign out", signin: "Sign in",
    username: "Username", password: "Password", feed: "Live alerts", connecting: "connecting",
    live: "live", offline: "disconnected", noAlerts: "No open alerts right now.",
    households: "Households I look after", back: "← Back to overview",
    chartTitle: "Signs of life, last 7 days (per hour, by kind)", recordVisit: "Record a visit or a call",
    visitNote: "How it went", saveVisit: "I saw the elder", timeline: "Timeline (last 24 hours)",
    lastSign: "Last sign of life", never: "none yet", fine: "No open alert",
    usualNow: "Quiet for {d}; usually about {n} signs of life in as long",
    usualNowQuiet: "Quiet for {d}; usually little happens at these hours",
    unwatched: "Not watched: no consent to sensing recorded", retired: "No longer watched",
    closedSilent: "{kind} alert closed ({outcome}), yet still no sign of life",
    onlyUnwatched: "Only households not watched",
    alertOpen: "Alert: please check on the elder", alertAck: "Someone is on it",
    acknowledge: "I'm on it", resolve: "Resolve", outcome: "Outcome",
    wrongLogin: "Wrong username or password", acked: "Acknowledged; escalation stopped",
    resolved: "Resolved", visitSaved: "Visit recorded", away: "Away until",
    red: "red", orange: "orange", yellow: "yellow", blue: "blue", green: "green",
    water: "water", electricity: "power", gas: "gas", door: "door", visit: "visit",
    sign_of_life: "signs of life", alert: "alert", silence: "away", consent: "consent",
    opened: "opened", acknowledged: "acknowledged", escalated: "escalated", cleared: "cleared",
    assigned: "assigned", commented: "comment", by: "by", open: "open",
    noReadings: "Volunteers do not see readings", noAlertsShown: "Volunteers do not see alerts",
    elder_fine: "elder fine", needed_help: "needed help", hospitalised: "hospitalised",
    died: "died", was_away: "was away", device_fault: "device fault", false_alarm: "false alarm",
    cleared_itself: "cleared itself",
    inactivity: "no activity", no_water: "no water", hub_offline: "hub offline",
    water_running: "water running", gas_running: "gas left on", help: "help button",
    unusual_day: "unusual day", since: "since",
    hoursAgo: "h ago", minutesAgo: "min ago", daysAgo: "d ago", justNow: "just now",
    agoText: "{d} ago", durMin: "{m} min", durHour: "{h} h", durHourMin: "{h} h {m} min",
    chartSummary: "{n} signs of life in the last 7 days", lang: "中文",
    chooseOutcome: "Choose an outcome…", confirmResolve: "Resolve as “{o}”?", confirm: "Yes, resolve",
    cancel: "Cancel", alertsHere: "This household's alerts", noAlertsHere: "No open alerts here.",
    actionBy: "{action} by {who}", colon: ": ", listSep: ", ", paren: " ({x})",
    actor_detector: "the system", actor_dispatch: "the system", actor_system: "the system",
    actor_demo: "the demo", actor_cli: "the command line", actor_import: "an import",
    sensingOn: "agreed to sensing", sensingOff: "declined sensing",
    devicesTitle: "Devices", devicesHint: "For the installer: when each device last sent a message, and its battery.",
    unmappedTitle: "Devices not mapped yet", unmappedHint: "These devices sent messages but nobody has said which sign they give. Map one with: shouwang hubs devices {hub} add NAME KIND",
    battery: "battery {p}%", neverHeard: "nothing heard yet", deviceOffline: "offline", messagesN: "{n} messages",
    motion: "motion", button: "button", activity: "movement or a press", press_help: "a press asks for help",
    press_fine: "a press says I am fine", press_mixed: "some presses say I am fine, the rest ask for help",
    via: "via ",
    chartScroll: "the chart scrolls sideways", retry: "retry", rowScale: "{kind} (up to {n} an hour)",
    usualLegend: "grey: what is usual at that hour (average of the last {d} days)",
    usualNotYet: "Not enough history yet to say what is usual.", recentLife: "Signs of life within the last hour.",
    silenceLine: "Quiet for {h}; on a usual day (last {d} days) about {n} signs of life come in as long.",
    alertHead: "Alert #{id} ({kind}): ", did_opened: "raised by {who}",
    did_acknowledged: "acknowledged by {who}", did_escalated: "escalated to {to}",
    escalatedAuto: "escalated automatically", did_resolved: "resolved by {who}",
    did_cleared: "ended by itself", did_assigned: "assigned by {who}",
    did_commented: "comment by {who}", quote: "“{x}”", resolveNote: "Note (optional)",
    movedOn: "at once, as nobody on the step before could be reached", did_reminded: "reminder {n} sent to {to}",
    did_reminded_nobody: "reminder {n} sent", familyWho: "family member {name} ({relation})",
    did_family_called: "{who} asked to call or go", did_family_unreached: "{who} answered: could not reach them",
    did_family_delivery_failed: "the message to {who} could not be sent",
    colour: "colour", colour_tier_changed: "colour changed from {from} to {to} by {who}",
    colour_tier_suggested: "colour {to} suggested instead of {from} (alerts piling up)",
    colour_tier_suggestion_declined: "colour kept by {who}",
    withNote: "Note: {n}",
    role_grid_head: "grid head", role_grid_member: "grid member", role_caseworker: "caseworker",
    role_duty_leader: "duty leader", role_admin: "admin", role_volunteer: "volunteer",
    missingTitle: "Household not found",
    missingText: "There is no such household, or it is not one you look after. Go back to the "
      + "overview and choose one of yours.",
    backHome: "Back to overview",
    err_not_found: "Not found, or not one you look after.",
    err_forbidden: "Your role may not do this.",
    err_conflict: "Someone has already acted on this alert; the page is up to date.",
    err_too_many_requests: "Too many attempts; please wait and try again.",
    err_network: "Cannot reach the server; check the connection and try again.",
    err_invalid: "What was entered is not valid; check it and try again.",
    err_invalid_request: "What was entered is not valid; check it and try again.",
    err_bad_request: "The request could not be read; reload the page and try again.",
    err_internal: "Something went wrong on the server; it has been logged. Try again, or tell the administrator.",
    detail: "details",
  },
};
const KIND_COLOURS = { water: "#1e88e5", electricity: "#f9a825", gas: "#e64a19",
                       door: "#6a1b9a", visit: "#2e7d32" };
const CARD_REFRESH_MS = 10000;
const OUTCOMES = ["elder_fine", "needed_help", "hospitalised", "was_away", "device_fault",
                  "false_alarm", "died"];

const app = {
  lang: localStorage.getItem("shouwang.lang") || "zh",
  token: sessionStorage.getItem("shouwang.token"),
  me: null, homes: new Map(), alerts: new Map(), stream: null, lastEventId: null, skew: 0,
  grids: new Map(), liveState: "connecting",
  // What the user has started on an alert survives re-rendering when other alerts change.
  choice: new Map(), notes: new Map(), confirming: new Set(),
  // Bumped at each navigation, so a slow answer for a page the user has left is dropped.
  visit: 0,
  tz: document.querySelector('meta[name="shouwang-timezone"]').content || "Asia/Shanghai",
};
const $ = (id) => document.getElementById(id);
const t = (key) => (TEXT[app.lang][key] ?? key);
const fill = (key, values) => Object.entries(values)
  .reduce((text, [k, v]) => text.replace(`{${k}}`, v), t(key));
// The detector may send its explanation in both languages; older alerts have one text only.
const explain = (alert) => alert.explanations?.[app.lang] ?? alert.explanation;
const gridName = (id) => app.grids.get(id) ?? id;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

async function api(path, options = {}) {
  const headers = { "Accept": "application/json", ...(options.headers || {}) };
  if (app.token) headers.Authorization = `Bearer ${app.token}`;
  if (options.body && typeof options.body !== "string") {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (e) {
    throw Object.assign(new Error(e.message), { code: "network" });
  }
  if (response.status === 401 && path !== "/auth/login") { signOut(false); throw new Error("401"); }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw Object.assign(new Error(problem.error?.message || response.statusText),
                        { code: problem.error?.code, status: response.status });
  }
  return response.status === 204 ? null : response.json();
}

// What went wrong, in the page's language when the page knows the error's code; otherwise the
// server's own message (which says what to do, in English). A refused entry also keeps the
// server's words on what was wrong with it, which the page's language cannot guess.
function problem(e) {
  const known = e.code && TEXT[app.lang][`err_${e.code}`];
  if (!known) return e.message;
  return e.code === "invalid" && e.message ? `${known}（${t("detail")}：${e.message}）` : known;
}

function toast(message, { error = false } = {}) {
  const box = $("toast");
  box.textContent = message;
  box.classList.toggle("error", error);
  box.classList.add("show");
  clearTimeout(app.toastTimer);
  // Errors stay long enough to be read; confirmations get out of the way.
  app.toastTimer = setTimeout(() => box.classList.remove("show"), error ? 6000 : 2500);
}

function clock(iso) {
  if (!iso) return t("never");
  const locale = app.lang === "zh" ? "zh-CN" : "en-GB";
  return new Intl.DateTimeFormat(locale, { timeZone: app.tz, month: "2-digit", day: "2-digit",
                                           hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

function ago(iso) {
  if (!iso) return t("never");
  const minutes = Math.round((Date.now() + app.skew - new Date(iso).getTime()) / 60000);
  const x = minutes < 2 ? t("justNow")
    : minutes < 2880 ? fill("agoText", { d: duration(minutes) })
    : `${Math.round(minutes / 1440)} ${t("daysAgo")}`;
  return clock(iso) + fill("paren", { x });
}

// "7 小时 31 分钟", as the alerts word a silence, so one silence reads the same everywhere.
function duration(minutes) {
  const h = Math.floor(minutes / 60), m = minutes % 60;
  if (!h) return fill("durMin", { m });
  return m ? fill("durHourMin", { h, m }) : fill("durHour", { h });
}

// A "how long ago" that refreshTimes() keeps current while the page stays open.
function agoNode(iso) {
  return el("span", { "data-ago": iso || "", text: ago(iso) });
}

function refreshTimes() {
  document.querySelectorAll("[data-ago]").forEach((n) => { n.textContent = ago(n.dataset.ago); });
}

function setLive(state) {
  app.liveState = state;
  $("live").textContent = t(state);
  $("live").classList.toggle("on", state === "live");
}

function translate() {
  document.documentElement.lang = app.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  $("lang").textContent = t("lang");
  $("lang").lang = app.lang === "zh" ? "en" : "zh-CN";
  setLive(app.liveState);
  document.title = `${t("title")} · ${$("community").textContent}`;
}

function show(view) {
  for (const id of ["signin", "dashboard", "household", "missing", "cockpit"]) $(id).hidden = id !== view;
  $("logout").hidden = view === "signin";
}

// ---- household cards --------------------------------------------------------------------
function cardState(home) {
  if (!home.monitoring) return "unwatched";
  if (!home.open_alert) return home.closed_while_silent ? "closed-silent" : "ok";
  return home.open_alert.state === "open" ? "alert" : "acknowledged";
}

// "Quiet 3 h 27 min; usually about 4 uses in as long": the silence beside what is usual for it.
function usualLine(home) {
  const u = home.usual_now;
  if (!u || u.silent_min < 30 || app.me?.role === "volunteer") return null;
  const key = u.expected >= 1 ? "usualNow" : "usualNowQuiet";
  return el("div", { class: `meta usual-now${u.expected >= 3 ? " unusual" : ""}`,
                     text: fill(key, { d: duration(u.silent_min), n: Math.round(u.expected) }) });
}

function cardStatus(home, state) {
  if (state === "unwatched") return t(home.retired_at ? "retired" : "unwatched");
  if (state === "alert") return `${t("alertOpen")} · ${t(home.open_alert.kind)}`;
  if (state === "acknowledged") return `${t("alertAck")} · ${t(home.open_alert.kind)}`;
  if (state === "closed-silent") {
    const closed = home.closed_while_silent;
    return fill("closedSilent", { kind: t(closed.kind), outcome: t(closed.outcome || "resolved") });
  }
  // A volunteer is never sent alerts: "no open alert" would be a false all-clear (found by a tester).
  return t(app.me?.role === "volunteer" ? "noAlertsShown" : "fine");
}

function card(home, asLink = true) {
  const state = cardState(home);
  const status = cardStatus(home, state);
  const last = app.me?.role === "volunteer" ? [t("noReadings")]
    : [`${t("lastSign")}${t("colon")}`, agoNode(home.last_sign_of_life_at),
       home.last_sign_of_life_kind ? ` · ${t(home.last_sign_of_life_kind)}` : null];
  const where = [home.address, gridName(home.grid_id)].filter(Boolean).join(" · ");
  const body = [
    el("h3", {}, el("span", { text: home.alias || home.id }), " ",
       el("span", { class: "badge", text: t(home.colour) })),
    el("div", { class: "meta", "data-grid": home.grid_id, text: where }),
    el("div", { class: "meta" }, ...last),
    home.away_until ? el("div", { class: "meta", text: `${t("away")} ${clock(home.away_until)}` }) : null,
    usualLine(home),
    ...careLines(home),
    el("div", { class: "status", text: status }),
  ];
  const attrs = { class: `card tier-${home.colour}`, "data-household": home.id,
                  "data-state": state };
  return asLink ? el("a", { ...attrs, href: `#/household/${encodeURIComponent(home.id)}` }, ...body)
                : el("div", attrs, ...body);
}

function renderCards() {
  const onlyUnwatched = $("only-unwatched").checked;
  const homes = [...app.homes.values()].filter((h) => !onlyUnwatched || !h.monitoring);
  // A refresh must not take the keyboard's place away from the card it was on.
  const focused = document.activeElement?.closest?.("#cards [data-household]")?.dataset.household;
  $("cards").replaceChildren(...homes.map((h) => el("li", {}, card(h))));
  if (focused) document.querySelector(`#cards [data-household="${CSS.escape(focused)}"]`)?.focus();
  const unwatched = [...app.homes.values()].filter((h) => !h.monitoring).length;
  $("unwatched-filter").hidden = unwatched === 0 && !onlyUnwatched;
  $("unwatched-count").textContent = fill("paren", { x: unwatched });
}

// What a card shows of a household (the hub's every report changes hub_last_seen_at, not the card).
const shown = (home) => home && JSON.stringify({ ...home, hub_last_seen_at: null });

async function loadHomes({ onlyIfChanged = false } = {}) {
  const page = await api("/households?limit=1000");
  const fresh = new Map(page.items.map((h) => [h.id, h]));
  const same = (a, b) => a.size === b.size && [...a].every(([id, h]) => shown(h) === shown(b.get(id)));
  if (onlyIfChanged && same(fresh, app.homes)) return;
  app.homes = fresh;
  renderCards();
}

async function refreshHome(id, { onlyIfChanged = false } = {}) {
  let fresh;
  try {
    fresh = await api(`/households/${encodeURIComponent(id)}`);
  } catch (e) { return; }
  // A periodic look that finds nothing new leaves the page (and the keyboard's place) alone.
  if (onlyIfChanged && shown(fresh) === shown(app.homes.get(id))) return;
  app.homes.set(id, fresh);
  const node = document.querySelector(`#cards [data-household="${CSS.escape(id)}"]`);
  if (node) node.parentElement.replaceChildren(card(app.homes.get(id)));
  else renderCards();
  if (location.hash === `#/household/${encodeURIComponent(id)}`) {
    $("household-card").replaceChildren(card(app.homes.get(id), false));
    renderHouseholdCare(app.homes.get(id));
  }
}

// ---- alerts: the live feed and the household page share one item ---------------------------
// `where` ("feed" or "home") keeps ids unique while both lists are in the page.
function alertItem(alert, where) {
  const key = (part) => `${where}:${alert.id}:${part}`;
  const chosen = app.choice.get(alert.id) || "";
  const selectId = `${where}-outcome-${alert.id}`;
  const select = el("select", { id: selectId, "data-focus": key("outcome"), required: true,
    onchange: (e) => {
      app.choice.set(alert.id, e.target.value);
      resolve.disabled = false;
      if (app.confirming.delete(alert.id)) renderAlerts();
    } },
    el("option", { value: "", text: t("chooseOutcome"), selected: !chosen, disabled: true }),
    ...OUTCOMES.map((o) => el("option", { value: o, text: t(o), selected: o === chosen })));
  const acknowledge = el("button", { type: "button", class: "primary", "data-action": "acknowledge",
    "data-focus": key("acknowledge"), text: t("acknowledge"), disabled: alert.state !== "open",
    onclick: () => act(alert.id, "acknowledge") });
  const noteId = `${where}-note-${alert.id}`;
  const note = el("input", { id: noteId, class: "resolve-note", "data-focus": key("note"),
    maxlength: 2000, value: app.notes.get(alert.id) || "",
    oninput: (e) => { app.notes.set(alert.id, e.target.value); } });
  const resolve = el("button", { type: "button", "data-action": "resolve", "data-focus": key("resolve"),
    text: t("resolve"), disabled: !chosen,
    onclick: () => { app.confirming.add(alert.id); renderAlerts(key("confirm")); } });
  let confirmation = null;
  if (app.confirming.has(alert.id) && chosen) {
    const written = (app.notes.get(alert.id) || "").trim();
    confirmation = el("div", { class: "confirm", role: "group", "aria-label": t("resolve") },
      el("p", { text: fill("confirmResolve", { o: t(chosen) }) }),
      written ? el("p", { class: "confirm-note", text: fill("withNote", { n: written }) }) : null,
      el("button", { type: "button", class: "primary", "data-action": "confirm-resolve",
                     "data-focus": key("confirm"), text: t("confirm"),
                     onclick: () => act(alert.id, "resolve", { outcome: chosen,
                                                               note: written || null }) }),
      el("button", { type: "button", "data-action": "cancel-resolve", "data-focus": key("cancel"),
                     text: t("cancel"),
                     onclick: () => { app.confirming.delete(alert.id); renderAlerts(key("resolve")); } }));
  }
  return el("li", { class: `alert tier-${alert.colour}`, "data-alert": alert.id,
                    "data-household": alert.household_id, "data-state": alert.state },
    el("strong", {}, el("a", { href: `#/household/${encodeURIComponent(alert.household_id)}`,
                               text: alert.household_alias || alert.household_id }),
       ` · ${t(alert.kind)} · ${stateOf(alert)}`),
    el("p", { class: "why", text: explain(alert) }),
    el("div", { class: "actions" }, acknowledge,
       el("span", { class: "field" },
          el("label", { for: selectId, class: "outcome-label", text: t("outcome") }), select),
       el("span", { class: "field field-grow" },
          el("label", { for: noteId, class: "note-label", text: t("resolveNote") }), note), resolve),
    confirmation);
}

// "Acknowledged (王芳)": the feed says who is on it, so nobody else sets out for the same door.
function stateOf(alert) {
  if (alert.state !== "acknowledged" || !alert.acknowledged_by_name) return t(alert.state);
  return fill("actionBy", { action: t("acknowledged"), who: alert.acknowledged_by_name });
}

// Newest first and nothing else: acknowledging must not move an item under the user's finger.
function unresolved(filter = () => true) {
  return [...app.alerts.values()].filter((a) => a.state !== "resolved" && filter(a))
    .sort((a, b) => b.id - a.id);
}

function renderFeed() {
  const open = unresolved();
  $("feed").replaceChildren(...open.map((a) => alertItem(a, "feed")));
  $("feed-empty").hidden = open.length > 0;
}

function renderHouseholdAlerts() {
  const id = $("household").dataset.household;
  const mine = id ? unresolved((a) => a.household_id === id) : [];
  $("household-alerts").replaceChildren(...mine.map((a) => alertItem(a, "home")));
  $("household-alerts-empty").hidden = mine.length > 0;
}

// Re-render both lists and put focus back where it was (or on `focus`), so a keyboard or
// screen-reader user does not lose their place when the live feed changes.
function renderAlerts(focus) {
  const active = document.activeElement;
  const was = focus || active?.dataset?.focus;
  const caret = !focus && active?.tagName === "INPUT" ? [active.selectionStart, active.selectionEnd]
    : null;
  renderFeed();
  renderHouseholdAlerts();
  if (!was) return;
  const [where, id] = was.split(":");
  const target = [was, `${where}:${id}:outcome`]
    .map((k) => document.querySelector(`[data-focus="${CSS.escape(k)}"]`))
    .find((n) => n && !n.disabled);
  if (target) {
    target.focus();
    if (caret && target.tagName === "INPUT") target.setSelectionRange(...caret);
  }
  else if (!document.activeElement || document.activeElement === document.body) {
    $(where === "home" ? "household-alerts-title" : "feed-title").focus();
  }
}

async function loadAlerts() {
  if (app.me?.role === "volunteer") { $("feed").closest("section").hidden = true; return; }
  const page = await api("/alerts?state=unresolved&limit=200");
  app.alerts = new Map(page.items.map((a) => [a.id, a]));
  renderAlerts();
}

async function act(id, action, body) {
  let alert;
  try {
    alert = await api(`/alerts/${id}/${action}`, { method: "POST", body });
  } catch (e) {
    toast(problem(e), { error: true });
    // Someone else acted first: show the alert as it now is.
    if (e.code === "conflict") {
      alert = await api(`/alerts/${id}`).catch(() => null);
      if (alert) { app.alerts.set(id, alert); renderAlerts(); }
    }
    return;
  }
  app.alerts.set(id, alert);
  if (action === "resolve") { app.choice.delete(id); app.notes.delete(id); app.confirming.delete(id); }
  renderAlerts();
  toast(action === "acknowledge" ? t("acked") : t("resolved"));
  await Promise.all([refreshHome(alert.household_id), refreshTimeline(alert.household_id)]);
}

// ---- server-sent events, read with fetch so the token travels in a header ----------------
async function follow() {
  if (app.me?.role === "volunteer" || app.stream) return;
  const controller = new AbortController();
  app.stream = controller;
  const headers = { Authorization: `Bearer ${app.token}`, Accept: "text/event-stream" };
  if (app.lastEventId) headers["Last-Event-ID"] = app.lastEventId;
  try {
    const response = await fetch("/events", { headers, signal: controller.signal });
    if (!response.ok) throw new Error(String(response.status));
    setLive("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        handleFrame(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch (e) { /* reconnect below */ }
  setLive("offline");
  app.stream = null;
  if (app.token) setTimeout(follow, 1000);
}

function handleFrame(frame) {
  let event = "message", data = "";
  for (const line of frame.split("\n")) {
    if (line.startsWith("id:")) app.lastEventId = line.slice(3).trim();
    else if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (!data) return;
  const body = JSON.parse(data);
  if (event === "alert") {
    app.alerts.set(body.alert.id, body.alert);
    renderAlerts();
    refreshHome(body.alert.household_id);
    refreshTimeline(body.alert.household_id);
  } else if (event === "household") {
    refreshHome(body.household_id);
    refreshTimeline(body.household_id);
  }
}

// ---- the household page -------------------------------------------------------------------
// One row per kind, each on its own scale (gas must not drown water); behind the bars, what is
// usual for this home at that hour of the day; over the end, the silence going on now.
function chart(activity) {
  const hours = activity.hours, w = 6, rowH = 40, labelH = 18, bottom = 24;
  const usual = activity.usual || {};
  const kinds = activity.kinds.filter((k) => activity.counts[k].some(Boolean) || (usual[k] || []).some(Boolean));
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const add = (tag, attrs) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    svg.append(node);
    return node;
  };
  const height = kinds.length * (rowH + labelH) + bottom;
  const sum = kinds.reduce((n, k) => n + activity.counts[k].reduce((a, b) => a + b, 0), 0);
  svg.setAttribute("viewBox", `0 0 ${hours * w} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", fill("chartSummary", { n: sum }));
  const start = new Date(activity.start).getTime();
  const hourOf = new Intl.DateTimeFormat("en-GB", { timeZone: app.tz, hour: "2-digit", hour12: false });
  const clockHours = Array.from({ length: hours }, (_, i) => Number(hourOf.format(new Date(start + i * 3600000))) % 24);
  const silenceFrom = activity.silence && activity.silence.hours >= 1
    ? (new Date(activity.silence.since).getTime() - start) / 3600000 * w : null;
  if (silenceFrom !== null) {
    add("rect", { x: Math.max(0, silenceFrom), y: 0, width: hours * w - Math.max(0, silenceFrom),
                  height: height - bottom, fill: "#c62828", "fill-opacity": "0.08", class: "silence" });
  }
  kinds.forEach((k, row) => {
    const base = row * (rowH + labelH) + labelH + rowH;
    const rates = usual[k] || [];
    const peak = Math.max(1, ...activity.counts[k], ...rates.map((r) => Math.ceil(r)));
    const label = add("text", { x: hours * w - 2, y: base - rowH - 4, "font-size": "13", fill: "currentColor",
                                "text-anchor": "end" });
    label.textContent = fill("rowScale", { kind: t(k), n: peak });
    for (let i = 0; i < hours; i++) {
      const expected = rates[clockHours[i]] || 0;
      if (expected) {
        add("rect", { x: i * w, y: base - (expected / peak) * rowH, width: w, height: (expected / peak) * rowH,
                      fill: "#8a8a8a", "fill-opacity": "0.3", class: "usual" });
      }
      const n = activity.counts[k][i];
      if (n) {
        add("rect", { x: i * w + 1, y: base - (n / peak) * rowH, width: w - 2, height: (n / peak) * rowH,
                      fill: KIND_COLOURS[k] || "#777" });
      }
    }
    add("line", { x1: 0, x2: hours * w, y1: base + 0.5, y2: base + 0.5, stroke: "#bbb" });
  });
  for (let i = 0; i < hours; i++) {
    // The first day gets a label only if it is not about to collide with the next midnight's.
    if (clockHours[i] !== 0 && !(i === 0 && clockHours[i] < 17)) continue;
    const moment = new Date(start + i * 3600000);
    add("line", { x1: i * w, x2: i * w, y1: 0, y2: height - bottom, stroke: "#bbb" });
    const label = add("text", { x: i * w + 2, y: height - 6, "font-size": "15", fill: "currentColor" });
    label.textContent = new Intl.DateTimeFormat(app.lang === "zh" ? "zh-CN" : "en-GB",
      { timeZone: app.tz, month: "numeric", day: "numeric" }).format(moment);
  }
  return svg;
}

// "Quiet for 5 hours; on a usual day about 9 signs of life come in as long": the chart's point.
function silenceLine(activity) {
  const s = activity.silence;
  if (!s) return activity.usual_days ? "" : t("usualNotYet");
  if (s.hours < 1) return t("recentLife");
  return fill("silenceLine", { h: duration(Math.round(s.hours * 60)), n: Math.round(s.expected),
                               d: activity.usual_days });
}

function who(d) {
  if (d.family) return fill("familyWho", d.family);  // a relative who answered through their link
  return d.actor_name || TEXT[app.lang][`actor_${d.actor}`] || d.actor;
}

// "王建国（网格长）、周主任（值班领导）": whom an escalation reached, when dispatch recorded it.
function reached(people) {
  return people.map((p) => p.name + (p.role ? fill("paren", { x: t(`role_${p.role}`) }) : ""))
    .join(t("listSep"));
}

function alertLine(d) {
  let did;
  if (d.action === "escalated") {
    did = (d.escalated_to?.length ? fill("did_escalated", { to: reached(d.escalated_to) })
      : t("escalatedAuto")) + (d.moved_on ? ` · ${t("movedOn")}` : "");
  } else if (d.action === "reminded") {
    did = d.reminded?.length ? fill("did_reminded", { n: d.reminder, to: reached(d.reminded) })
      : fill("did_reminded_nobody", { n: d.reminder });
  } else {
    did = fill(`did_${d.action}`, { who: who(d) });
  }
  return fill("alertHead", { id: d.alert_id, kind: t(d.alert_kind) }) + did
    // "Ended by itself" already says what a cleared alert's outcome would repeat.
    + (d.outcome && d.action !== "cleared" ? ` · ${t(d.outcome)}` : "") + (d.note ? ` · ${fill("quote", { x: d.note })}` : "");
}

// English lines start with a capital, like sentences; Chinese has none to give.
const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);

function timelineItem(event) {
  const d = event.details || {};
  const colon = t("colon");
  let text;
  if (event.kind === "sign_of_life") {
    text = t("sign_of_life") + colon + Object.entries(d.kinds || {})
      .map(([k, n]) => (n > 1 ? `${t(k)} ×${n}` : t(k))).join(t("listSep"));
  } else if (event.kind === "alert") {
    text = alertLine(d);
  } else if (event.kind === "visit") {
    text = t(d.how === "call" ? "call" : "visit") + (d.staff_name ? fill("paren", { x: d.staff_name }) : "")
      + (d.note ? colon + d.note : "");
  } else if (event.kind === "silence") {
    text = `${t("away")} ${clock(new Date(d.until * 1000).toISOString())}`;
  } else if (event.kind === "consent") {
    text = t("consent") + colon + t(d.sensing ? "sensingOn" : "sensingOff");
  } else if (event.kind === "colour") {
    text = fill(`colour_${d.action}`, { who: who(d), from: t(d.from), to: t(d.to) })
      + (d.reason ? ` · ${fill("quote", { x: d.reason })}` : "");
  } else {
    text = t(event.kind) + colon + event.text;
  }
  return el("li", { "data-kind": event.kind }, el("time", { datetime: event.at, text: clock(event.at) }),
            " ", sentence(text));
}

// The installer's view: each mapped device's last message and battery, and those not mapped yet.
function deviceItem(d) {
  const parts = [el("strong", { text: d.device })];
  if (d.sensor) {
    const [, name] = d.sensor.split(".");
    const press = d.press ? fill("paren", { x: t(`press_${d.press.startsWith("fine:") ? "mixed" : d.press}`) }) : "";
    parts.push(" " + t(d.kind) + (name ? ` ${name}` : "") + press);
  }
  parts.push(t("colon"), d.last_message_at ? agoNode(d.last_message_at) : t("neverHeard"));
  if (d.battery !== null) parts.push(" · " + fill("battery", { p: Math.round(d.battery * 100) }));
  if (d.online === false) parts.push(" · " + t("deviceOffline"));
  if (!d.sensor) parts.push(" · " + fill("messagesN", { n: d.messages }) + (d.bridge ? ` · ${t("via")}${d.bridge}` : ""));
  return el("li", { "data-online": d.online === false ? "no" : null }, ...parts);
}

function renderDevices(devices) {
  $("devices").replaceChildren(...devices.mapped.map(deviceItem));
  $("unmapped").replaceChildren(...devices.unmapped.map(deviceItem));
  const hub = devices.unmapped[0]?.hub_id ?? "HUB";
  $("unmapped-hint").textContent = fill("unmappedHint", { hub });
  $("unmapped-block").hidden = !devices.unmapped.length;
  $("devices").closest("section").hidden = !devices.mapped.length && !devices.unmapped.length;
}

const path = (id) => `/households/${encodeURIComponent(id)}`;
const current = () => $("household").dataset.household;

// Empty the household page, so nothing of the last household shows while (or instead of) the next.
function clearHousehold() {
  delete $("household").dataset.household;
  for (const id of ["household-title", "household-card", "household-alerts", "chart", "legend",
                    "timeline", "chart-silence", "household-care-visit", "household-care-suggestion", "devices",
                    "unmapped"]) $(id).replaceChildren();
  delete $("household-care-suggestion").dataset.suggestion;
  $("household-care").hidden = true;
  $("devices").closest("section").hidden = true;
  $("visit-note").value = "";
}

async function refreshTimeline(id) {
  if ($("household").hidden || current() !== id || app.me?.role === "volunteer") return;
  try {
    const timeline = await api(`${path(id)}/timeline`);
    if (current() === id) $("timeline").replaceChildren(...timeline.events.map(timelineItem));
  } catch (e) { /* the next change or visit tries again */ }
}

async function openHousehold(id) {
  const visit = ++app.visit;
  if (current() !== id) clearHousehold();
  let home;
  try {
    home = await api(path(id));
  } catch (e) {
    if (visit !== app.visit) return;
    if (e.status === 404 || e.status === 403) { showMissing(); return; }
    throw e;
  }
  if (visit !== app.visit) return;
  show("household");
  app.homes.set(id, home);
  $("household-title").textContent = home.alias || home.id;
  $("household-card").replaceChildren(card(home, false));
  renderHouseholdCare(home);
  $("household").dataset.household = id;
  const readable = app.me?.role !== "volunteer";
  $("chart").closest("section").hidden = !readable;
  $("timeline").closest("section").hidden = !readable;
  $("household-alerts").closest("section").hidden = !readable;
  renderAlerts();
  if (readable) {
    const [activity, timeline, alerts, devices] = await Promise.all([
      api(`${path(id)}/activity?days=7`), api(`${path(id)}/timeline`),
      api(`/alerts?state=unresolved&household=${encodeURIComponent(id)}&limit=50`),
      api(`${path(id)}/devices`)]);
    if (visit !== app.visit) return;
    for (const a of alerts.items) app.alerts.set(a.id, a);
    renderAlerts();  // keeps the focus of someone already working on an alert
    $("chart").replaceChildren(chart(activity));
    $("chart").scrollLeft = $("chart").scrollWidth;  // on a phone, start at the latest hours
    $("chart-silence").textContent = silenceLine(activity);
    $("legend").replaceChildren(el("li", {}, el("span", { "data-kind": "usual" }),
                                   fill("usualLegend", { d: activity.usual_days })));
    $("legend").querySelectorAll("span").forEach((s) => { s.style.background = "rgba(138, 138, 138, 0.45)"; });
    $("timeline").replaceChildren(...timeline.events.map(timelineItem));
    renderDevices(devices);
  }
  $("household-title").focus?.();
}

// Another grid's household answers "not found" too, so ids reveal nothing; the page says both.
function showMissing() {
  clearHousehold();
  show("missing");
  $("missing-title").focus();
}

// ---- navigation and sign-in -------------------------------------------------------------------
async function route() {
  if (!app.token) { show("signin"); $("username").focus(); return; }
  const match = location.hash.match(/^#\/household\/(.+)$/);
  const cockpit = location.hash.match(/^#\/cockpit(?:\?(.*))?$/);
  try {
    if (match) await openHousehold(decodeURIComponent(match[1]));
    else if (cockpit && mayOpenCockpit()) await openCockpit(cockpit[1]);
    else {
      app.visit++;
      show("dashboard");
      renderMyResponses(app.visit);  // its own figures, after the cards and the feed, never before
      await Promise.all([loadHomes(), loadAlerts()]);
    }
  } catch (e) { if (e.message !== "401") toast(problem(e), { error: true }); }
}

function measureSkew() {
  return api("/health").then((h) => { app.skew = new Date(h.time).getTime() - Date.now(); })
    .catch(() => {});
}

async function start() {
  try {
    app.me = await api("/auth/me");
  } catch (e) { show("signin"); return; }
  $("who").textContent = app.me.name;
  $("cockpit-link").hidden = !mayOpenCockpit();
  try {
    app.grids = new Map((await api("/grids")).map((g) => [g.id, g.name]));
  } catch (e) { /* cards fall back to the grid id */ }
  // "How long ago" is measured on the server's clock (a demo's clock runs fast): the first render
  // waits for that measurement, or it would count from the browser's own clock once.
  await measureSkew();
  follow();
  await route();
}

function signOut(tellServer = true) {
  if (tellServer && app.token) api("/auth/logout", { method: "POST" }).catch(() => {});
  app.token = null; app.me = null;
  sessionStorage.removeItem("shouwang.token");
  if (app.stream) app.stream.abort();
  $("who").textContent = "";
  $("cockpit-link").hidden = true;
  show("signin");
}

document.addEventListener("DOMContentLoaded", () => {
  $("community").textContent = document.querySelector('meta[name="shouwang-community"]').content;
  translate();
  $("lang").addEventListener("click", () => {
    app.lang = app.lang === "zh" ? "en" : "zh";
    localStorage.setItem("shouwang.lang", app.lang);
    translate();
    if (app.token) {
      renderCards(); renderAlerts();
      // Pages built from data are built again in the new language; the not-found page is all
      // translated text already (re-fetching it raced the user's next step and stole the focus).
      if (!$("household").hidden || !$("cockpit").hidden) route();
    }
  });
  $("logout").addEventListener("click", () => signOut(true));
  $("only-unwatched").addEventListener("change", renderCards);
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    try {
      const session = await api("/auth/login", { method: "POST",
        body: { username: $("username").value.trim(), password: $("password").value } });
      app.token = session.token;
      sessionStorage.setItem("shouwang.token", app.token);
      $("password").value = "";
      await start();
    } catch (e) {
      // A wrong password is the usual reason; waiting or the network are said as such.
      const other = e.code === "too_many_requests" || e.code === "network";
      $("signin-error").textContent = other ? problem(e) : t("wrongLogin");
    }
  });
  $("visit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = $("household").dataset.household;
    try {
      const how = event.submitter?.dataset.how || "visit";  // a call counts for 369, not as a visit
      await api(`/households/${encodeURIComponent(id)}/visits`, { method: "POST",
        body: { note: $("visit-note").value || null, how } });
      $("visit-note").value = "";
      toast(t(how === "call" ? "callSaved" : "visitSaved"));
      await openHousehold(id);
    } catch (e) { toast(problem(e), { error: true }); }
  });
  window.addEventListener("hashchange", route);
  // A sign of life reaches the cards within seconds of being stored (the detector saves a
  // household's status a few seconds after its readings arrive; signs are not live events).
  setInterval(() => {
    if (!app.token || document.hidden) return;
    if (!$("dashboard").hidden) loadHomes({ onlyIfChanged: true }).catch(() => {});
    else if (!$("household").hidden && current()) refreshHome(current(), { onlyIfChanged: true });
  }, CARD_REFRESH_MS);
  // "3 min ago" must not stay "3 min ago"; the server's clock is re-read too (a demo's runs fast).
  setInterval(() => { if (app.token) measureSkew().then(refreshTimes); }, 20000);
  if (app.token) start(); else show("signin");
});
