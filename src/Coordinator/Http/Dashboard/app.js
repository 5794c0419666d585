// FaceCluster operator dashboard: polls the coordinator's JSON API every 2 s and draws it.
// Plain JavaScript, no libraries; charts are inline SVG. Served by DashboardAssets (embedded resources).
"use strict";

(() => {
  const POLL_MS = 2000;
  const TOKEN_KEY = "facecluster.token";
  const WORST_COUNT = 50;
  const PALETTE = ["#2f6fdf", "#c4372d", "#2a8a4a", "#b7791f", "#7b4fd1", "#0f8b8d", "#d0428a", "#5d6b7a", "#8a6d1f", "#3b9c6e"];

  const $ = (id) => document.getElementById(id);
  const last = {};          // section → JSON text last drawn (redraw only on change)
  let selectedSample = null; // sample id whose history is shown
  let polling = false;

  // ---------- values ----------

  /** A number from JSON: numbers, "NaN"/"Infinity" strings (System.Text.Json named literals) and null. */
  function num(v) {
    if (typeof v === "number") return v;
    if (typeof v === "string" && v.trim() !== "") return Number(v);
    return NaN;
  }
  function fmt(v, digits = 3) {
    const n = num(v);
    if (!Number.isFinite(n)) return "–";
    if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en");
    return n.toPrecision(digits).replace(/\.?0+$/, (m) => (m.startsWith(".") ? "" : m));
  }
  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  const cls = (s) => String(s ?? "").toLowerCase().replace(/[^a-z0-9-]/g, "");
  const faceUrl = (id) => `/api/faces/${encodeURIComponent(id)}`;

  // ---------- token ----------

  function readTokenFromUrl() {
    const url = new URL(window.location.href);
    const token = url.searchParams.get("token");
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      url.searchParams.delete("token"); // keep it out of the address bar and the history
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
  }
  const token = () => sessionStorage.getItem(TOKEN_KEY) || "";
  function showTokenPanel(show) { $("token-panel").hidden = !show; }

  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const value = $("token-input").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token-input").value = "";
    showTokenPanel(false);
    say("token saved for this tab");
  });

  // ---------- messages ----------

  let messageTimer = null;
  function say(text, isError = false) {
    const box = $("message");
    box.textContent = text;
    box.className = "message" + (isError ? " error" : "");
    box.hidden = false;
    clearTimeout(messageTimer);
    messageTimer = setTimeout(() => { box.hidden = true; }, isError ? 12000 : 5000);
  }

  // ---------- HTTP ----------

  // Every route but the page needs the token; the first answer to it also sets a session cookie (which <img> uses).
  async function getJson(path) {
    const headers = { Accept: "application/json" };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    const response = await fetch(path, { headers, cache: "no-store" });
    if (response.status === 401) showTokenPanel(true);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  async function post(path, body) {
    if (!token()) {
      showTokenPanel(true);
      say("paste the operator token first", true);
      return null;
    }
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token()}` },
      body: JSON.stringify(body),
    });
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      showTokenPanel(true);
      say("the coordinator refused the token: paste the current one", true);
      return null;
    }
    let reply = null;
    try { reply = await response.json(); } catch { reply = null; }
    if (!response.ok) {
      const why = reply && (reply.message || reply.detail || reply.title || reply.error);
      say(`${path}: ${why || "HTTP " + response.status}`, true);
      return null;
    }
    return reply ?? {};
  }

  // ---------- charts ----------

  /** An SVG line chart of series [{name, x:[…], y:[…]}]; non-finite points break the line. */
  function lineChart(series, { width = 480, height = 200, xLabel = "step" } = {}) {
    const pad = { l: 44, r: 10, t: 8, b: 22 };
    const pts = series.flatMap((s) => s.x.map((x, i) => [num(x), num(s.y[i])])).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) return '<p class="empty">no data yet</p>';
    let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
    let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
    const yPad = (y1 - y0) * 0.05; y0 -= yPad; y1 += yPad;
    const sx = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
    const sy = (y) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
    let svg = `<svg viewBox="0 0 ${width} ${height}" role="img" xmlns="http://www.w3.org/2000/svg">`;
    svg += `<line class="axis" x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}"/>`;
    svg += `<line class="axis" x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}"/>`;
    for (let k = 0; k <= 3; k++) {
      const y = y0 + ((y1 - y0) * k) / 3;
      svg += `<text x="${pad.l - 4}" y="${sy(y) + 3}" text-anchor="end">${esc(fmt(y))}</text>`;
    }
    svg += `<text x="${pad.l}" y="${height - 6}">${esc(fmt(x0))}</text>`;
    svg += `<text x="${width - pad.r}" y="${height - 6}" text-anchor="end">${esc(xLabel)} ${esc(fmt(x1))}</text>`;
    series.forEach((s, k) => {
      const colour = s.colour || PALETTE[k % PALETTE.length];
      let d = "", pen = false;
      s.x.forEach((xv, i) => {
        const x = num(xv), y = num(s.y[i]);
        if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; return; }
        d += `${pen ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
        pen = true;
      });
      const dots = s.x.length <= 40 ? s.x.map((xv, i) => {
        const x = num(xv), y = num(s.y[i]);
        return Number.isFinite(x) && Number.isFinite(y) ? `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2" fill="${colour}"/>` : "";
      }).join("") : "";
      svg += `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"><title>${esc(s.name)}</title></path>${dots}`;
    });
    svg += "</svg>";
    if (series.length > 1) {
      svg += '<div class="legend">' + series.map((s, k) =>
        `<span><i style="background:${s.colour || PALETTE[k % PALETTE.length]}"></i>${esc(s.name)}</span>`).join("") + "</div>";
    }
    return svg;
  }

  // The charts' view: TensorBoard's smoothing (an exponential moving average, debiased at the start) and a window of
  // steps (zoom). Both apply to every loss chart; the data stay as the ledger sent them.
  const view = { smoothing: 0, from: NaN, to: NaN };
  function curveSeries(c, strip) {
    const xs = [], ys = [];
    let last = 0, weight = 0;
    (c.steps || []).forEach((xv, i) => {
      const x = num(xv), y = num((c.meanLoss || [])[i]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) return;
      last = last * view.smoothing + (1 - view.smoothing) * y;
      weight = weight * view.smoothing + (1 - view.smoothing);
      if ((Number.isFinite(view.from) && x < view.from) || (Number.isFinite(view.to) && x > view.to)) return;
      xs.push(x);
      ys.push(view.smoothing > 0 ? last / weight : y);
    });
    return { name: String(c.name ?? "").replace(strip, ""), x: xs, y: ys };
  }

  function readView() {
    view.smoothing = Number($("smoothing").value) || 0;
    $("smoothing-value").textContent = String(view.smoothing);
    const bound = (id) => ($(id).value.trim() === "" ? NaN : Number($(id).value));
    view.from = bound("zoom-from");
    view.to = bound("zoom-to");
    delete last.curves; // redraw from the data last polled
    if (lastCurves) drawCurves(lastCurves);
  }
  ["smoothing", "zoom-from", "zoom-to"].forEach((id) => $(id).addEventListener("input", readView));
  $("zoom-reset").addEventListener("click", () => { $("zoom-from").value = ""; $("zoom-to").value = ""; readView(); });
  $("chart-view").addEventListener("submit", (e) => e.preventDefault());
  let lastCurves = null;

  // ---------- sections ----------

  function changed(section, data) {
    const text = JSON.stringify(data);
    if (last[section] === text) return false;
    last[section] = text;
    return true;
  }

  function drawStatus(s) {
    if (!changed("status", s)) return;
    setField("runId", s.runId || "–");
    setField("phase", s.phase || "–");
    setField("step", s.totalSteps ? `${s.step} / ${s.totalSteps}` : String(s.step ?? "–"));
    setField("cycle", s.cycle ?? "–");
    setField("samplesPerSecond", fmt(s.samplesPerSecond));
    const total = num(s.totalSteps), step = num(s.step);
    $("step-bar").style.width = Number.isFinite(total) && total > 0 ? `${Math.min(100, (100 * step) / total)}%` : "0";
    const workers = s.workers || [];
    const batchSum = workers.reduce((a, w) => a + Math.max(0, num(w.batch) || 0), 0);
    $("workers").innerHTML = workers.length === 0 ? '<tr><td colspan="11" class="empty">no workers yet</td></tr>' :
      workers.map((w) => {
        const share = batchSum > 0 ? (100 * (num(w.batch) || 0)) / batchSum : 0;
        return `<tr data-worker="${esc(w.id)}"><td>${esc(w.id)}</td><td>${esc(w.host)}</td><td>${esc(w.device)}</td>` +
          `<td><span class="state ${cls(w.state)}">${esc(w.state)}</span></td><td class="num">${esc(w.batch)}</td>` +
          `<td><span class="share" title="${share.toFixed(1)}% of the global batch"><span style="width:${share.toFixed(1)}%"></span></span> ${share.toFixed(0)}%</td>` +
          `<td class="num">${esc(fmt(w.samplesPerSecond))}</td><td class="num">${esc(w.lastStep)}</td>` +
          `<td class="num" data-field="memory" title="${esc(w.telemetry ?? "")}">${esc(w.memory ?? "n/a")}</td>` +
          `<td class="num" data-field="utilization" title="${esc(w.telemetry ?? "")}">${esc(w.utilization ?? "n/a")}</td><td>${esc(w.note)}</td></tr>`;
      }).join("");
  }

  function drawStats(s) {
    if (!changed("stats", s)) return;
    setField("lastGlobalLoss", fmt(s.lastGlobalLoss));
    setField("mode", s.mode || "–");
    $("ledger-counts").textContent =
      `${s.samples} samples in ${s.identities} identities · ${s.active} active · ${s.refed} re-fed · ${s.flagged} flagged · ` +
      `${s.awaitingReview} awaiting review · ${s.quarantined} quarantined · ${s.restored} restored · ${s.cycles} cycles closed`;
  }

  function drawCurves(c) {
    lastCurves = c;
    if (!changed("curves", c)) return;
    $("chart-global").innerHTML = c.global ? lineChart([curveSeries(c.global, "")]) : '<p class="empty">no data yet</p>';
    $("chart-identities").innerHTML = lineChart((c.identities || []).map((x) => curveSeries(x, /^identity:/)));
    $("chart-workers").innerHTML = lineChart((c.workers || []).map((x) => curveSeries(x, /^worker:/)));
    const validation = c.validation || [];
    $("chart-validation").innerHTML = validation.length
      ? lineChart(validation.map((x) => curveSeries(x, /^validation:validation\//)))
      : '<p class="empty">no checkpoint measured yet</p>';
  }

  // ---------- previews ----------

  let previewSteps = [];
  let previewFollow = true; // show the newest until the person moves the slider back

  function drawPreviews(p) {
    const steps = (p.steps || []).map(num).filter(Number.isFinite);
    if (!changed("previews", steps)) return;
    previewSteps = steps;
    $("preview-panel").hidden = steps.length === 0;
    $("preview-empty").hidden = steps.length > 0;
    if (steps.length === 0) return;
    const slider = $("preview-slider");
    slider.max = String(steps.length - 1);
    if (previewFollow) slider.value = String(steps.length - 1);
    showPreview();
  }

  function showPreview() {
    const index = Math.min(Number($("preview-slider").value), previewSteps.length - 1);
    const step = previewSteps[index];
    $("preview-step").textContent = String(step);
    const src = `/api/previews/${encodeURIComponent(step)}`;
    const img = $("preview-image");
    if (img.getAttribute("src") !== src) img.setAttribute("src", src);
  }

  $("preview-slider").addEventListener("input", () => {
    previewFollow = Number($("preview-slider").value) === previewSteps.length - 1;
    showPreview();
  });

  function drawWorst(w) {
    if (!changed("worst", w)) return;
    const samples = w.samples || [];
    $("worst-faces").innerHTML = samples.length === 0 ? '<p class="empty">no samples ranked yet</p>' :
      samples.map((s) =>
        `<button type="button" class="face${s.sampleId === selectedSample ? " selected" : ""}" data-sample="${esc(s.sampleId)}" ` +
        `title="${esc(s.identity)} · ${esc(s.path)} · ${esc(s.status)}"><span class="status-${cls(s.status)}">` +
        `<img src="${faceUrl(s.sampleId)}" alt="sample ${esc(s.sampleId)}" loading="lazy"></span>` +
        `<div class="caption">#${esc(s.sampleId)} · ${esc(fmt(s.badness, 2))}</div><div class="caption">${esc(s.status)}</div></button>`).join("");
  }

  function drawSample(h) {
    if (!changed("sample", h)) return;
    const s = h.sample;
    const cycles = h.cycles || [];
    const changes = (h.changes || []).map((c) =>
      `<li>cycle ${esc(c.cycle)}: ${esc(c.from)} → ${esc(c.to)} <span class="empty">${esc(c.reason)}</span></li>`).join("");
    const detail = $("sample-detail");
    detail.innerHTML =
      `<img src="${faceUrl(s.sampleId)}" alt="sample ${esc(s.sampleId)}">` +
      `<div><h3>#${esc(s.sampleId)} ${esc(s.identity)} <small class="empty">${esc(s.path)}</small></h3>` +
      `<dl><dt>status</dt><dd data-field="sample-status">${esc(s.status)}</dd><dt>badness</dt><dd>${esc(fmt(s.badness))}</dd>` +
      `<dt>observations</dt><dd>${esc(s.observations)}</dd><dt>EMA loss</dt><dd>${esc(fmt(s.emaLoss))}</dd>` +
      `<dt>EMA relative</dt><dd>${esc(fmt(s.emaRelative))}</dd><dt>last z</dt><dd>${esc(fmt(s.lastZ))}</dd>` +
      `<dt>reason</dt><dd>${esc(s.reason || "–")}</dd></dl>` +
      `<div class="sample-charts"><figure><figcaption>mean loss per cycle</figcaption><div class="chart">${lineChart(
        [{ name: "mean loss", x: cycles.map((c) => c.cycle), y: cycles.map((c) => c.meanLoss) }], { height: 150, xLabel: "cycle" })}</div></figure>` +
      `<figure><figcaption>loss ÷ its step's median, per cycle</figcaption><div class="chart">${lineChart(
        [{ name: "relative loss", x: cycles.map((c) => c.cycle), y: cycles.map((c) => c.meanRelative), colour: PALETTE[1] }], { height: 150, xLabel: "cycle" })}</div></figure></div>` +
      (changes ? `<ul>${changes}</ul>` : "") + "</div>";
    detail.hidden = false;
  }

  function drawReview(r) {
    if (!changed("review", r)) return;
    const samples = r.samples || [];
    $("review-count").textContent = samples.length ? `(${samples.length})` : "";
    $("review-rows").innerHTML = samples.length === 0 ? '<tr><td colspan="7" class="empty">nothing awaits review</td></tr>' :
      samples.map((s) =>
        `<tr data-sample="${esc(s.sampleId)}"><td><img class="thumb" src="${faceUrl(s.sampleId)}" alt="" loading="lazy"></td>` +
        `<td class="num">${esc(s.sampleId)}</td><td>${esc(s.identity)}</td><td class="path">${esc(s.path)}</td>` +
        `<td class="num">${esc(fmt(s.badness))}</td><td><span class="signal">${esc(s.signal || "")}</span> ${esc(s.reason)}</td>` +
        `<td><button type="button" class="danger" data-review="quarantine" data-sample="${esc(s.sampleId)}">quarantine</button> ` +
        `<button type="button" class="ok" data-review="keep" data-sample="${esc(s.sampleId)}">keep</button></td></tr>`).join("");
  }

  function drawQuarantine(q) {
    const entries = (q.entries || []).filter((e) => !e.restored);
    if (!changed("quarantine", entries)) return;
    $("quarantine-count").textContent = entries.length ? `(${entries.length})` : "";
    $("quarantine-rows").innerHTML = entries.length === 0 ? '<tr><td colspan="9" class="empty">nothing is quarantined</td></tr>' :
      entries.map((e) =>
        `<tr data-sample="${esc(e.sampleId)}"><td><img class="thumb" src="${faceUrl(e.sampleId)}" alt="" loading="lazy"></td>` +
        `<td class="num">${esc(e.sampleId)}</td><td>${esc(e.identity)}</td><td class="path" title="now at ${esc(e.currentPath)}">${esc(e.path)}</td>` +
        `<td class="num">${esc(e.cycle)}</td><td>${esc(e.action)}</td><td><span class="signal">${esc(e.signal || "")}</span> ${esc(e.reason)}</td><td>${esc(String(e.at || "").replace("T", " ").replace(/\.\d+/, ""))}</td>` +
        `<td><button type="button" data-restore="${esc(e.sampleId)}">restore</button></td></tr>`).join("");
  }

  function setField(name, value) {
    const el = document.querySelector(`[data-field="${name}"]`);
    if (el) el.textContent = String(value);
  }

  // ---------- actions ----------

  document.addEventListener("click", async (e) => {
    const target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    const face = target.closest("button.face");
    if (face) {
      selectedSample = Number(face.dataset.sample);
      document.querySelectorAll("button.face").forEach((b) => b.classList.toggle("selected", b === face));
      await refreshSample();
      return;
    }
    const restore = target.closest("button[data-restore]");
    if (restore) {
      restore.disabled = true;
      const id = Number(restore.dataset.restore);
      const reply = await post("/api/ledger/restore", { ids: [id] });
      if (reply) say(`restored sample ${id}` + (reply.failures && reply.failures.length ? `; failed: ${reply.failures.map((f) => `${f.sampleId} (${f.reason})`).join(", ")}` : ""));
      restore.disabled = false;
      await poll();
      return;
    }
    const review = target.closest("button[data-review]");
    if (review) {
      review.disabled = true;
      const id = Number(review.dataset.sample);
      const decision = review.dataset.review;
      const reply = await post("/api/ledger/review", { id, decision });
      if (reply) say(`sample ${id}: ${decision === "keep" ? "kept" : "quarantined"}` + (reply.status ? ` (now ${reply.status})` : ""));
      review.disabled = false;
      await poll();
    }
  });

  async function refreshSample() {
    if (selectedSample === null) return;
    try {
      drawSample(await getJson(`/api/ledger/sample/${encodeURIComponent(selectedSample)}`));
    } catch (err) {
      $("sample-detail").innerHTML = `<p class="empty">${esc(err.message)}</p>`;
      $("sample-detail").hidden = false;
      delete last.sample;
    }
  }

  // ---------- polling ----------

  async function section(path, draw) {
    try { draw(await getJson(path)); return true; } catch (err) { console.warn(err); return false; }
  }

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const results = await Promise.all([
        section("/api/status", drawStatus),
        section("/api/ledger/stats", drawStats),
        section("/api/ledger/curves", drawCurves),
        section(`/api/ledger/worst?n=${WORST_COUNT}`, drawWorst),
        section("/api/ledger/review", drawReview),
        section("/api/ledger/quarantine", drawQuarantine),
        section("/api/previews", drawPreviews),
        refreshSample().then(() => true),
      ]);
      const ok = results.filter(Boolean).length;
      const conn = $("connection");
      conn.textContent = ok === results.length ? `updated ${new Date().toLocaleTimeString()}` : `${results.length - ok} of ${results.length} requests failed at ${new Date().toLocaleTimeString()}`;
      conn.classList.toggle("down", ok < results.length);
    } finally {
      polling = false;
    }
  }

  async function loop() {
    await poll();
    setTimeout(loop, POLL_MS);
  }

  readTokenFromUrl();
  showTokenPanel(!token());
  loop();
})();
