// The dashboard's page: it follows the server's event stream (/events) and
// redraws the parts that changed. No framework, no CDN.
"use strict";

const maxLines = 500;
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
}

function uptime(started, now) {
  if (!started) return "-";
  let s = Math.max(0, Math.floor((now - new Date(started)) / 1000));
  const d = Math.floor(s / 86400); s %= 86400;
  const h = Math.floor(s / 3600); s %= 3600;
  const m = Math.floor(s / 60); s %= 60;
  if (d) return d + "d " + h + "h";
  if (h) return h + "h " + m + "m";
  if (m) return m + "m " + s + "s";
  return s + "s";
}

// plot draws a series as a line over the canvas, scaled to its maximum.
function plot(canvas, points, colour) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth * ratio, h = canvas.clientHeight * ratio;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  if (!points || points.length < 2) return;
  const top = Math.max(...points) || 1;
  ctx.strokeStyle = colour; ctx.lineWidth = 1.5 * ratio;
  ctx.beginPath();
  points.forEach((p, i) => {
    const x = (i / (points.length - 1)) * (w - 2) + 1;
    const y = h - 1 - (p / top) * (h - 2);
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
  canvas.dataset.points = String(points.length);
}

function serviceRow(s, now) {
  const cpu = el("canvas", { class: "cpu-plot" });
  const mem = el("canvas", { class: "memory-plot" });
  const replicas = s.replicas.map((r) => r.name + ": " + r.state + (r.health ? " (" + r.health + ")" : "") + (r.node ? " on " + r.node : "") + (r.error ? " — " + r.error : "")).join("\n");
  const row = el("tr", { "data-service": s.name },
    el("td", { "data-field": "name" }, s.name),
    el("td", { "data-field": "state", class: "state-" + s.state.replace(" ", "-") }, s.state),
    el("td", { "data-field": "replicas", class: "num", title: replicas }, s.running + "/" + s.total),
    el("td", { "data-field": "health", class: "health-" + (s.health || "none") }, s.health || "-"),
    el("td", { "data-field": "image" }, s.image || "-"),
    el("td", { "data-field": "uptime", class: "num" }, s.running ? uptime(s.started, now) : "-"),
    el("td", { "data-field": "cpu", class: "num" }, el("span", { class: "plot" }, cpu, s.cpu_percent.toFixed(1) + "%")),
    el("td", { "data-field": "memory", class: "num" }, el("span", { class: "plot" }, mem, bytes(s.memory_bytes))),
  );
  return [row, () => { plot(cpu, s.history.cpu, "#2b6cb0"); plot(mem, s.history.memory, "#805ad5"); }];
}

const known = new Set();
let notices = [];

function showState(st) {
  const now = new Date(st.time);
  $("#project").textContent = st.project;
  document.title = "stack · " + st.project;
  $("#clock").textContent = now.toLocaleTimeString();
  const notes = $("#notes");
  notes.replaceChildren(...st.notes.concat(st.ps_error ? ["stack ps: " + st.ps_error] : [], notices).map((n) => el("li", {}, n)));
  const draws = [];
  $("#services tbody").replaceChildren(...st.services.map((s) => {
    const [row, draw] = serviceRow(s, now);
    draws.push(draw);
    return row;
  }));
  draws.forEach((d) => d());
  const select = $("#log-service");
  for (const s of st.services) {
    if (!known.has(s.name)) { known.add(s.name); select.append(el("option", { value: s.name }, s.name)); }
  }
  $("#releases-section").hidden = st.releases.length === 0 && !st.releases_error;
  $("#releases tbody").replaceChildren(...(st.releases_error ? [el("tr", {}, el("td", { colspan: "5" }, "stack releases: " + st.releases_error))] : []),
    ...st.releases.map((r) => el("tr", { "data-release": r.tag, class: r.running ? "running" : "" },
      el("td", {}, r.tag), el("td", {}, r.images), el("td", { class: r.running ? "state-running" : "" }, r.running ? "running (" + r.status + ")" : r.status),
      el("td", {}, new Date(r.when).toLocaleString()), el("td", {}, r.by || "-"))));
  $("#routes-section").hidden = st.routes.length === 0;
  $("#routes tbody").replaceChildren(...st.routes.map((r) => el("tr", { "data-route": r.route },
    el("td", {}, r.route), el("td", {}, r.service), el("td", { class: "num", "data-field": "requests" }, r.requests.toFixed(0)),
    el("td", { class: "num" }, r.requests_per_second.toFixed(1)), el("td", { class: "num" }, r.errors_5xx_per_second.toFixed(1)),
    el("td", { class: "num" }, r.p50_ms ? r.p50_ms.toFixed(1) + " ms" : "-"), el("td", { class: "num" }, r.p99_ms ? r.p99_ms.toFixed(1) + " ms" : "-"))));
}

function append(list, item) {
  const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(item);
  while (list.children.length > maxLines) list.firstChild.remove();
  if (atEnd) list.scrollTop = list.scrollHeight;
}

function clock(t) { return new Date(t).toLocaleTimeString(); }

function showEvent(e) {
  const attrs = Object.entries(e.attributes || {}).filter(([k]) => k === "exitCode" || k === "signal").map(([k, v]) => k + "=" + v).join(" ");
  append($("#events"), el("li", { "data-service": e.service, "data-action": e.action },
    el("span", { class: "time" }, clock(e.time) + " "), el("span", { class: "svc" }, e.container + " "), e.action + (attrs ? " " + attrs : "")));
}

function logVisible(li) {
  const svc = $("#log-service").value, filter = $("#log-filter").value.toLowerCase();
  return (!svc || li.dataset.service === svc) && (!filter || li.dataset.text.toLowerCase().includes(filter));
}

function showLog(l) {
  const li = el("li", { "data-service": l.service, class: l.stream },
    el("span", { class: "time" }, clock(l.time) + " "), el("span", { class: "svc" }, (l.service === "(gateway)" ? l.service : l.service + "-" + l.number) + (l.node ? "@" + l.node : "") + " | "), l.text);
  li.dataset.text = l.text;
  li.hidden = !logVisible(li);
  append($("#logs"), li);
}

function refilter() {
  for (const li of $("#logs").children) li.hidden = !logVisible(li);
}

function connect() {
  const conn = $("#connection");
  const source = new EventSource("/events");
  source.onopen = () => {
    conn.textContent = "live"; conn.className = "badge on";
    // The server sends its backlog of events and lines again on every connection.
    $("#events").replaceChildren(); $("#logs").replaceChildren(); notices = [];
  };
  source.onerror = () => { conn.textContent = "reconnecting"; conn.className = "badge off"; };
  source.addEventListener("state", (m) => showState(JSON.parse(m.data)));
  source.addEventListener("event", (m) => showEvent(JSON.parse(m.data)));
  source.addEventListener("log", (m) => showLog(JSON.parse(m.data)));
  source.addEventListener("notice", (m) => { notices = notices.concat([JSON.parse(m.data)]).slice(-5); });
}

document.addEventListener("DOMContentLoaded", () => {
  $("#log-service").addEventListener("change", refilter);
  $("#log-filter").addEventListener("input", refilter);
  connect();
});
