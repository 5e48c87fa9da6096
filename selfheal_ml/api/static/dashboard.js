// The admin dashboard: reads the JSON routes every few seconds and draws them. Plain browser
// JavaScript, no build step; the charts use the vendored uPlot (static/vendor/uplot).
"use strict";

const TOKEN_KEY = "selfheal-admin-token";
const byId = id => document.getElementById(id);
const tokenInput = byId("token");
const tokenPanel = byId("token-panel");

class Unauthorized extends Error {}

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

function showTokenPanel(asking) {
  tokenPanel.hidden = false;
  tokenPanel.classList.toggle("asking", asking);
  byId("token-why").firstChild.textContent = asking
    ? (token() ? "The service refused this token (HTTP 401). " : "The service asks for its admin token (HTTP 401). ")
      + "The admin panels need the value of "
    : "The admin panels need the service's admin token: the value of ";
  if (asking) tokenInput.focus();
}

byId("token-button").addEventListener("click", () => {
  if (tokenPanel.hidden) showTokenPanel(false); else tokenPanel.hidden = true;
});
byId("token-form").addEventListener("submit", event => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
  tokenInput.value = "";
  tokenPanel.hidden = true;
  refresh();
});
byId("token-forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); refresh(); });

function cls(status) {
  return {healthy: "ok", running: "ok", resolved: "ok", recovered: "ok", executed: "ok", worked: "ok",
          degraded: "warn", diagnosed: "warn", repairing: "warn", verifying: "warn", warning: "warn", open: "warn",
          down: "bad", failed: "bad", critical: "bad", escalated: "bad", denied: "bad", refused: "bad"}[status] || "muted";
}
function esc(text) { const d = document.createElement("div"); d.textContent = String(text); return d.innerHTML; }
function stat(label, value) { return `<div><div class="big">${esc(value)}</div><div class="muted">${esc(label)}</div></div>`; }
function when(iso) { return iso ? iso.slice(0, 16).replace("T", " ") : "–"; }
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.abs(seconds);
  return s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

async function request(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(path, Object.assign({}, options, {headers}));
  if (response.status === 401) throw new Unauthorized(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}
const getJson = path => request(path);

// ---- header, health, agents, repairs (GET /admin/system/dashboard) ----
function uptimeText(ms) { return duration(ms / 1000); }

async function drawDashboard() {
  const d = await getJson("/admin/system/dashboard");
  byId("system").innerHTML = `<span class="${cls(d.system.status)}">${esc(d.system.status)}</span>` +
    ` · v${esc(d.system.version)} · up ${esc(uptimeText(d.system.uptime))}`;
  byId("agents").innerHTML = Object.entries(d.agents).map(([name, a]) =>
    `<tr><td>${esc(name)}</td><td class="${a.enabled ? (a.running ? "ok" : "bad") : "muted"}">${a.enabled ? (a.running ? "running" : "stopped") : "disabled"}</td></tr>`).join("");
  byId("overall").innerHTML = `<span class="${cls(d.health.overall)}">${esc(d.health.overall)}</span>`;
  byId("platforms").innerHTML = Object.entries(d.health.platforms).map(([name, s]) =>
    `<tr><td>${esc(name)}</td><td class="${cls(s)}">${esc(s)}</td></tr>`).join("") || `<tr><td class="muted">no health checks yet</td></tr>`;
  byId("alert-counts").innerHTML =
    stat("firing", d.alerts.active) + stat("raised in total", d.alerts.total) + stat("resolved by themselves", d.alerts.autoResolved);
  byId("repairs").innerHTML = stat("executed", d.repairs.total) + stat("success rate", d.repairs.successRate || "–") +
    stat("awaiting verification", d.repairs.active) + stat("awaiting approval", d.repairs.pendingApprovals);
}

// ---- pending approvals (GET /admin/repairs/pending, POST .../approve|deny) ----
function parameters(params) {
  const entries = Object.entries(params || {});
  return entries.length ? entries.map(([k, v]) => `${esc(k)}=${esc(v)}`).join("<br>") : "–";
}

async function drawApprovals() {
  const pending = await getJson("/admin/repairs/pending");
  byId("approvals-section").classList.toggle("has-pending", pending.length > 0);
  const head = "<tr><th>action</th><th>target</th><th>parameters</th><th>incident</th><th>requested</th><th>expires</th><th></th></tr>";
  byId("approvals").innerHTML = head + (pending.map(p => {
    const left = (Date.parse(p.expiresAt) - Date.now()) / 1000;
    return `<tr><td><strong>${esc(p.action)}</strong></td><td>${esc(p.target)}</td>` +
      `<td class="params">${parameters(p.params)}</td><td><code>${esc(p.incidentId)}</code></td>` +
      `<td>${esc(when(p.requestedAt))}</td><td title="${esc(p.expiresAt)}">${esc(when(p.expiresAt))}` +
      `${left > 0 && left < 86400 ? ` (in ${esc(duration(left))})` : ""}</td>` +
      `<td><button class="approve" data-id="${esc(p.id)}" data-verb="approve">approve</button> ` +
      `<button class="deny" data-id="${esc(p.id)}" data-verb="deny">deny</button></td></tr>`;
  }).join("") || `<tr><td class="muted" colspan="7">nothing waiting</td></tr>`);
}

byId("approvals").addEventListener("click", async event => {
  const button = event.target.closest("button[data-verb]");
  if (!button) return;
  const verb = button.dataset.verb;
  button.disabled = true;
  try {
    const attempt = await request(`/admin/repairs/${encodeURIComponent(button.dataset.id)}/${verb}`,
      {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({by: "dashboard"})});
    const outcome = attempt.result ? (attempt.result.ok ? "ran and succeeded" : `ran and failed: ${attempt.result.detail}`) : attempt.reason;
    byId("approval-result").innerHTML = `${esc(verb === "approve" ? "approved" : "denied")}: ` +
      `${esc(attempt.action)} on ${esc(attempt.target)} – <span class="${cls(attempt.decision)}">${esc(attempt.decision)}</span> (${esc(outcome)})`;
  } catch (err) {
    handleError(err);
  }
  refresh();
});

// ---- incidents (GET /v1/incidents, /v1/incidents/{id}) ----
function escalations(detail) {
  const found = (detail.transitions || []).filter(t => t.status === "escalated");
  return found.length ? found.map(t => esc(t.reason || "escalated")).join("<br>") : "–";
}

async function drawIncidents() {
  const incidents = await getJson("/v1/incidents?limit=10");
  const details = await Promise.all(incidents.map(i =>
    getJson(`/v1/incidents/${encodeURIComponent(i.incident_id)}`).catch(() => i)));
  const head = "<tr><th>opened</th><th>root cause</th><th>platforms</th><th>state</th><th>revision</th>" +
    "<th>planned repair</th><th>escalations</th><th>resolved by</th><th>time to repair</th></tr>";
  byId("incidents").innerHTML = head + (incidents.map((i, index) => {
    const d = i.diagnosis || {};
    const revisions = (details[index].revisions || []).length || d.revision || 0;
    return `<tr title="${esc(d.summary || "")}"><td>${esc(when(i.opened_at))}</td>` +
      `<td>${esc(i.root_cause || "unknown")}</td>` +
      `<td>${esc(i.platforms.join(", ") || "–")}</td><td class="${cls(i.status)}">${esc(i.status)}</td>` +
      `<td class="num">${esc(revisions || "–")}</td><td>${esc(d.strategy || "–")}</td>` +
      `<td>${escalations(details[index])}</td>` +
      `<td>${esc(i.resolved_by || "–")}</td><td>${esc(duration(i.time_to_repair_s))}</td></tr>`;
  }).join("") || `<tr><td class="muted" colspan="9">no incidents yet</td></tr>`);
}

// ---- alerts grouped by name and platform (GET /v1/alerts) ----
const SEVERITY_RANK = {critical: 0, warning: 1, info: 2};

async function drawAlerts() {
  const alerts = await getJson("/v1/alerts?status=firing&limit=1000");
  const groups = new Map();
  for (const a of alerts) {
    const labels = a.labels || {};
    const platform = labels.platform || labels.target || labels.instance || "–";
    const key = `${labels.alertname}\u0000${platform}`;
    const group = groups.get(key) || {name: labels.alertname, platform, count: 0, severity: a.severity, latest: a};
    group.count += 1;
    if ((SEVERITY_RANK[a.severity] ?? 3) < (SEVERITY_RANK[group.severity] ?? 3)) group.severity = a.severity;
    groups.set(key, group);
  }
  const rows = [...groups.values()].sort((a, b) =>
    (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) || b.count - a.count);
  const head = "<tr><th>severity</th><th>alert</th><th>platform</th><th>firing</th><th>latest</th><th>since</th></tr>";
  byId("alerts").innerHTML = head + (rows.map(g => {
    const notes = g.latest.annotations || {};
    // a sign a running repair's side effect explains: kept as info, the repair named
    const summary = (notes.summary || "") + (notes.inhibited_by ? ` (inhibited: ${notes.inhibited_by})` : "");
    return `<tr><td class="${cls(g.severity)}">${esc(g.severity)}</td><td>${esc(g.name)}</td>` +
      `<td>${esc(g.platform)}</td><td class="num">${esc(g.count)}</td><td class="muted">${esc(summary)}</td>` +
      `<td>${esc(when(g.latest.startsAt || g.latest.starts_at))}</td></tr>`;
  }).join("") || `<tr><td class="muted" colspan="6">nothing firing</td></tr>`);
}

// ---- security decisions and optimisation findings ----
async function drawSecurity() {
  const decisions = await getJson("/v1/security/decisions");
  const head = "<tr><th>address</th><th>action</th><th>reason</th><th>events</th>" +
    "<th>first seen</th><th>until</th><th>evidence</th></tr>";
  // the newest evidence line is shown, every line (up to five) on hover; evidence is attacker
  // text, so the attribute gets its quotes escaped too (esc() escapes <, > and & only)
  byId("security").innerHTML = head + (decisions.map(d => {
    const lines = d.evidence || [];
    return `<tr><td><code>${esc(d.ip)}</code></td><td>${esc(d.action)}</td><td>${esc(d.reason)}</td>` +
      `<td class="num">${esc(d.event_count)}</td><td>${esc(when(d.first_seen))}</td>` +
      `<td>${esc(when(d.until))}</td>` +
      `<td class="muted" title="${esc(lines.join("\n")).replaceAll('"', "&quot;")}"><code>${esc(lines[lines.length - 1] || "")}</code></td></tr>`;
  }).join("") || `<tr><td class="muted" colspan="7">no bans in force</td></tr>`);
}

async function drawOptimizations() {
  const found = await getJson("/v1/optimizations");
  const head = "<tr><th>target</th><th>finding</th><th>what</th></tr>";
  byId("optimizations").innerHTML = head + (found.items.map(f =>
    `<tr><td>${esc(f.target)}</td><td>${esc(f.kind)}</td><td>${esc(f.summary || "")}</td></tr>`).join("")
    || `<tr><td class="muted" colspan="3">no findings</td></tr>`);
}

// ---- repair success by strategy (GET /v1/repairs/stats) ----
async function drawStrategies() {
  const stats = await getJson("/v1/repairs/stats");
  const rows = stats.strategies.filter(s => s.attempts > 0);
  const svg = byId("strategies");
  const left = 250, right = 880, rowHeight = 28, top = 10;
  const height = top + rowHeight * Math.max(rows.length, 1) + 24;
  svg.setAttribute("viewBox", `0 0 1000 ${height}`);
  const x = rate => left + rate * (right - left);
  let out = "";
  rows.forEach((s, index) => {
    const y = top + index * rowHeight, mid = y + rowHeight / 2;
    const low = x(s.interval.low), high = x(s.interval.high);
    out += `<text x="${left - 8}" y="${mid + 5}" text-anchor="end" font-size="14">${esc(s.strategy)}</text>`;
    out += `<rect x="${left}" y="${y + 6}" width="${(x(s.success_rate) - left).toFixed(1)}" height="${rowHeight - 12}" fill="#8fb3ea"/>`;
    out += `<path stroke="#1d2330" stroke-width="1.5" fill="none" d="M${low.toFixed(1)},${mid}H${high.toFixed(1)}M${low.toFixed(1)},${mid - 6}V${mid + 6}M${high.toFixed(1)},${mid - 6}V${mid + 6}"/>`;
    out += `<text x="${right + 10}" y="${mid + 5}" font-size="13" fill="#5b6477">${esc(`${s.successes}/${s.attempts} · ${Math.round(100 * s.success_rate)} %`)}</text>`;
  });
  if (!rows.length) out += `<text x="${left}" y="${top + 18}" font-size="14" fill="#8a93a6">no verified repairs yet</text>`;
  const axis = height - 14;
  out += `<path stroke="#ccd" d="M${left},${top}V${axis - 6}M${right},${top}V${axis - 6}"/>`;
  out += [0, 0.5, 1].map(t => `<text x="${x(t)}" y="${axis + 8}" text-anchor="middle" font-size="12" fill="#8a93a6">${Math.round(100 * t)} %</text>`).join("");
  svg.innerHTML = out;
  const decisions = Object.entries(stats.decisions).filter(([, count]) => count > 0);
  byId("decisions").innerHTML = "audit log, every decision so far: " +
    (decisions.map(([kind, count]) => `${esc(kind.replace(/_/g, " "))} ${esc(count)}`).join(" · ") || "none yet");
}

// ---- the series chart (GET /v1/series, /v1/series/{name}, /v1/anomalies, /v1/forecast/{name}) ----
const seriesSelect = byId("series");
let chart = null;
let chosenByUser = location.hash.startsWith("#series=");
seriesSelect.addEventListener("change", () => {
  chosenByUser = true;
  location.hash = "series=" + encodeURIComponent(seriesSelect.value);
  drawSeries();
});

function unitOf(name) {
  const base = name.split("{")[0];
  const units = [["_percent", "%"], ["_ratio", "ratio"], ["_seconds", "s"], ["_ms", "ms"], ["_bytes", "bytes"],
                 ["_per_second", "per s"], ["_total", "count"], ["_count", "count"], ["_connections", "connections"]];
  const found = units.find(([suffix]) => base.endsWith(suffix) || base.includes(suffix + "_"));
  return found ? found[1] : "value";
}

async function mostAnomalous() {
  const recent = await getJson("/v1/anomalies?limit=200");
  if (!recent.length) return null;
  const newest = Math.max(...recent.map(a => Date.parse(a.ts)));
  const now = recent.filter(a => newest - Date.parse(a.ts) <= 30 * 60 * 1000);
  now.sort((a, b) => b.score - a.score);
  return now[0];
}

async function loadSeries() {
  const names = await getJson("/v1/series?limit=5000");
  const linked = location.hash.startsWith("#series=") ? decodeURIComponent(location.hash.slice(8)) : "";
  let current = chosenByUser ? (seriesSelect.value || linked) : "";
  let why = "";
  if (!current) {
    const top = await mostAnomalous();
    if (top && names.includes(top.series)) {
      current = top.series;
      why = `shown: the most anomalous series now (score ${top.score.toFixed(1)} at ${when(top.ts)})`;
    } else {
      current = names.find(n => n.includes("response_time")) || names[0] || "";
      why = "no anomaly yet: showing a response-time series";
    }
  }
  const options = names.map(n => `<option${n === current ? " selected" : ""}>${esc(n)}</option>`).join("");
  if (seriesSelect.innerHTML !== options) seriesSelect.innerHTML = options;
  if (names.includes(current)) seriesSelect.value = current;
  if (why) byId("series-why").textContent = why;
  await drawSeries();
}

function align(timeline, times, values) {
  const index = new Map(times.map((t, i) => [t, i]));
  return timeline.map(t => (index.has(t) ? values[index.get(t)] : null));
}

async function drawSeries() {
  const name = seriesSelect.value;
  const target = byId("chart");
  if (!name) { target.textContent = "no series yet"; return; }
  const data = await getJson(`/v1/series/${encodeURIComponent(name)}?hours=6`);
  let forecast = null;
  if (data.has_forecast) forecast = await getJson(`/v1/forecast/${encodeURIComponent(name)}?horizon=6&levels=80`);
  const seconds = iso => Date.parse(iso) / 1000;
  const times = data.ts.map(seconds), scoreTimes = data.scores.ts.map(seconds);
  const forecastTimes = forecast ? forecast.index.map(seconds) : [];
  const anomalyTimes = data.anomalies.map(a => seconds(a.ts));
  const timeline = [...new Set([...times, ...scoreTimes, ...forecastTimes, ...anomalyTimes])].sort((a, b) => a - b);
  const unit = unitOf(name);
  const columns = [
    timeline,
    align(timeline, times, data.value),
    align(timeline, scoreTimes, data.scores.expected_high),
    align(timeline, scoreTimes, data.scores.expected_low),
    align(timeline, forecastTimes, forecast ? forecast.upper["80"] : []),
    align(timeline, forecastTimes, forecast ? forecast.lower["80"] : []),
    align(timeline, forecastTimes, forecast ? forecast.mean : []),
    align(timeline, anomalyTimes, data.anomalies.map(a => a.value)),
  ];
  const hidden = {stroke: "transparent", width: 0, points: {show: false}};
  const options = {
    width: Math.max(target.clientWidth, 300),
    height: 300,
    tzDate: ts => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    scales: {x: {time: true}},
    series: [
      {label: "time (UTC)"},
      {label: `value (${unit})`, stroke: "#1d2330", width: 1.5, spanGaps: true, points: {show: false}},
      Object.assign({label: "expected high"}, hidden, {spanGaps: true}),
      Object.assign({label: "expected low"}, hidden, {spanGaps: true}),
      Object.assign({label: "forecast 80 % high"}, hidden, {spanGaps: true}),
      Object.assign({label: "forecast 80 % low"}, hidden, {spanGaps: true}),
      {label: "forecast mean", stroke: "#2f6fd6", width: 2, spanGaps: true, points: {show: false}},
      {label: "anomaly", stroke: "#c62828", width: 0, paths: () => null,
       points: {show: true, size: 9, fill: "#c62828", stroke: "#c62828"}},
    ],
    bands: [{series: [2, 3], fill: "#dde2ea"}, {series: [4, 5], fill: "#cfe0fb"}],
    axes: [{label: "time (UTC)"}, {label: unit, size: 70}],
  };
  if (chart) chart.destroy();
  target.textContent = "";
  chart = new uPlot(options, columns, target);
}

// ---- the loop ----
function handleError(err) {
  if (err instanceof Unauthorized) { showTokenPanel(true); return; }
  byId("error").textContent = String(err);
}

async function refresh() {
  byId("error").textContent = "";
  const parts = [drawDashboard, drawApprovals, drawIncidents, drawAlerts, drawSecurity, drawOptimizations, drawStrategies];
  const results = await Promise.allSettled(parts.map(part => part()));
  const failures = results.filter(r => r.status === "rejected").map(r => r.reason);
  if (failures.some(f => f instanceof Unauthorized)) showTokenPanel(true);
  else if (tokenPanel.classList.contains("asking")) { tokenPanel.classList.remove("asking"); tokenPanel.hidden = true; }
  const other = failures.filter(f => !(f instanceof Unauthorized));
  byId("error").textContent = other.map(String).join("; ");
  document.body.dataset.loaded = "true";
}

refresh();
loadSeries().catch(handleError);
setInterval(refresh, 5000);
setInterval(() => loadSeries().catch(handleError), 30000);
