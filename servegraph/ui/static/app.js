// servegraph dashboard: a hash-routed single page over the JSON API under /api/.
"use strict";

const esc = sgEsc;
const main = document.getElementById("main");
const projectPick = document.getElementById("project");
let pollTimer = null;
let liveTimer = null;
let token = sessionStorage.getItem("sg-token") || "";

async function api(path, options) {
  const resp = await fetch(path, options);
  const body = await resp.json().catch(() => ({ error: `HTTP ${resp.status}` }));
  if (!resp.ok) { throw new Error(body.error || `HTTP ${resp.status}`); }
  return body;
}

function parseHash() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query || "") };
}

function link(parts, query) {
  const q = query && [...new URLSearchParams(query)].length ? `?${new URLSearchParams(query)}` : "";
  return `#/${parts.map(encodeURIComponent).join("/")}${q}`;
}

function project() { return projectPick.value; }
function badge(text, cls) { return `<span class="badge ${esc(cls || text)}">${esc(String(text).replace(/_/g, " "))}</span>`; }
function time(t) { return t ? esc(String(t).replace("T", " ").slice(0, 19)) : "–"; }
function ms(t) { return Date.parse(String(t).replace(" ", "T").replace(/\+00:00$/, "Z")); }
function labels(obj) { return Object.entries(obj || {}).filter(([, v]) => v !== "").map(([k, v]) => `<span class="label">${esc(k)}=${esc(v)}</span>`).join(""); }
function table(headers, rows, empty) {
  if (!rows.length) { return `<p class="empty">${esc(empty || "Nothing here yet.")}</p>`; }
  const head = headers.map((h) => `<th class="${h.endsWith("#") ? "num" : ""}">${esc(h.replace(/#$/, ""))}</th>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.map((r) => `<tr>${r.join("")}</tr>`).join("")}</tbody></table>`;
}
function td(html, cls) { return `<td class="${cls || ""}">${html}</td>`; }
function kv(obj) {
  const entries = Object.entries(obj || {});
  if (!entries.length) { return `<p class="empty">none</p>`; }
  const show = (v) => typeof v === "number" ? sgFmt(v)
    : v && typeof v === "object" && !Array.isArray(v) ? Object.entries(v).map(([a, b]) => `${a}=${typeof b === "number" ? sgFmt(b) : JSON.stringify(b)}`).join("  ")
    : typeof v === "object" ? JSON.stringify(v) : String(v);
  return `<dl class="kv">${entries.map(([k, v]) => `<dt>${esc(k)}</dt><dd class="mono">${esc(show(v))}</dd>`).join("")}</dl>`;
}
function card(title, body, extra) { return `<section class="card ${extra || ""}">${title ? `<h2>${title}</h2>` : ""}${body}</section>`; }
function setNav(name) {
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === name));
}

// ---------------------------------------------------------------- overview
async function pageHome() {
  setNav("");
  const [projects, endpoints, recent] = await Promise.all([api("/api/projects"), api(`/api/endpoints?project=${encodeURIComponent(project())}`), api(`/api/runs?limit=8&project=${encodeURIComponent(project())}`)]);
  const rows = projects.map((p) => [
    td(`<a href="${link(["runs"], { project: p.name })}">${esc(p.name)}</a>`),
    td(esc(p.description || "")),
    td(String(p.runs), "num"),
    td(Object.entries(p.states).map(([s, n]) => `${badge(s)} ${n}`).join(" ")),
  ]);
  const drifting = endpoints.filter((e) => e.last_window && e.last_window.status !== "no_drift");
  main.innerHTML = `<h1>Overview</h1>
    ${card("Projects", table(["project", "description", "runs#", "states"], rows, "No runs or projects yet."))}
    ${card("Endpoints with drift", drifting.length ? table(["endpoint", "model", "status", "last window"], drifting.map((e) => [
      td(`<a href="${link(["endpoint", e.id])}">${esc(e.id)}</a>`), td(esc(`${e.model_name} ${e.model_version}`)), td(badge(e.last_window.status)), td(time(e.last_window.window_start))])) : `<p class="empty">No endpoint drifts.</p>`)}
    ${card(`Recent runs <a class="small" href="#/runs">all ${recent.total}</a>`, table(["name", "project", "state", "started"], recent.runs.map((r) => [
      td(`<a href="${link(["run", r.project, r.uid])}">${esc(r.name || r.uid.slice(0, 8))}</a>`), td(esc(r.project)), td(badge(r.state)), td(time(r.start_time))]), "No runs yet."))}`;
}

// ---------------------------------------------------------------- runs
async function pageRuns(_, query) {
  setNav("runs");
  const limit = 50;
  const page = Math.max(0, parseInt(query.get("page") || "0", 10));
  const params = new URLSearchParams({ offset: page * limit, limit });
  for (const key of ["state", "name"]) { if (query.get(key)) { params.set(key, query.get(key)); } }
  if (query.get("label")) { params.append("label", query.get("label")); }
  const proj = query.get("project") ?? project();
  if (proj) { params.set("project", proj); }
  const data = await api(`/api/runs?${params}`);
  const rows = data.runs.map((r) => [
    td(`<a href="${link(["run", r.project, r.uid])}">${esc(r.name || r.uid.slice(0, 8))}</a>${r.hyper ? ' <span class="label">hyper</span>' : ""}`),
    td(esc(r.project)),
    td(badge(r.state)),
    td(time(r.start_time)),
    td(labels(r.labels)),
    td(`<span class="mono">${esc(Object.entries(r.results).map(([k, v]) => `${k}=${typeof v === "number" ? sgFmt(v) : v}`).join("  "))}</span>`),
  ]);
  const states = ["", "created", "running", "completed", "error", "aborted"];
  main.innerHTML = `<h1>Runs</h1>
    <form class="filters" id="run-filters">
      <label>project<input name="project" value="${esc(proj)}" placeholder="any"></label>
      <label>name<input name="name" value="${esc(query.get("name") || "")}" placeholder="part of the name"></label>
      <label>state<select name="state">${states.map((s) => `<option value="${s}" ${s === (query.get("state") || "") ? "selected" : ""}>${s || "any"}</option>`).join("")}</select></label>
      <label>label<input name="label" value="${esc(query.get("label") || "")}" placeholder="key=value"></label>
      <button type="submit">Filter</button>
    </form>
    ${card("", `<div class="muted small" id="run-count">${data.total} runs</div>${table(["name", "project", "state", "started", "labels", "results"], rows, "No runs match.")}
    <div class="pager"><button class="secondary" id="prev" ${page ? "" : "disabled"}>← newer</button>
    <span class="muted small">${data.total ? page * limit + 1 : 0}–${page * limit + data.runs.length} of ${data.total}</span>
    <button class="secondary" id="next" ${(page + 1) * limit < data.total ? "" : "disabled"}>older →</button></div>`)}`;
  const go = (p) => {
    const form = new FormData(document.getElementById("run-filters"));
    const q = {};
    for (const [k, v] of form.entries()) { if (v) { q[k] = v; } }
    if (p) { q.page = p; }
    location.hash = link(["runs"], q);
  };
  document.getElementById("run-filters").addEventListener("submit", (e) => { e.preventDefault(); go(0); });
  document.getElementById("prev").addEventListener("click", () => go(page - 1));
  document.getElementById("next").addEventListener("click", () => go(page + 1));
}

function metricCharts(metrics) {
  const names = Object.keys(metrics || {});
  if (!names.length) { return `<p class="empty">No metrics logged.</p>`; }
  return names.map((name) => {
    const m = metrics[name];
    const points = (m.yvalues || []).map((y, i) => [Number.isFinite(+m.xvalues[i]) ? +m.xvalues[i] : i, +y]);
    return `<h3>${esc(name)}</h3>${sgLineChart([{ name, points }], { className: "metric-chart", yLabel: name, height: 220 })}`;
  }).join("");
}

async function pageRun(parts, query) {
  setNav("runs");
  const [proj, uid] = parts;
  const iter = query.get("iter") || "0";
  const data = await api(`/api/runs/${encodeURIComponent(proj)}/${encodeURIComponent(uid)}?iter=${iter}`);
  const run = data.run, meta = run.metadata || {}, spec = run.spec || {}, status = run.status || {};
  const results = Object.fromEntries(Object.entries(status.results || {}).filter(([k]) => k !== "best_iteration"));
  const artifacts = (status.artifacts || []).map((a) => [
    td(`<a href="${link(["artifact", a.metadata.project, a.metadata.key])}">${esc(a.metadata.key)}</a>`),
    td(badge(a.kind)), td(`<span class="mono">${esc(a.uri || "")}</span>`)]);
  const paramNames = [...new Set(data.children.flatMap((c) => Object.keys(c.parameters || {})))];
  const resultNames = [...new Set(data.children.flatMap((c) => Object.keys(c.results || {})))];
  const cell = (v) => td(typeof v === "number" ? sgFmt(v) : esc(v ?? ""), "num");
  const children = data.children.map((c) => [
    td(`<a href="${link(["run", c.project, c.uid], { iter: c.iteration })}">${c.iteration}</a>${c.iteration === data.best_iteration ? ` ${badge("best", "completed")}` : ""}`),
    td(badge(c.state)), ...paramNames.map((n) => cell((c.parameters || {})[n])), ...resultNames.map((n) => cell(c.results[n]))]);
  const childHeaders = ["iteration", "state", ...paramNames.map((n) => `${n}#`), ...resultNames.map((n) => `${n}#`)];
  const running = ["created", "running"].includes(status.state);
  const fn = spec.function || "";
  const fnName = fn.includes("/") ? fn.split("/")[1].split("@")[0].split(":")[0] : "";
  main.innerHTML = `<h1>Run ${esc(meta.name || uid)} ${meta.iteration ? `· iteration ${meta.iteration}` : ""} ${badge(status.state)}</h1>
    <div class="grid">
      ${card("Run", `<dl class="kv"><dt>uid</dt><dd class="mono">${esc(uid)}</dd><dt>project</dt><dd>${esc(meta.project)}</dd>
        <dt>function</dt><dd>${fnName ? `<a href="${link(["function", meta.project, fnName])}">${esc(fn)}</a>` : esc(fn || "–")}</dd>
        <dt>kind</dt><dd>${esc((spec.runtime || {}).kind || "")}</dd><dt>handler</dt><dd>${esc(spec.handler || "–")}</dd>
        <dt>started</dt><dd>${time(status.start_time)}</dd><dt>updated</dt><dd>${time(status.last_update)}</dd>
        <dt>labels</dt><dd>${labels(meta.labels)}</dd>
        ${(meta.labels || {}).workflow ? `<dt>workflow</dt><dd><a href="${link(["runs"], { label: `workflow=${meta.labels.workflow}` })}">runs of workflow ${esc(meta.labels.workflow.slice(0, 8))}</a></dd>` : ""}
        ${data.parent ? `<dt>parent</dt><dd><a href="${link(["run", data.parent.project, data.parent.uid])}">hyper-parameter run ${esc(data.parent.name)}</a> (best: ${esc(data.best_iteration)})</dd>` : ""}
        ${status.error ? `<dt>error</dt><dd class="mono">${esc(status.error)}</dd>` : ""}</dl>
        ${running ? `<p><button class="danger" id="stop">Stop run</button> <span id="stop-msg" class="small muted"></span></p>` : ""}`)}
      ${card("Parameters", `<div id="params">${kv(spec.parameters)}</div>${Object.keys(spec.hyperparams || {}).length ? `<h3>hyper-parameters</h3>${kv(spec.hyperparams)}` : ""}`)}
      ${card("Results", kv(results))}
      ${card("Inputs", Object.keys(spec.inputs || {}).length ? `<dl class="kv">${Object.entries(spec.inputs).map(([k, v]) => `<dt>${esc(k)}</dt><dd class="mono">${storeLink(String(v))}</dd>`).join("")}</dl>` : `<p class="empty">none</p>`)}
    </div>
    ${card("Metrics", metricCharts(status.metrics))}
    ${children.length ? card(`Iterations <span class="muted small">(best: ${esc(data.best_iteration)}, selector ${esc((spec.hyper_param_options || {}).selector || "–")})</span>`, table(childHeaders, children)) : ""}
    ${card("Artifacts", table(["key", "kind", "uri"], artifacts, "No artifacts."))}
    ${card(`Log ${running ? '<span class="muted small">(following)</span>' : ""}`, `<pre class="log" id="log"></pre>`)}`;
  const logBox = document.getElementById("log");
  const here = location.hash;
  let offset = 0;
  const tail = async () => {
    const log = await api(`/api/runs/${encodeURIComponent(proj)}/${encodeURIComponent(uid)}/log?offset=${offset}`);
    offset = log.offset;
    if (log.text) { logBox.textContent += log.text; logBox.scrollTop = logBox.scrollHeight; }
    if (!logBox.textContent) { logBox.textContent = "(no log)"; }
    if (!log.final && location.hash === here) { pollTimer = setTimeout(() => tail().catch(showError), 1500); }
  };
  await tail();
  const stop = document.getElementById("stop");
  if (stop) {
    stop.addEventListener("click", async () => {
      try {
        const r = await action(`/api/runs/${encodeURIComponent(proj)}/${encodeURIComponent(uid)}/stop`, {});
        document.getElementById("stop-msg").textContent = r.how;
      } catch (err) { document.getElementById("stop-msg").textContent = err.message; }
    });
  }
}

async function action(path, body) {
  const send = () => api(path, { method: "POST", headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  try { return await send(); } catch (err) {
    if (!/token/.test(err.message)) { throw err; }
    token = prompt("This dashboard needs its token for actions:") || "";
    sessionStorage.setItem("sg-token", token);
    return send();
  }
}

// a store:// URI of an artifact, model or data set links to its page
function storeLink(uri) {
  const m = /^store:\/\/(artifacts|models|datasets)\/([^/]+)\/([^:@]+)/.exec(uri);
  return m ? `<a href="${link(["artifact", m[2], m[3]])}">${esc(uri)}</a>` : esc(uri);
}

// ---------------------------------------------------------------- artifacts & models
async function pageArtifacts(_, query) {
  setNav("artifacts");
  const params = new URLSearchParams();
  if (project()) { params.set("project", project()); }
  if (query.get("kind")) { params.set("kind", query.get("kind")); }
  const data = await api(`/api/artifacts?${params}`);
  const byKey = new Map();
  for (const a of data.artifacts) { const k = `${a.project}/${a.key}`; if (!byKey.has(k)) { byKey.set(k, []); } byKey.get(k).push(a); }
  const rows = [...byKey.values()].map((versions) => {
    const a = versions[0];
    return [td(`<a href="${link(["artifact", a.project, a.key])}">${esc(a.key)}</a>`), td(esc(a.project)), td(badge(a.kind, "")),
      td(String(versions.length), "num"), td(versions.flatMap((v) => v.tags).map((t) => badge(t, "tag")).join(" ")),
      td(`<span class="mono">${esc(Object.entries(a.metrics).map(([k, v]) => `${k}=${sgFmt(v)}`).join("  "))}</span>`), td(time(a.updated))];
  });
  const kinds = ["", "model", "dataset", "artifact", "plot", "table"];
  main.innerHTML = `<h1>Artifacts &amp; models</h1>
    <form class="filters" id="kind-form"><label>kind<select name="kind">${kinds.map((k) => `<option value="${k}" ${k === (query.get("kind") || "") ? "selected" : ""}>${k || "any"}</option>`).join("")}</select></label></form>
    ${card("", table(["key", "project", "kind", "versions#", "tags", "metrics (latest)", "updated"], rows, "No artifacts."))}`;
  document.querySelector("#kind-form select").addEventListener("change", (e) => { location.hash = link(["artifacts"], e.target.value ? { kind: e.target.value } : {}); });
}

function historyTable(events) {
  return table(["time", "version", "action", "tag", "by", "detail"], events.map((e) => [td(time(e.time)), td(`<span class="mono">${esc(String(e.uid || "").slice(0, 12))}</span>`),
    td(badge(e.action || "", "")), td(e.tag ? badge(e.tag, "tag") : ""), td(esc(e.by || "")), td(esc(e.reason || e.detail || ""))]));
}

function specCards(spec) {
  const plain = Object.fromEntries(Object.entries(spec).filter(([k, v]) => !["feature_stats", "producer", "inputs", "outputs", "sources"].includes(k) && v !== "" && v !== null && !(typeof v === "object" && !Object.keys(v).length)));
  const stats = Object.entries(spec.feature_stats || {}).map(([f, st]) => [td(esc(f)), ...["count", "mean", "std", "min", "max"].map((k) => td(typeof st[k] === "number" ? sgFmt(st[k]) : esc(st[k] ?? "–"), "num")), td(Array.isArray(st.hist) && Array.isArray(st.hist[0]) ? sgBars(st.hist[0]) : "")]);
  const io = [...(spec.inputs || []).map((x) => ["input", x]), ...(spec.outputs || []).map((x) => ["output", x])].map(([d, x]) => [td(d), td(esc(x.name)), td(esc(x.value_type || ""))]);
  return `<div class="grid">${card("Latest version", kv(plain))}${io.length ? card("Inputs and outputs", table(["", "name", "type"], io)) : ""}</div>
    ${stats.length ? card("Training set statistics <span class=\"muted small\">(the reference monitoring compares with)</span>", table(["feature", "count#", "mean#", "std#", "min#", "max#", "distribution"], stats)) : ""}`;
}

async function pageArtifact(parts) {
  setNav("artifacts");
  const [proj, key] = parts;
  const data = await api(`/api/artifacts/${encodeURIComponent(proj)}/${encodeURIComponent(key)}`);
  const isModel = data.versions[0].kind === "model";
  const rows = data.versions.map((v) => [
    td(`<span class="mono">${esc(v.hash.slice(0, 12))}</span>`), td(v.tags.map((t) => badge(t, "tag")).join(" ")), td(time(v.updated)),
    td(`<span class="mono">${esc(Object.entries(v.metrics).map(([k, m]) => `${k}=${sgFmt(m)}`).join("  "))}</span>`),
    td(v.producer.uid ? `<a href="${link(["run", v.producer.project || proj, v.producer.uid], v.producer.iteration ? { iter: v.producer.iteration } : {})}">${esc(v.producer.name || v.producer.uid.slice(0, 8))}</a>` : "–"),
    ...(isModel ? [td(`<button class="secondary promote" data-hash="${esc(v.hash)}">promote</button>`)] : []),
  ]);
  const links = data.lineage.nodes.map((n) => {
    const href = n.kind === "run" ? link(["run", ...n.ref.split("/")]) : n.kind === "endpoint" ? link(["endpoint", n.ref]) : null;
    return `<li>${esc(n.kind)}: ${href ? `<a href="${href}">${esc(n.label)}</a>` : esc(n.label)}</li>`;
  }).join("");
  main.innerHTML = `<h1>${esc(data.versions[0].kind)} ${esc(key)} <span class="muted small">${esc(proj)}</span></h1>
    ${card("Versions", table(["version", "tags", "updated", "metrics", "producing run", ...(isModel ? [""] : [])], rows) + (isModel ? `<p class="small muted">Promote points a tag (default <b>production</b>) at a version. <label>tag <input id="promote-tag" value="production" size="12"></label> <span id="promote-msg"></span></p>` : ""))}
    ${(data.events || []).length ? card("History <span class=\"muted small\">(tags moved, versions loaded, canaries)</span>", historyTable(data.events)) : ""}
    ${card("Lineage", `<div class="graph-box" id="lineage">${data.lineage.svg}</div><ul class="small">${links}</ul>`)}
    ${specCards(data.versions[0].body.spec || {})}`;
  document.querySelectorAll("button.promote").forEach((b) => b.addEventListener("click", async () => {
    const msg = document.getElementById("promote-msg");
    try {
      const r = await action(`/api/models/${encodeURIComponent(proj)}/${encodeURIComponent(key)}/promote`, { hash: b.dataset.hash, tag: document.getElementById("promote-tag").value });
      msg.textContent = `tags of ${r.hash.slice(0, 12)}: ${r.tags.join(", ")}`;
      setTimeout(route, 600);
    } catch (err) { msg.textContent = err.message; }
  }));
}

// ---------------------------------------------------------------- functions
async function pageFunctions() {
  setNav("functions");
  const data = await api(`/api/functions?project=${encodeURIComponent(project())}`);
  const rows = data.map((f) => [td(`<a href="${link(["function", f.project, f.name])}">${esc(f.name)}</a>`), td(esc(f.project)), td(badge(f.kind, "")),
    td(f.tags.map((t) => badge(t, "tag")).join(" ")), td(`<span class="mono">${esc(f.hash.slice(0, 12))}</span>`), td(f.has_graph ? "yes" : "")]);
  main.innerHTML = `<h1>Functions</h1>${card("", table(["name", "project", "kind", "tags", "version", "graph"], rows, "No saved functions."))}`;
}

async function pageFunction(parts, query) {
  setNav("functions");
  const [proj, name] = parts;
  const hash = query.get("hash");
  const data = await api(`/api/functions/${encodeURIComponent(proj)}/${encodeURIComponent(name)}${hash ? `?hash=${encodeURIComponent(hash)}` : ""}`);
  const chosen = data.function.metadata.hash;
  const rows = data.versions.map((v) => [td(`<a href="${link(["function", proj, name], { hash: v.hash })}" class="mono">${esc(v.hash.slice(0, 12))}</a>${v.hash === chosen ? " ◀" : ""}`),
    td(v.tags.map((t) => badge(t, "tag")).join(" ")), td(badge(v.kind, ""))]);
  const graph = data.graph;
  main.innerHTML = `<h1>Function ${esc(name)} <span class="muted small">${esc(proj)} · ${esc(data.function.kind)}</span></h1>
    ${graph ? card(`Serving graph <span class="muted small">${graph.steps.length} steps</span>`, graph.error ? `<div class="error-box">${esc(graph.error)}</div>` : `<div class="graph-box" id="graph">${graph.svg}</div>`) : ""}
    ${graph && graph.details.length ? card("Steps", table(["step", "kind", "class / handler", "after", "runs in", "on error"], graph.details.map((d) => [
      td(`<b>${esc(d.name)}</b>`), td(badge(d.kind, "")), td(`<span class="mono">${esc(d.class_name || d.handler)}${d.path ? ` → ${esc(d.path)}` : ""}</span>`),
      td(esc(d.after.join(", "))), td(d.function ? badge(d.function, "tag") : ""), td(esc(d.on_error))]))) : ""}
    ${Object.keys((data.function.spec || {}).function_refs || {}).length ? card("Child functions", table(["name", "code or URL", "image", "steps"], Object.entries(data.function.spec.function_refs).map(([n, ref]) => [
      td(`<b>${esc(n)}</b>`), td(`<span class="mono">${esc(ref.url || "")}</span>`), td(esc(ref.image || "")),
      td(esc(((graph && graph.details) || []).filter((d) => d.function === n).map((d) => d.name).join(", ")))]))) : ""}
    <div class="grid">${card("Versions", table(["version", "tags", "kind"], rows))}
    ${card("Spec", `<pre class="mono">${esc(JSON.stringify(Object.fromEntries(Object.entries(data.function.spec || {}).filter(([k]) => k !== "graph")), null, 1).slice(0, 3000))}</pre>`)}</div>`;
}

// ---------------------------------------------------------------- endpoints
async function pageEndpoints() {
  setNav("endpoints");
  const data = await api(`/api/endpoints?project=${encodeURIComponent(project())}`);
  const rows = data.map((e) => {
    const w = e.last_window;
    return [td(`<a href="${link(["endpoint", e.id])}" class="mono">${esc(e.id)}</a>`), td(esc(e.project)), td(esc(e.function)), td(esc(`${e.model_name} ${e.model_version}`)),
      td(String(e.feature_names.length), "num"), td(w ? badge(w.status) : "–"), td(w ? sgFmt(w.drift_value) : "–", "num"), td(sgSpark(e.drift_trend, e.detected)), td(w ? time(w.window_start) : "–")];
  });
  main.innerHTML = `<h1>Model endpoints</h1>${card("", table(["endpoint", "project", "function", "model", "features#", "drift", "value#", "trend", "last window"], rows, "No model endpoints registered."))}`;
}

const ENDPOINT_REFRESH_MS = 30000;

function perfChart(rows) {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.metrics || {})))];
  const series = names.map((n) => ({ name: n, points: rows.map((r) => [ms(r.window_start), (r.metrics || {})[n] ?? null]) }));
  return sgLineChart(series, { time: true, className: "performance-chart", height: 240, width: 900 }) + sgLegend(series);
}

async function pageEndpoint(parts) {
  setNav("endpoints");
  const id = parts[0];
  const here = location.hash;
  const [data, hist] = await Promise.all([api(`/api/endpoints/${encodeURIComponent(id)}`), api(`/api/endpoints/${encodeURIComponent(id)}/histograms`)]);
  const ep = data.endpoint, th = data.thresholds, w = data.windows;
  const last = w[w.length - 1];
  const drifted = new Set(data.latest.features.filter((f) => f.status === "drift_detected").map((f) => f.feature));
  const possible = new Set(data.latest.features.filter((f) => f.status === "possible_drift").map((f) => f.feature));
  const driftSeries = Object.entries(data.drift).map(([name, pts]) => ({ name, points: pts.map((p) => [ms(p.window_start), p.value]) }));
  const thresholds = [{ value: th.possible, label: "possible", color: "#c77c02" }, { value: th.detected, label: "detected", color: "#d1453b" }];
  const series = (key) => [{ name: key, points: w.map((x) => [ms(x.window_start), x[key]]) }];
  const stat = (label, value) => `<div><div class="stat">${value}</div><div class="stat-label">${esc(label)}</div></div>`;
  const latest = data.latest.features.map((f) => [td(`<b class="${drifted.has(f.feature) ? "" : ""}">${esc(f.feature)}</b>`), td(sgFmt(f.value), "num"), td(badge(f.status)), td(String(f.count), "num")]);
  const hists = hist.features.map((f) => `<figure class="${drifted.has(f.feature) ? "drifted" : ""}" data-feature="${esc(f.feature)}"><figcaption>${esc(f.feature)} ${drifted.has(f.feature) ? badge("drift_detected") : possible.has(f.feature) ? badge("possible_drift") : ""}</figcaption>${sgHistogram(f.bins, f.reference, f.current)}</figure>`).join("");
  main.innerHTML = `<h1>Endpoint <span class="mono">${esc(ep.id)}</span> ${last ? badge(last.status) : ""}</h1>
    <div class="grid">
      ${card("Model", `<dl class="kv"><dt>project</dt><dd>${esc(ep.project)}</dd><dt>function</dt><dd>${ep.function ? `<a href="${link(["function", ep.project, ep.function])}">${esc(ep.function)}</a>` : "–"}</dd>
        <dt>model</dt><dd>${esc(ep.model_name)} ${esc(ep.model_version)}</dd><dt>model URI</dt><dd class="mono">${esc(ep.model_uri || "–")}</dd>
        <dt>features</dt><dd>${esc(ep.feature_names.join(", "))}</dd><dt>drift metric</dt><dd>${esc(th.metric)}: possible ≥ ${th.possible}, detected ≥ ${th.detected}</dd></dl>`)}
      ${card('Live <span class="muted small" id="live-span"></span>', `<div id="live"><p class="empty">…</p></div>`)}
      ${card("Latest window", last ? `<div class="stats">${stat("requests / min", sgFmt(last.rate_per_min))}${stat("p50 latency ms", sgFmt(last.latency_p50))}${stat("p99 latency ms", sgFmt(last.latency_p99))}${stat("error rate", `${sgFmt(100 * (last.error_rate || 0))}%`)}</div><p class="small muted">window ${time(last.window_start)} – ${time(last.window_end)}, ${last.requests} requests</p>` : `<p class="empty">No window scored yet.</p>`)}
    </div>
    ${card(`Drift per feature over time <span class="muted small">(${esc(th.metric)})</span>`, driftSeries.length ? sgLineChart(driftSeries, { time: true, thresholds, className: "drift-chart", yLabel: th.metric, highlight: drifted, height: 300, width: 900 }) + sgLegend(driftSeries, drifted) : `<p class="empty">No drift results yet.</p>`)}
    <div class="grid">
      ${card("Requests per minute", w.length ? sgLineChart(series("rate_per_min"), { time: true, className: "rate-chart", height: 200, width: 440 }) : "")}
      ${card("Latency (ms)", w.length ? sgLineChart([{ name: "p99", points: w.map((x) => [ms(x.window_start), x.latency_p99]) }, { name: "p50", points: w.map((x) => [ms(x.window_start), x.latency_p50 ?? null]) }], { time: true, className: "latency-chart", height: 200, width: 440 }) + sgLegend([{ name: "p99" }, { name: "p50" }]) : "")}
      ${card("Error rate", w.length ? sgLineChart(series("error_rate"), { time: true, className: "error-chart", height: 200, width: 440 }) : "")}
    </div>
    ${(data.performance || []).length ? card("Model performance per window <span class=\"muted small\">(from the labels joined to the predictions)</span>", perfChart(data.performance)) : ""}
    ${card(`Histograms, reference <span style="color:#7f9ccc">■</span> vs current <span style="color:#d1453b">■</span> <span class="muted small">window ${time(hist.window_start)}</span>`, hist.has_data ? `<div class="hist-grid">${hists}</div>` : `<p class="empty">The logged data of the latest window is not on this host (start the dashboard with --monitoring-path).</p>`)}
    <div class="grid">
      ${card("Latest window per feature", table(["feature", "value#", "status", "rows#"], latest, "No results."))}
      ${card("Alerts", table(["rule", "active", "last fired", "last window"], data.alerts.map((a) => [td(esc(a.rule === "__retrain__" ? "retraining trigger" : a.rule)), td(a.active ? badge("active", "error") : "no"), td(time(a.last_fired)), td(time(a.last_window))]), "No alert rule has fired."))}
    </div>
    <div class="grid">
      ${card("Retraining runs", table(["run", "state", "started"], data.retraining.map((r) => [td(`<a href="${link(["run", r.project, r.uid])}">${esc(r.name)}</a>`), td(badge(r.state)), td(time(r.start_time))]), "No retraining run."))}
      ${(data.rollouts || []).length || (data.model_events || []).length ? card("Retraining and promotion history", table(["time", "what", "version / run", "detail"], [
        ...(data.rollouts || []).map((r) => ({ time: r.time, what: r.action, ref: r.model_uri || r.run_id, detail: r.detail })),
        ...(data.model_events || []).map((e) => ({ time: e.time, what: `${e.action}${e.tag ? ` ${e.tag}` : ""}`, ref: String(e.uid || "").slice(0, 12), detail: e.reason || e.by || "" })),
      ].sort((a, b) => String(b.time).localeCompare(String(a.time))).map((r) => [td(time(r.time)), td(badge(r.what, "")), td(`<span class="mono">${esc(r.ref || "")}</span>`), td(esc(r.detail || ""))]))) : ""}
      ${card("Model versions", table(["version", "tags", "updated", "metrics"], data.model_versions.map((m) => [td(`<span class="mono">${esc(m.hash.slice(0, 12))}</span>`), td(m.tags.map((t) => badge(t, "tag")).join(" ")), td(time(m.updated)), td(`<span class="mono">${esc(Object.entries(m.metrics).map(([k, v]) => `${k}=${sgFmt(v)}`).join(" "))}</span>`)]), "The model is not in the artifact store."))}
    </div>
    ${card("Lineage of a prediction", `<form class="filters" id="lineage-form"><label>request id or model URI<input name="ref" size="40" placeholder="req-42 or store://models/${esc(ep.project)}/..." value="${esc(ep.model_uri || "")}"></label><button type="submit">Trace</button></form><div id="lineage-box"></div>`)}`;
  document.getElementById("lineage-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const box = document.getElementById("lineage-box");
    const ref = new FormData(e.target).get("ref");
    try {
      const tree = await api(`/api/lineage?id=${encodeURIComponent(ref)}`);
      box.innerHTML = `<div class="graph-box">${tree.svg}</div>`;
    } catch (err) { box.innerHTML = `<p class="empty">${esc(err.message)}</p>`; }
  });
  showLive(id, here).catch(() => {});
  // the windows keep coming while the monitoring job runs: refresh in place
  pollTimer = setTimeout(() => { if (location.hash === here) { pageEndpoint(parts).catch(showError); } }, ENDPOINT_REFRESH_MS);
}

// the tracking stream's last minutes, polled every few seconds while the page is shown
async function showLive(id, here) {
  clearTimeout(liveTimer);
  const box = document.getElementById("live");
  if (!box || location.hash !== here) { return; }
  const live = await api(`/api/endpoints/${encodeURIComponent(id)}/live`);
  if (!live.enabled) { box.innerHTML = `<p class="empty">The dashboard does not follow the tracking stream (started with --no-live).</p>`; return; }
  const stat = (label, value) => `<div><div class="stat">${value}</div><div class="stat-label">${esc(label)}</div></div>`;
  document.getElementById("live-span").textContent = `(last ${Math.round(live.span_s / 60)} min of the tracking stream)`;
  box.innerHTML = live.requests ? `<div class="stats">${stat("requests / min", sgFmt(live.rate_per_min))}${stat("p50 latency ms", sgFmt(live.latency_p50))}${stat("p99 latency ms", sgFmt(live.latency_p99))}${stat("error rate", `${sgFmt(100 * (live.error_rate || 0))}%`)}</div><p class="small muted">${live.requests} requests, the last at ${time(new Date(live.last_seen * 1000).toISOString())}</p>`
    : `<p class="empty">No request in the last ${Math.round(live.span_s / 60)} minutes.</p>${live.stream_error ? `<p class="small muted">${esc(live.stream_error)}</p>` : ""}`;
  liveTimer = setTimeout(() => showLive(id, here).catch(() => {}), 5000);
}

// ---------------------------------------------------------------- feature store & schedules
async function pageFeatures() {
  setNav("features");
  const data = await api(`/api/feature-store?project=${encodeURIComponent(project())}`);
  const sets = data.feature_sets.map((f) => [td(`<a href="${link(["feature-set", f.project, f.name], { tag: f.tag })}">${esc(f.name)}</a>`), td(esc(f.project)), td(badge(f.tag, "tag")),
    td(esc(f.entities.map((e) => e.name).join(", "))), td(String(f.features.length), "num"), td(String(f.aggregations.length), "num"), td(time(f.last_saved))]);
  const vectors = data.feature_vectors.map((v) => [td(esc(v.name)), td(esc(v.project)), td(badge(v.tag, "tag")), td(`<span class="mono small">${esc(v.features.join(", "))}</span>`), td(esc(v.label_feature || "–")), td(time(v.last_saved))]);
  main.innerHTML = `<h1>Feature store</h1>
    ${card("Feature sets", table(["name", "project", "tag", "entities", "features#", "aggregations#", "last ingestion"], sets, "No feature sets."))}
    ${card("Feature vectors", table(["name", "project", "tag", "features", "label", "saved"], vectors, "No feature vectors."))}`;
}

async function pageFeatureSet(parts, query) {
  setNav("features");
  const [proj, name] = parts;
  const f = await api(`/api/feature-sets/${encodeURIComponent(proj)}/${encodeURIComponent(name)}?tag=${encodeURIComponent(query.get("tag") || "latest")}`);
  const stats = Object.entries(f.stats).map(([feat, s]) => [td(esc(feat)), ...["count", "mean", "std", "min", "max"].map((k) => td(typeof s[k] === "number" ? sgFmt(s[k]) : esc(s[k] ?? "–"), "num")), td(s.counts && s.counts.length ? sgBars(s.counts) : "")]);
  const aggs = f.aggregations.map((a) => [td(esc(a.name)), td(esc(a.column)), td(esc((a.operations || []).join(", "))), td(esc((a.windows || []).join(", "))), td(esc(a.period || ""))]);
  main.innerHTML = `<h1>Feature set ${esc(name)} <span class="muted small">${esc(f.uri)}</span></h1>
    <div class="grid">
      ${card("Schema", `<dl class="kv"><dt>entities</dt><dd>${esc(f.entities.map((e) => `${e.name} (${e.value_type || ""})`).join(", "))}</dd><dt>timestamp</dt><dd>${esc(f.timestamp_key || "–")}</dd><dt>last ingestion</dt><dd>${time(f.last_saved)}</dd><dt>targets</dt><dd>${esc(f.targets.map((t) => t.kind || t.name).join(", ") || "–")}</dd></dl>
        ${table(["feature", "type"], f.features.map((x) => [td(esc(x.name)), td(esc(x.value_type || ""))]))}`)}
      ${card("Aggregations", table(["name", "column", "operations", "windows", "period"], aggs, "No aggregations."))}
    </div>
    ${card("Statistics", table(["feature", "count#", "mean#", "std#", "min#", "max#", "distribution"], stats, "Not ingested yet."))}
    ${f.graph && f.graph.svg ? card("Ingestion graph", `<div class="graph-box">${f.graph.svg}</div>`) : ""}`;
}

async function pageSchedules() {
  setNav("schedules");
  const data = await api(`/api/schedules?project=${encodeURIComponent(project())}`);
  const target = (s) => {
    const o = s.scheduled_object || {};
    const what = o.function ? `function ${o.function}` : o.workflow ? `workflow ${o.workflow}` : s.kind === "monitoring" ? `monitoring job${o.endpoint ? ` of ${o.endpoint}` : ""}` : "";
    const params = Object.entries(o.params || {}).map(([k, v]) => `${k}=${v}`).join(" ");
    return `${esc(what)}${params ? ` <span class="mono small">${esc(params)}</span>` : ""}`;
  };
  const rows = data.map((s) => [td(esc(s.name)), td(esc(s.project)), td(badge(s.kind, "")), td(target(s)), td(`<span class="mono">${esc(s.cron)}</span>`),
    td(s.last_run ? `${time(s.last_run)} ${s.last_run_uid ? `<a href="${link(["run", s.project, s.last_run_uid])}">run</a>` : ""}` : "never"), td(time(s.next_run))]);
  main.innerHTML = `<h1>Schedules</h1>${card("", table(["name", "project", "kind", "runs", "cron (UTC)", "last run", "next run"], rows, "No schedules."))}`;
}

// ---------------------------------------------------------------- routing
const PAGES = {
  "": pageHome, runs: pageRuns, run: pageRun, artifacts: pageArtifacts, artifact: pageArtifact,
  functions: pageFunctions, function: pageFunction, endpoints: pageEndpoints, endpoint: pageEndpoint,
  features: pageFeatures, "feature-set": pageFeatureSet, schedules: pageSchedules,
};

function showError(err) {
  main.innerHTML = `<div class="error-box">${esc(err.message || err)}</div>`;
}

async function route() {
  clearTimeout(pollTimer);
  clearTimeout(liveTimer);
  const { parts, query } = parseHash();
  const page = PAGES[parts[0] || ""];
  if (!page) { showError(new Error(`no page ${location.hash}`)); return; }
  try {
    await page(parts.slice(1), query);
    window.scrollTo(0, 0);
    document.title = `servegraph · ${document.querySelector("main h1")?.textContent || ""}`;
    main.dataset.loaded = location.hash || "#/";
  } catch (err) { showError(err); main.dataset.loaded = location.hash || "#/"; }
}

async function start() {
  const saved = sessionStorage.getItem("sg-project") || "";
  if (saved) { projectPick.innerHTML = `<option value="">all</option><option selected>${esc(saved)}</option>`; }
  projectPick.addEventListener("change", () => { sessionStorage.setItem("sg-project", projectPick.value); route(); });
  window.addEventListener("hashchange", route);
  const fill = api("/api/projects").then((projects) => {
    const current = projectPick.value;
    projectPick.innerHTML = `<option value="">all</option>${projects.map((p) => `<option ${p.name === current ? "selected" : ""}>${esc(p.name)}</option>`).join("")}`;
  }).catch(() => {});
  await Promise.all([route(), fill]);
}

start();
