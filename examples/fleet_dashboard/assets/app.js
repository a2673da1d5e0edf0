// The fleet dashboard page: no build step, no dependencies.
"use strict";

const METRICS = ["cpu", "memory", "disk", "net_rx", "net_tx"];
const $ = (sel) => document.querySelector(sel);
const state = {
  org: null,
  cursors: [null], // cursor of each page visited; the last is the current page
  next: null,
  lastTick: 0,
  flagged: new Set(),
  attempt: 0,
  ws: null,
};

function fmt(v) {
  return v === null || v === undefined ? "–" : (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
}

function setConn(text, cls) {
  const el = $("#conn");
  el.textContent = text;
  el.className = "badge " + cls;
}

function setDb(up) {
  const el = $("#db");
  el.textContent = up ? "database up" : "database down";
  el.className = "badge " + (up ? "ok" : "bad");
}

async function getJson(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

async function loadOrgs() {
  const orgs = await getJson("/api/orgs");
  const sel = $("#org");
  sel.innerHTML = "";
  for (const o of orgs) {
    const opt = document.createElement("option");
    opt.value = o.id;
    opt.textContent = `${o.name} (${o.vms} VMs)`;
    sel.appendChild(opt);
  }
  const want = Number(new URLSearchParams(location.search).get("org"));
  state.org = orgs.some((o) => o.id === want) ? want : orgs[0].id;
  sel.value = state.org;
  sel.onchange = () => {
    state.org = Number(sel.value);
    history.replaceState(null, "", `?org=${state.org}`);
    state.cursors = [null];
    loadPage();
    reconnect(true);
  };
}

async function loadPage() {
  const cursor = state.cursors[state.cursors.length - 1];
  const q = new URLSearchParams({ limit: "25" });
  if (cursor) q.set("cursor", cursor);
  let page;
  try {
    const r = await fetch(`/api/orgs/${state.org}/vms?${q}`);
    page = await r.json();
    if (r.status === 400 && cursor) {
      // A cursor this server does not accept (it restarted with a new key,
      // or the fleet changed): start again from the first page.
      state.cursors = [null];
      return loadPage();
    }
    if (!r.ok) throw new Error(page.error || r.statusText);
  } catch (e) {
    $("#page-info").textContent = `page failed: ${e.message}`;
    return;
  }
  const body = $("#vms tbody");
  body.innerHTML = "";
  for (const r of page.rows) {
    const tr = document.createElement("tr");
    tr.dataset.vm = r.vm_id;
    if (r.active_alerts > 0) tr.classList.add("alert");
    if (state.flagged.has(r.vm_id)) tr.classList.add("flagged");
    const cells = [r.name, r.status, r.cpu_cores, r.memory_mib];
    for (const c of cells) {
      const td = document.createElement("td");
      td.textContent = c;
      tr.appendChild(td);
    }
    METRICS.forEach((m, k) => {
      const td = document.createElement("td");
      td.dataset.metric = m;
      td.textContent = r.metrics ? fmt(r.metrics[k]) : "–";
      tr.appendChild(td);
    });
    const alerts = document.createElement("td");
    alerts.className = "alerts";
    alerts.textContent = r.active_alerts ? `${r.active_alerts} ${r.alert_types.join(",")}` : "";
    tr.appendChild(alerts);
    const score = document.createElement("td");
    score.textContent = fmt(r.score);
    tr.appendChild(score);
    body.appendChild(tr);
  }
  state.next = page.next_cursor;
  $("#next").disabled = !state.next;
  $("#prev").disabled = state.cursors.length < 2;
  $("#first").disabled = state.cursors.length < 2;
  $("#page-info").textContent = `page ${state.cursors.length}, ${page.rows.length} VMs`;
}

function applyTick(f) {
  if (f.org !== state.org) return;
  if (state.lastTick && f.tick > state.lastTick + 1) {
    // A gap (missed or coalesced ticks): the page re-reads its snapshot.
    loadPage();
  }
  state.lastTick = Math.max(state.lastTick, f.tick);
  $("#tick").textContent = f.tick;
  for (const v of f.vms) {
    const tr = document.querySelector(`#vms tr[data-vm="${v[0]}"]`);
    if (!tr) continue;
    METRICS.forEach((m, k) => {
      const td = tr.querySelector(`td[data-metric="${m}"]`);
      const text = fmt(v[k + 1]);
      if (td.textContent !== text) {
        td.textContent = text;
        td.classList.remove("changed");
        void td.offsetWidth;
        td.classList.add("changed");
      }
    });
  }
}

function spark(values) {
  if (!values.length) return "";
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const pts = values.map((v, i) => `${(i * 90) / Math.max(1, values.length - 1)},${20 - ((v - lo) * 18) / span}`);
  return `<svg viewBox="0 0 90 22"><polyline points="${pts.join(" ")}"/></svg>`;
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

function applyFleet(f) {
  setDb(f.db === "up");
  $("#p-percentiles .body").innerHTML = f.metrics
    .map((m) => `<div class="metric"><b>${m.name}</b><span>p50 ${fmt(m.quantiles[0])} · p95 ${fmt(m.quantiles[1])} · p99 ${fmt(m.quantiles[2])} · mean ${fmt(m.mean)}</span>${spark(m.spark)}</div>`)
    .join("");
  const a = f.anomalies;
  state.flagged = new Set(a.flagged.map((x) => x.vm_id));
  for (const tr of document.querySelectorAll("#vms tbody tr")) {
    tr.classList.toggle("flagged", state.flagged.has(Number(tr.dataset.vm)));
  }
  $("#p-anomalies .body").innerHTML = a.error
    ? `scoring failed: ${esc(a.error)}`
    : `${a.flagged_total} of ${a.scored} VMs flagged (score ≥ 0.5), scored in ${fmt(a.ms)} ms<br>` +
      a.flagged.slice(0, 8).map((x) => `${esc(x.name)} <b>${x.score.toFixed(2)}</b>`).join(" · ");
  const p = f.placement;
  $("#p-placement .body").innerHTML = !p
    ? "solving…"
    : p.error
      ? `failed: ${esc(p.error)}`
      : `${p.vms} VMs on ${p.hosts} hosts: first-fit ${fmt(p.ffd_cost)}/h on ${p.ffd_hosts} hosts, ` +
        `solver ${fmt(p.solver_cost)}/h on ${p.solver_hosts} hosts ` +
        `(<b>${fmt((100 * (p.ffd_cost - p.solver_cost)) / (p.ffd_cost || 1))} %</b> less, ${fmt(p.ms)} ms)`;
  const pool = f.pool;
  $("#p-pool .body").innerHTML = !pool
    ? `embedded ${esc(f.backend)}: the adaptive pool runs with PostgreSQL (--database-url)`
    : `size ${pool.max_open}, open ${pool.open}, in use ${pool.in_use}, waiters ${pool.waiters}; ` +
      `waits ${pool.wait_count} (p99 ${fmt(pool.wait_p99_ms)} ms), timeouts ${pool.timeouts}, resizes ${pool.resizes}`;
  const g = f.gpu;
  $("#p-gpu .body").innerHTML = !g
    ? "–"
    : `${esc(g.adapter)}<br>fleet stats of ${g.values} values ran on <b>${esc(g.device)}</b>: predicted CPU ${fmt(g.predicted_cpu_ms)} ms` +
      (g.predicted_gpu_ms === null ? "" : `, GPU ${fmt(g.predicted_gpu_ms)} ms`) + `; measured ${fmt(g.measured_ms)} ms`;
  const h = f.hub;
  $("#p-hub .body").innerHTML =
    `${h.clients} clients; ${h.connects} connects, ${h.disconnects} disconnects; ${h.coalesced} frames coalesced, ` +
    `${h.slow_closed} slow consumers closed, ${f.upgrades_refused} upgrades refused`;
}

function reconnect(now) {
  if (state.ws) {
    state.ws.onclose = null;
    state.ws.close();
    state.ws = null;
  }
  // Exponential backoff with full jitter: random(0, min(30 s, 1 s · 2^n)).
  const cap = Math.min(30000, 1000 * 2 ** state.attempt);
  const delay = now ? 0 : Math.random() * cap;
  state.attempt += 1;
  setConn(now ? "connecting" : `reconnecting in ${(delay / 1000).toFixed(1)} s`, "wait");
  setTimeout(connect, delay);
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws?org=${state.org}`);
  state.ws = ws;
  ws.onmessage = (ev) => {
    const f = JSON.parse(ev.data);
    if (f.type === "hello") {
      state.attempt = 0;
      setConn("live", "ok");
      // After a reconnect the page resyncs from a snapshot.
      state.lastTick = 0;
      loadPage();
    } else if (f.type === "tick") {
      applyTick(f);
    } else if (f.type === "fleet") {
      applyFleet(f);
    } else if (f.type === "alerts") {
      loadPage();
    } else if (f.type === "status") {
      setDb(f.db === "up");
    }
  };
  ws.onclose = () => {
    if (state.ws === ws) reconnect(false);
  };
}

document.addEventListener("DOMContentLoaded", async () => {
  $("#next").onclick = () => {
    if (state.next) {
      state.cursors.push(state.next);
      loadPage();
    }
  };
  $("#prev").onclick = () => {
    if (state.cursors.length > 1) {
      state.cursors.pop();
      loadPage();
    }
  };
  $("#first").onclick = () => {
    state.cursors = [null];
    loadPage();
  };
  for (;;) {
    try {
      await loadOrgs();
      break;
    } catch (e) {
      setConn("server unreachable, retrying", "bad");
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2000));
    }
  }
  await loadPage();
  connect();
});
