// The live view's page: plain JavaScript, no build step. Everything it shows comes from the server
// (/api/state, /api/checks, /api/events): the topology SVG drawn by src/topology, the colour of each
// element computed by src/view/status.ts, the trace's hops placed by src/view/tracePath.ts. The page
// only paints them, and asks for the two actions the server offers: verify and trace.

const SVG_NS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

let state = null;
let shownSvg = "";
let selected = null; // the element key whose checks are listed
let lastTrace = null; // redrawn when the picture is replaced
let picking = null; // null, [] or [from]: picking two containers in the picture

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok && res.status !== 202) throw new Error(data.error ?? `${res.status}`);
  return data;
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const attr = (v) => CSS.escape(v);

/** The SVG elements that stand for an element key (see src/view/status.ts). */
function elementsOf(key) {
  const root = $("topology");
  const [kind, rest] = key.includes(":") ? [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)] : [key, ""];
  switch (kind) {
    case "container":
      return [...root.querySelectorAll(`g.container[data-container="${attr(rest)}"]`)];
    case "link": {
      const at = rest.lastIndexOf("@");
      const c = attr(rest.slice(0, at));
      const n = attr(rest.slice(at + 1));
      return [
        ...root.querySelectorAll(`g.container[data-container="${c}"] line.link[data-network="${n}"]`),
        ...root.querySelectorAll(`g.attachment[data-container="${c}"][data-network="${n}"]`),
      ];
    }
    case "host":
      return [...root.querySelectorAll(`g.host[data-host="${attr(rest)}"], g.uplink[data-host="${attr(rest)}"]`)];
    case "network":
      return [...root.querySelectorAll(`g.network[data-network="${attr(rest)}"]`)];
    case "kv":
      return [...root.querySelectorAll("g.kv")];
    default:
      return [];
  }
}

/** Which element a click in the picture meant: the innermost one with checks. */
function keyOfTarget(t) {
  const link = t.closest("line.link");
  if (link) return `link:${link.closest("g.container").dataset.container}@${link.dataset.network}`;
  const att = t.closest("g.attachment");
  if (att) return `link:${att.dataset.container}@${att.dataset.network}`;
  const c = t.closest("g.container");
  if (c) return `container:${c.dataset.container}`;
  const up = t.closest("g.uplink");
  if (up) return `host:${up.dataset.host}`;
  const h = t.closest("g.host");
  if (h) return `host:${h.dataset.host}`;
  const n = t.closest("g.network");
  if (n) return `network:${n.dataset.network}`;
  if (t.closest("g.kv")) return "kv";
  return null;
}

function applyStatuses(statuses, fresh) {
  for (const [key, s] of Object.entries(statuses)) {
    for (const e of elementsOf(key)) {
      e.dataset.status = s.status;
      if (fresh) e.dataset.fresh = "1";
      e.dataset.counts = `${s.counts.pass} pass, ${s.counts.xfail} as expected, ${s.counts.fail} fail, ${s.counts.blocked} blocked, ${s.counts.notrun} not run`;
    }
  }
}

function describeWhen(iso) {
  const d = new Date(iso);
  const ago = Math.round((Date.now() - d.getTime()) / 1000);
  return `${d.toLocaleString()} (${ago < 60 ? `${ago} s` : `${Math.round(ago / 60)} min`} ago)`;
}

function renderHeader(s) {
  $("lab-title").textContent = `Lab ${s.lab.name}`;
  $("lab-summary").textContent = `${s.lab.summary}, ${s.lab.checks} checks`;
  const t = $("verified-at");
  if (s.verification) {
    t.dateTime = s.verification.startedAt;
    t.textContent = describeWhen(s.verification.startedAt);
    $("verified-summary").textContent = `${s.verification.summaryLine} (${(s.verification.wallMs / 1000).toFixed(2)} s)`;
    $("verified-summary").className = s.verification.ok ? "ok" : "failed";
  } else {
    t.removeAttribute("datetime");
    t.textContent = "never";
    $("verified-summary").textContent = "";
  }
  $("verify-now").disabled = s.verifying || !s.running;
  $("trace-run").disabled = s.tracing || !s.running;
  $("trace-pick").disabled = s.tracing || !s.running;
  $("not-running").hidden = s.running;
  if (!s.running && s.notRunning) {
    $("not-running-reason").textContent = s.notRunning.reason;
    $("start-commands").textContent = s.notRunning.commands.join("\n");
  }
  $("inspected").textContent = s.inspectedAt ? `lab read ${describeWhen(s.inspectedAt)}` : "";
  $("verification-note").textContent = s.verificationNote ?? "";
}

function renderTopology(s) {
  const root = $("topology");
  if (s.svg !== shownSvg) {
    root.innerHTML = s.svg;
    shownSvg = s.svg;
    if (lastTrace) drawTracePath(lastTrace);
  }
  applyStatuses(s.statuses, false);
  // A container that is not running says so in its box.
  for (const tag of root.querySelectorAll(".state-tag")) tag.remove();
  for (const c of s.containers) {
    for (const g of elementsOf(`container:${c.name}`)) {
      g.dataset.running = String(c.running);
      // (Without a running lab the notice above says why nothing runs.)
      if (c.running || !s.running) continue;
      // Under the host's box, where only the container's lines to the networks pass (the halo keeps it readable).
      const box = g.querySelector("rect");
      const y = Number(box.getAttribute("y")) + Number(box.getAttribute("height")) + 24;
      g.appendChild(svgEl("text", { x: Number(box.getAttribute("x")) + 4, y, class: "state-tag halo" }, c.state));
    }
  }
  drawFaults(s.faults);
}

const FAULT_STATE = {
  active: "active",
  inactive: "recorded, not in effect",
  "not applied": "not applied",
  stale: "stale",
  unknown: "unknown",
};

/**
 * The lab's faults on the picture: a badge with the kind and its setting, on the host's link to the
 * underlay (the interface the fault acts on) or, for a stopped daemon, on the host's box; several on
 * one place side by side. Their list, with each one's state as inspect found it, beside the picture.
 */
function drawFaults(faults) {
  const root = $("topology");
  for (const b of root.querySelectorAll(".fault-badge")) b.remove();
  for (const g of root.querySelectorAll("[data-fault]")) delete g.dataset.fault;
  const next = new Map(); // where -> x of the next badge
  for (const f of faults) {
    const g = root.querySelector(`g.${f.at === "host" ? "host" : "uplink"}[data-host="${attr(f.host)}"]`);
    if (!g) continue;
    // The place carries the most telling state of its faults (an active one over the others).
    if (g.dataset.fault !== "active") g.dataset.fault = f.state;
    const badge = svgEl("g", {
      class: "fault-badge",
      "data-host": f.host,
      "data-fault": f.name,
      "data-kind": f.kind,
      "data-state": f.state,
    });
    badge.append(
      svgEl("title", {}, `${f.label}: ${FAULT_STATE[f.state] ?? f.state}${f.effect ? `; ${f.effect}` : ""}${f.why ? ` (${f.why})` : ""}`),
    );
    const box = svgEl("rect", { rx: 3, height: 16 });
    const text = svgEl("text", {}, `${f.badge}${f.state === "active" ? "" : ` (${f.state})`}`);
    badge.append(box, text);
    g.append(badge);
    const w = text.getComputedTextLength() + 10;
    let x;
    let y;
    const key = `${f.at}:${f.host}`;
    if (f.at === "host") {
      // From the box's top right corner leftwards.
      const r = g.querySelector("rect");
      const right = next.get(key) ?? Number(r.getAttribute("x")) + Number(r.getAttribute("width")) - 8;
      x = Math.max(right - w, Number(r.getAttribute("x")) + 8);
      y = Number(r.getAttribute("y")) + 8;
      next.set(key, x - 6);
    } else {
      // After the link's label (its interface and address).
      const label = g.querySelector("text").getBBox();
      x = next.get(key) ?? label.x + label.width + 10;
      y = label.y + label.height / 2 - 8;
      next.set(key, x + w + 6);
    }
    box.setAttribute("x", String(x));
    box.setAttribute("y", String(y));
    box.setAttribute("width", String(w));
    text.setAttribute("x", String(x + 5));
    text.setAttribute("y", String(y + 12));
  }
  $("faults-panel").hidden = faults.length === 0;
  $("faults").tBodies[0].replaceChildren(
    ...faults.map((f) => {
      const tr = el("tr", { "data-host": f.host, "data-fault": f.name, "data-state": f.state });
      const state = el("td");
      state.append(
        el("span", { class: `fault-state ${f.state.replace(" ", "-")}`, title: f.why ?? f.since ?? "" }, FAULT_STATE[f.state] ?? f.state),
      );
      tr.append(el("td", { title: f.effect ?? "" }, f.label), el("td", {}, f.host), el("td", {}, f.setting), state);
      tr.addEventListener("click", () => showChecks(`host:${f.host}`));
      return tr;
    }),
  );
}

/** The user's own expectations (lab:expect), in the order written, with the last verification's words. */
function renderExpectations(s) {
  $("expectations-panel").hidden = s.expectations.length === 0;
  const held = s.expectations.filter((r) => r.status === "pass" || r.status === "xfail").length;
  const run = s.expectations.filter((r) => r.word !== undefined).length;
  $("expectations-summary").textContent = run ? `${held} of ${s.expectations.length} as written` : "not run yet";
  $("expectations").tBodies[0].replaceChildren(
    ...s.expectations.map((r) => {
      const tr = el("tr", { "data-check": r.id, "data-status": r.status, "data-key": r.expectation.key });
      const badge = el("td");
      badge.append(statusBadge(r));
      tr.append(
        badge,
        el("td", {}, r.expectation.name),
        el("td", {}, r.expectation.key),
        el("td", {}, EXPECT_TEXT[r.expect] ?? r.expect),
        el("td", {}, r.detail ?? "-"),
      );
      return tr;
    }),
  );
}

function renderContainers(s) {
  const rows = s.containers.map((c) => {
    const st = s.statuses[`container:${c.name}`];
    const tr = el("tr", { "data-container": c.name });
    tr.append(
      el("td", {}, c.name),
      el("td", {}, c.host),
      el("td", { class: c.running ? "running" : "down" }, c.state),
      el(
        "td",
        { class: "addresses" },
        Object.entries(c.ips)
          .map(([n, ip]) => `${n} ${ip}`)
          .join(", "),
      ),
    );
    const td = el("td");
    td.append(el("span", { class: `badge ${st?.status ?? "notrun"}` }, st?.status ?? "notrun"));
    tr.append(td);
    tr.addEventListener("click", () => showChecks(`container:${c.name}`));
    return tr;
  });
  $("containers").tBodies[0].replaceChildren(...rows);
  for (const id of ["trace-from", "trace-to"]) {
    const sel = $(id);
    const keep = sel.value;
    sel.replaceChildren(...s.containers.map((c) => el("option", { value: c.name }, c.name)));
    if (keep) sel.value = keep;
  }
  if (!$("trace-to").dataset.touched && s.containers.length > 1 && $("trace-to").value === $("trace-from").value)
    $("trace-to").value = s.containers[1].name;
}

function render(s) {
  state = s;
  renderHeader(s);
  renderTopology(s);
  renderContainers(s);
  renderExpectations(s);
  if (selected) void showChecks(selected, false);
  if (!document.body.dataset.ready) {
    window.viewReadyMs = performance.now();
    document.body.dataset.ready = "1";
  }
}

const STATUS_TEXT = { pass: "pass", xfail: "as expected", fail: "FAIL", blocked: "blocked", notrun: "not run" };
const EXPECT_TEXT = { pass: "pass", fail: "fail", "no-run": "not to run" };
/** What each of the verification's words means, for its tooltip. */
const WORD_TEXT = {
  PASS: "passed, as expected",
  XFAIL: "failed, as expected",
  NORUN: "could not run, as expected (its daemon is stopped)",
  BLOCKED: "failed through a stuck dockerd: the host's daemon-netns check is the failure that counts",
  FAIL: "failed, not as expected",
  "XPASS!": "passed where a failure was expected",
  "RAN!": "ran where it was expected not to",
  ERROR: "could not run",
};

/** A row's status: the verification table's own word, coloured by what it means for the lab. */
function statusBadge(r) {
  const word = r.word ?? "not run";
  return el("span", { class: `badge ${r.status}`, title: WORD_TEXT[word] ?? STATUS_TEXT[r.status] }, word);
}

async function showChecks(key, scroll = true) {
  selected = key;
  for (const e of document.querySelectorAll("#topology .selected")) e.classList.remove("selected");
  for (const e of elementsOf(key)) e.classList.add("selected");
  let data;
  try {
    data = await api(`/api/checks?element=${encodeURIComponent(key)}`);
  } catch (e) {
    $("details-title").textContent = key;
    $("details-meta").textContent = e.message;
    $("details").hidden = false;
    return;
  }
  $("details-title").textContent = `${key.replace(":", " ")}: ${data.rows.length} check(s)`;
  $("details-meta").textContent = data.startedAt ? `verification of ${describeWhen(data.startedAt)}` : "no verification yet";
  const rows = data.rows.map((r) => {
    const tr = el("tr", { "data-check": r.id, "data-status": r.status });
    const badge = el("td");
    badge.append(statusBadge(r));
    const why = el(
      "td",
      {},
      `${r.reason}${r.expect === "fail" ? " (expected to fail)" : r.expect === "no-run" ? " (expected not to run)" : ""}`,
    );
    // The faults that set this expectation, by the label the verification gives them.
    for (const f of r.faults ?? []) why.append(" ", el("span", { class: "fault-ref" }, f));
    if (r.expectation) why.append(" ", el("span", { class: "expect-ref" }, `${r.expectation.key}: ${r.expectation.name}`));
    const what = el("td", {}, r.detail ?? "-");
    if (r.blockedBy) what.prepend(el("span", { class: "blocked-ref" }, `blocked by ${r.blockedBy}`), " ");
    tr.append(
      badge,
      el("td", {}, r.id),
      why,
      what,
      el("td", {}, r.durationMs === undefined ? "-" : `${(r.durationMs / 1000).toFixed(2)} s`),
    );
    return tr;
  });
  $("details-checks").tBodies[0].replaceChildren(...rows);
  $("details").hidden = false;
  if (scroll) $("details").scrollIntoView({ block: "nearest" });
}

// --- verify now -------------------------------------------------------------------------------

async function verifyNow() {
  $("verify-now").disabled = true;
  $("verify-progress").className = "";
  $("verify-progress").textContent = "starting...";
  try {
    await api("/api/verify", {});
  } catch (e) {
    $("verify-progress").className = "error";
    $("verify-progress").textContent = e.message;
    $("verify-now").disabled = false;
  }
}

function onVerifyStart(d) {
  $("verify-now").disabled = true;
  $("verify-progress").className = "";
  $("verify-progress").textContent = `verifying: 0 / ${d.total}`;
  $("topology").classList.add("verifying");
  for (const e of document.querySelectorAll("#topology [data-fresh]")) delete e.dataset.fresh;
}

function onVerifyProgress(d) {
  $("verify-progress").textContent = `verifying: ${d.done} / ${d.total}`;
  applyStatuses(d.changed, true);
}

function onVerifyDone(d) {
  $("topology").classList.remove("verifying");
  $("verify-progress").textContent = `done: ${d.summaryLine}`;
}

function onVerifyError(d) {
  $("topology").classList.remove("verifying");
  $("verify-progress").className = "error";
  $("verify-progress").textContent = `verification failed to run: ${d.message}`;
}

// --- trace ------------------------------------------------------------------------------------

function drawTracePath(t) {
  const svg = $("topology").querySelector("svg");
  if (!svg) return;
  svg.querySelector("#trace-path")?.remove();
  // The picture as drawn, before any room added for a cause.
  svg.dataset.width ??= svg.getAttribute("width");
  svg.dataset.height ??= svg.getAttribute("height");
  svg.setAttribute("height", svg.dataset.height);
  svg.setAttribute("viewBox", `0 0 ${svg.dataset.width} ${svg.dataset.height}`);
  const g = svgEl("g", { id: "trace-path", "data-from": t.result.plan.from.name, "data-to": t.result.plan.to.name });
  const pts = t.path.points;
  const seen = pts.filter((p) => p.status === "seen");
  // The path as far as the probe went, then (dashed, red) the planned rest it never reached.
  const stopAt = pts.findIndex((p) => p.stop);
  const reached = stopAt >= 0 ? pts.slice(0, stopAt + 1) : pts;
  const rest = stopAt >= 0 ? pts.slice(stopAt) : [];
  g.append(svgEl("polyline", { points: reached.map((p) => `${p.x},${p.y}`).join(" "), class: "reached" }));
  if (rest.length > 1) g.append(svgEl("polyline", { points: rest.map((p) => `${p.x},${p.y}`).join(" "), class: "unseen" }));
  pts.forEach((p, i) => {
    const hop = svgEl("g", { class: "hop", "data-hop": p.id, "data-status": p.status });
    hop.append(svgEl("title", {}, `${i + 1}. ${p.label}: ${p.status}`));
    hop.append(svgEl("circle", { cx: p.x, cy: p.y, r: 7, class: p.status }));
    hop.append(svgEl("text", { x: p.x, y: p.y, class: "num" }, String(i + 1)));
    g.append(hop);
  });
  const stop = pts[stopAt];
  if (stop) {
    // A ring around the hop where it stopped, and the cause under the picture, joined by a leader line.
    g.append(svgEl("circle", { cx: stop.x, cy: stop.y, r: 13, class: "stop-mark" }));
    const w = Number(svg.dataset.width);
    const h = Number(svg.dataset.height);
    const lines = wrap(`stopped at ${stop.label}: ${t.path.cause ?? "?"}`, Math.floor((w - 48) / 7.3));
    const top = h + 8;
    const height = h + 20 + lines.length * 16;
    svg.setAttribute("height", String(height));
    svg.setAttribute("viewBox", `0 0 ${w} ${height}`);
    g.append(svgEl("rect", { x: 0, y: h, width: w, height: height - h, class: "cause-box" }));
    g.append(svgEl("line", { x1: stop.x, y1: stop.y + 13, x2: stop.x, y2: top + 4, class: "leader" }));
    const text = svgEl("text", { x: 24, y: top + 12, class: "cause" });
    lines.forEach((l, k) => {
      text.append(svgEl("tspan", { x: 24, dy: k === 0 ? 0 : 16 }, l));
    });
    g.append(text);
  }
  g.dataset.seen = String(seen.length);
  svg.append(g);
}

/** Words into lines of at most `max` characters. */
function wrap(text, max) {
  const lines = [];
  let cur = "";
  for (const w of text.split(" ")) {
    if (cur && cur.length + w.length + 1 > max) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines;
}

function renderTrace(t) {
  lastTrace = t;
  drawTracePath(t);
  $("trace-title").textContent = t.title;
  $("trace-summary").textContent = t.summary;
  $("trace-summary").className = t.result.cause ? "failed" : "ok";
  const stop = t.path.points.find((p) => p.stop)?.id;
  $("trace-hops").replaceChildren(
    ...t.result.hops.map((h) => {
      const li = el("li", { class: `${h.status}${h.id === stop ? " stop" : ""}`, "data-hop": h.id });
      const mark = h.status === "seen" ? "seen" : h.status === "not-seen" ? "NOT SEEN" : `not captured: ${h.why ?? "?"}`;
      li.textContent = `${h.device} ${h.namespace}${h.host ? ` @ ${h.host}` : ""} [${h.role}]: ${mark}${h.id === stop ? ` <- stopped here: ${t.result.cause}` : ""}`;
      return li;
    }),
  );
  // The sequence diagram, drawn by src/trace/svg.ts.
  $("trace-svg").innerHTML = t.svg.replace(/^<\?xml[^>]*>\n/, "");
  $("trace-result").hidden = false;
}

async function runTrace(from, to) {
  $("trace-status").className = "";
  $("trace-status").textContent = `tracing ${from} -> ${to} (a few seconds)...`;
  $("trace-run").disabled = true;
  try {
    const t = await api("/api/trace", { from, to });
    renderTrace(t);
    $("trace-status").textContent = t.summary;
    $("trace-status").className = t.result.cause ? "error" : "";
  } catch (e) {
    $("trace-status").className = "error";
    $("trace-status").textContent = e.message;
  } finally {
    $("trace-run").disabled = !state?.running;
  }
}

function onPictureClick(ev) {
  const key = keyOfTarget(ev.target);
  if (!key) return;
  if (picking !== null && key.startsWith("container:")) {
    picking.push(key.slice("container:".length));
    if (picking.length === 1) {
      $("trace-status").textContent = `from ${picking[0]}: now pick the destination container`;
      return;
    }
    const [from, to] = picking;
    picking = null;
    $("trace-from").value = from;
    $("trace-to").value = to;
    void runTrace(from, to);
    return;
  }
  void showChecks(key);
}

// --- wiring -----------------------------------------------------------------------------------

function connectEvents() {
  const es = new EventSource("/api/events");
  es.addEventListener("state", (e) => render(JSON.parse(e.data)));
  es.addEventListener("verify-start", (e) => onVerifyStart(JSON.parse(e.data)));
  es.addEventListener("verify-progress", (e) => onVerifyProgress(JSON.parse(e.data)));
  es.addEventListener("verify-done", (e) => onVerifyDone(JSON.parse(e.data)));
  es.addEventListener("verify-error", (e) => onVerifyError(JSON.parse(e.data)));
}

async function start() {
  $("verify-now").addEventListener("click", verifyNow);
  $("trace-run").addEventListener("click", () => runTrace($("trace-from").value, $("trace-to").value));
  $("trace-to").addEventListener("change", () => {
    $("trace-to").dataset.touched = "1";
  });
  $("trace-pick").addEventListener("click", () => {
    picking = [];
    $("trace-status").className = "";
    $("trace-status").textContent = "pick the source container in the picture";
  });
  $("topology").addEventListener("click", onPictureClick);
  try {
    render(await api("/api/state"));
  } catch (e) {
    document.body.dataset.error = e.message;
    $("lab-summary").textContent = `cannot read the state: ${e.message}`;
  }
  connectEvents();
}

void start();
