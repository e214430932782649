/* gankit dashboard: runs, live training curves, samples over time, the 2-D view, generation
 * and comparison. Plain DOM, no build step, nothing loaded from outside this server. */
"use strict";

const fmt = window.chartFmt;
const main = document.getElementById("main");

// Colours follow one rule everywhere: D / real in one family of hues, G / generated in another.
const COLORS = {
  "loss/D": "#e8590c",
  "loss/G": "#1c7ed6",
  "D(x)": "#2f9e44",
  "D(G(z))": "#ae3ec9",
  "acc/D": "#f08c00",
  "acc/D_real": "#2f9e44",
  "acc/D_fake": "#ae3ec9",
  JSD: "#0c8599",
};
const PALETTE = [
  "#1c7ed6",
  "#e8590c",
  "#2f9e44",
  "#ae3ec9",
  "#f08c00",
  "#0c8599",
  "#e64980",
  "#5c7cfa",
  "#74b816",
  "#868e96",
];
const SHOWN = new Set([
  "loss/D",
  "loss/G",
  "D(x)",
  "D(G(z))",
  "acc/D",
  "acc/D_real",
  "acc/D_fake",
  "JSD",
]);
const BOOKKEEPING = new Set(["images_seen", "epoch", "time"]);

/** The per-network variants of `key` among `keys`: a family with several generators or
 * discriminators logs loss/G_AB, loss/D_A, acc/D_A, ... in place of loss/G, loss/D, acc/D. */
function netKeys(keys, key) {
  const depth = key.split("_").length;
  return keys
    .filter(
      (k) =>
        k.startsWith(key + "_") && !/_(real|fake)$/.test(k) && k.split("_").length === depth + 1,
    )
    .sort();
}

/** A latest value, or each network's when the run logs them by network. */
function latestText(latest, key) {
  if (latest[key] !== undefined) return fmt(latest[key]);
  const per = netKeys(Object.keys(latest), key);
  return per.length ? per.map((k) => `${k.split("/")[1]} ${fmt(latest[k])}`).join(" · ") : fmt();
}

// -- small helpers ------------------------------------------------------------------------------
/** h("div", {class: "x", onclick: f, "aria-label": "y"}, child, "text", ...) */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && !k.includes("-") && k !== "list") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function colorFor(key, i) {
  return COLORS[key] || PALETTE[i % PALETTE.length];
}

function duration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return "–";
  s = Math.round(s);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function ago(t) {
  if (!t) return "";
  const s = Date.now() / 1000 - t;
  return s < 5 ? "just now" : `${duration(s)} ago`;
}

function debounce(fn, ms) {
  let t = null;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function errorText(body) {
  if (!body || body.detail === undefined) return "request failed";
  if (typeof body.detail === "string") return body.detail;
  return body.detail.map((d) => d.msg).join("; ");
}

const api = {
  async json(path) {
    let r;
    try {
      r = await fetch(path, { headers: { Accept: "application/json" } });
    } catch (e) {
      setConnection(false);
      throw e;
    }
    setConnection(true);
    const body = await r.json().catch(() => null);
    if (!r.ok) throw new ApiError(r.status, errorText(body));
    return body;
  },
  /** POST a JSON body, get a PNG back as a Blob. */
  async png(path, payload) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "image/png" },
      body: JSON.stringify(payload),
    });
    if (!r.ok) {
      const body = await r.json().catch(() => null);
      throw new ApiError(r.status, errorText(body));
    }
    return r.blob();
  },
  /** POST a body as it is (an image file, or nothing), get a PNG and the server's note back. */
  async image(path, body) {
    const headers = { Accept: "image/png" };
    if (body) headers["Content-Type"] = body.type || "application/octet-stream";
    const r = await fetch(path, { method: "POST", headers, body });
    if (!r.ok) {
      const detail = await r.json().catch(() => null);
      throw new ApiError(r.status, errorText(detail));
    }
    return { blob: await r.blob(), note: r.headers.get("X-Gankit-Note") };
  },
  run: (id) => `/api/runs/${encodeURIComponent(id)}`,
};

/** Whether a run's generator translates images (declares an image input) instead of sampling. */
function translates(generator) {
  return Boolean(generator && generator.inputs.some((s) => s.kind === "image"));
}

/** Retry a request that got 429 (generation busy) a few times, backing off. */
async function withRetry(fn) {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 429 || i >= 4) throw e;
      await new Promise((r) => setTimeout(r, 400 * (i + 1)));
    }
  }
}

function setConnection(ok) {
  const el = document.getElementById("conn");
  if (!el) return;
  el.dataset.state = ok ? "live" : "offline";
  document.getElementById("conn-text").textContent = ok ? "connected" : "server unreachable";
}

let toastTimer = null;
function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}

/** Calls `fn` every `interval()` ms while the page is visible, until stopped. */
class Poller {
  constructor(fn, interval) {
    this.fn = fn;
    this.interval = interval;
    this.timer = null;
    this.stopped = false;
    this.onVisible = () => !document.hidden && this.kick();
    document.addEventListener("visibilitychange", this.onVisible);
  }
  async kick() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (!document.hidden) {
      try {
        await this.fn();
      } catch (e) {
        if (!(e instanceof ApiError)) setConnection(false);
      }
    }
    if (!this.stopped) this.timer = setTimeout(() => this.kick(), this.interval());
  }
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener("visibilitychange", this.onVisible);
  }
}

/** A run's logged scalars as columns, fetched incrementally with ?since=. */
class StatsStore {
  constructor(runId, kind = "stats") {
    this.runId = runId;
    this.kind = kind;
    this.reset();
  }
  reset() {
    this.version = null;
    this.steps = [];
    this.values = {};
    this.health = [];
  }
  get lastStep() {
    return this.steps.length ? this.steps[this.steps.length - 1] : -1;
  }
  /** Fetch what is new; returns true when anything changed. One request at a time. */
  update() {
    if (!this.pending) {
      this.pending = this.fetchNew().finally(() => (this.pending = null));
    }
    return this.pending;
  }
  async fetchNew() {
    const since = this.kind === "stats" ? `?since=${this.lastStep}` : "";
    const d = await api.json(`${api.run(this.runId)}/${this.kind}${since}`);
    if (this.version !== null && d.version !== this.version) {
      this.reset(); // the file was rewritten (a resumed run): start again
      return this.fetchNew().then(() => true);
    }
    this.version = d.version;
    if (this.kind !== "stats") {
      const changed = d.steps.length !== this.steps.length;
      this.steps = d.steps;
      this.values = d.values;
      return changed;
    }
    if (!d.steps.length) return false;
    const n0 = this.steps.length;
    for (const [k, col] of Object.entries(d.values)) {
      if (!this.values[k]) this.values[k] = new Array(n0).fill(null);
      this.values[k].push(...col);
    }
    this.steps.push(...d.steps);
    for (const col of Object.values(this.values)) {
      while (col.length < this.steps.length) col.push(null);
    }
    this.health.push(...d.health);
    return true;
  }
  series(keys, xKey = "step") {
    const xs = xKey === "step" ? this.steps : this.values[xKey] || [];
    return keys
      .filter((k) => this.values[k])
      .map((k) => {
        const pts = [];
        const col = this.values[k];
        for (let i = 0; i < xs.length; i++) if (xs[i] !== null) pts.push([xs[i], col[i]]);
        return { key: k, xs: pts.map((p) => p[0]), ys: pts.map((p) => p[1]) };
      });
  }
}

function stateBadge(state) {
  return h("span", { class: `badge state-${state}`, text: state });
}

function progress(step, total) {
  const pct = total ? Math.min(100, (100 * step) / total) : 0;
  const bar = h("div", {
    class: "progress",
    role: "progressbar",
    "aria-valuemin": "0",
    "aria-valuemax": String(total || 0),
    "aria-valuenow": String(step),
    "aria-label": "training progress",
  });
  const fill = h("div", { class: "progress-fill" });
  fill.style.width = pct.toFixed(1) + "%";
  bar.append(fill);
  return bar;
}

// -- the runs list --------------------------------------------------------------------------------
class RunsView {
  constructor(root) {
    this.root = root;
    this.selected = new Set();
    this.filter = "";
    this.data = null;
    document.title = "Runs · gankit";
    this.compareBtn = h("button", {
      type: "button",
      class: "btn",
      disabled: true,
      text: "Compare selected",
      onclick: () => {
        location.hash = `#/compare/${[...this.selected].map(encodeURIComponent).join(",")}`;
      },
    });
    const search = h("input", {
      type: "search",
      class: "input",
      placeholder: "Filter runs…",
      "aria-label": "Filter runs by name, family, data or state",
      oninput: (e) => {
        this.filter = e.target.value.toLowerCase();
        this.render();
      },
    });
    this.sub = h("p", { class: "subtle" });
    this.body = h("div", { class: "card table-card" });
    root.append(
      h(
        "div",
        { class: "page-head" },
        h("div", {}, h("h1", { text: "Runs" }), this.sub),
        h("div", { class: "actions" }, search, this.compareBtn),
      ),
      this.body,
    );
    this.poller = new Poller(
      () => this.load(),
      () => 3000,
    );
    this.poller.kick();
  }
  destroy() {
    this.poller.stop();
  }
  async load() {
    const runs = await api.json("/api/runs");
    const key = JSON.stringify(runs);
    if (key === this.key) return;
    this.key = key;
    this.data = runs;
    this.render();
  }
  render() {
    const runs = (this.data || []).slice().reverse(); // newest first
    const live = runs.filter((r) => r.state === "running").length;
    this.sub.textContent =
      `${runs.length} run${runs.length === 1 ? "" : "s"}` + (live ? ` · ${live} training now` : "");
    this.compareBtn.disabled = this.selected.size < 2;
    this.compareBtn.textContent = `Compare selected (${this.selected.size})`;
    if (!runs.length) {
      this.body.replaceChildren(
        h(
          "div",
          { class: "empty" },
          h("h2", { text: "No runs yet" }),
          h("p", { text: "Start a training run and it appears here while it trains:" }),
          h("pre", { text: "gankit train mlp-gan --data ring" }),
        ),
      );
      return;
    }
    const shown = runs.filter((r) =>
      `${r.id} ${r.family} ${r.data} ${r.state}`.toLowerCase().includes(this.filter),
    );
    const cols = ["loss/D", "loss/G", "D(x)", "D(G(z))", "acc/D"];
    const head = h(
      "tr",
      {},
      h("th", { scope: "col" }, h("span", { class: "sr-only", text: "Select" })),
      h("th", { scope: "col", text: "Run" }),
      h("th", { scope: "col", text: "Family" }),
      h("th", { scope: "col", text: "Data" }),
      h("th", { scope: "col", text: "Status" }),
      h("th", { scope: "col", text: "Progress" }),
      cols.map((c) => h("th", { scope: "col", class: "num", text: c })),
      h("th", { scope: "col", text: "Metrics" }),
      h("th", { scope: "col", text: "Health" }),
    );
    const rows = shown.map((r) => {
      const box = h("input", {
        type: "checkbox",
        checked: this.selected.has(r.id),
        "aria-label": `Select ${r.id} to compare`,
        onchange: (e) => {
          if (e.target.checked) this.selected.add(r.id);
          else this.selected.delete(r.id);
          this.compareBtn.disabled = this.selected.size < 2;
          this.compareBtn.textContent = `Compare selected (${this.selected.size})`;
        },
      });
      const metrics = Object.entries(r.metrics)
        .slice(0, 3)
        .map(([k, v]) => h("span", { class: "chip", text: `${k} ${fmt(v)}` }));
      if (r.latest.JSD !== undefined) {
        metrics.unshift(h("span", { class: "chip", text: `JSD ${fmt(r.latest.JSD)}` }));
      }
      const warn = r.health.length
        ? h("span", {
            class: "warn-pill",
            title: r.health[r.health.length - 1].message,
            text: `⚠ ${r.health.length}`,
          })
        : h("span", { class: "ok-pill", text: "ok" });
      const tr = h(
        "tr",
        { class: "run-row", "data-run": r.id },
        h("td", {}, box),
        h(
          "td",
          { class: "run-name" },
          h("a", { href: `#/run/${encodeURIComponent(r.id)}`, text: r.id }),
        ),
        h("td", { text: r.family }),
        h("td", { text: r.data }),
        h("td", {}, stateBadge(r.state)),
        h(
          "td",
          { class: "progress-cell" },
          progress(r.step, r.total_steps),
          h("span", { class: "subtle", text: `${r.step} / ${r.total_steps}` }),
        ),
        cols.map((c) => h("td", { class: "num", text: latestText(r.latest, c) })),
        h("td", {}, metrics.length ? metrics : h("span", { class: "subtle", text: "–" })),
        h("td", {}, warn),
      );
      tr.addEventListener("click", (e) => {
        if (e.target.closest("input, a")) return;
        location.hash = `#/run/${encodeURIComponent(r.id)}`;
      });
      return tr;
    });
    const focused = document.activeElement && document.activeElement.closest("tr.run-row");
    const focusRun = focused ? focused.dataset.run : null;
    const focusTag = focused ? document.activeElement.tagName : null;
    this.body.replaceChildren(
      h(
        "div",
        { class: "table-scroll" },
        h(
          "table",
          { class: "runs-table" },
          h("caption", { class: "sr-only", text: "Training runs" }),
          h("thead", {}, head),
          h("tbody", {}, rows),
        ),
      ),
    );
    if (focusRun) {
      const row = this.body.querySelector(`tr[data-run="${CSS.escape(focusRun)}"]`);
      const el = row && row.querySelector(focusTag === "INPUT" ? "input" : "a");
      if (el) el.focus();
    }
  }
}

// -- the samples card: the fixed noise bank's grid over the run, with a slider --------------------
class StepSlider {
  /** A slider over a list of steps, with play and "follow latest". onChange(step) */
  constructor(label, onChange) {
    this.steps = [];
    this.index = -1;
    this.follow = true;
    this.onChange = onChange;
    this.range = h("input", {
      type: "range",
      min: "0",
      max: "0",
      value: "0",
      "aria-label": label,
      oninput: () => {
        this.follow = Number(this.range.value) === this.steps.length - 1;
        this.followBox.checked = this.follow;
        this.set(Number(this.range.value));
      },
    });
    this.out = h("output", { class: "step-label", text: "–" });
    this.playBtn = h("button", {
      type: "button",
      class: "btn btn-icon",
      "aria-label": "Play through the run",
      text: "▶",
      onclick: () => this.toggle(),
    });
    this.followBox = h("input", {
      type: "checkbox",
      checked: true,
      onchange: (e) => {
        this.follow = e.target.checked;
        if (this.follow) this.set(this.steps.length - 1);
      },
    });
    this.el = h(
      "div",
      { class: "step-slider" },
      this.playBtn,
      this.range,
      this.out,
      h("label", { class: "check" }, this.followBox, "latest"),
    );
  }
  setSteps(steps) {
    const grew = steps.length !== this.steps.length;
    this.steps = steps;
    this.range.max = String(Math.max(0, steps.length - 1));
    this.range.disabled = steps.length < 2;
    if (!steps.length) return;
    if (this.index < 0 || (this.follow && grew)) this.set(steps.length - 1);
  }
  set(i) {
    if (!this.steps.length) return;
    this.index = Math.max(0, Math.min(i, this.steps.length - 1));
    this.range.value = String(this.index);
    const step = this.steps[this.index];
    this.out.textContent = `step ${step}  (${this.index + 1}/${this.steps.length})`;
    this.onChange(step);
  }
  toggle() {
    if (this.playing) {
      clearInterval(this.playing);
      this.playing = null;
      this.playBtn.textContent = "▶";
      this.playBtn.setAttribute("aria-label", "Play through the run");
      return;
    }
    this.follow = false;
    this.followBox.checked = false;
    if (this.index >= this.steps.length - 1) this.set(0);
    this.playBtn.textContent = "❚❚";
    this.playBtn.setAttribute("aria-label", "Pause");
    this.playing = setInterval(() => {
      if (this.index >= this.steps.length - 1) this.toggle();
      else this.set(this.index + 1);
    }, 350);
  }
  destroy() {
    clearInterval(this.playing);
  }
}

class SamplesCard {
  constructor(runId) {
    this.runId = runId;
    this.img = h("img", {
      class: "sample-img pixelated",
      alt: "Sample grid",
      "data-testid": "sample-img",
    });
    this.download = h("a", { class: "btn btn-small", text: "Download PNG", download: "" });
    this.empty = h("p", { class: "subtle center", text: "No samples written yet." });
    this.slider = new StepSlider("Sample grid step", (step) => this.show(step));
    this.el = h(
      "section",
      { class: "card samples-card", "aria-labelledby": "samples-title" },
      h(
        "div",
        { class: "card-head" },
        h("h2", { id: "samples-title", text: "Samples" }),
        this.download,
      ),
      h("p", { class: "card-note", text: "The same fixed noise, step by step." }),
      h("div", { class: "sample-frame" }, this.img, this.empty),
      this.slider.el,
    );
  }
  update(steps) {
    this.empty.hidden = steps.length > 0;
    this.img.hidden = steps.length === 0;
    this.slider.setSteps(steps);
  }
  show(step) {
    const url = `${api.run(this.runId)}/samples/${step}.png`;
    if (this.img.getAttribute("src") !== url) this.img.src = url;
    this.img.alt = `Sample grid at step ${step}`;
    this.download.href = url;
    this.download.download = `${this.runId}-step${step}.png`;
  }
  destroy() {
    this.slider.destroy();
  }
}

// -- the GAN-Lab-style 2-D view ----------------------------------------------------------------
/** Diverging colour for D's output: 0 (judged fake) purple, 0.5 white, 1 (judged real) green. */
function surfaceColor(t) {
  const fake = [174, 62, 201];
  const mid = [248, 249, 250];
  const real = [47, 158, 68];
  const [a, b, u] = t < 0.5 ? [fake, mid, t / 0.5] : [mid, real, (t - 0.5) / 0.5];
  return a.map((v, i) => Math.round(v + (b[i] - v) * u));
}

class ToyCard {
  constructor(runId) {
    this.runId = runId;
    this.cache = new Map();
    this.frame = null;
    this.canvas = h("canvas", {
      class: "toy-canvas",
      role: "img",
      "aria-label": "Real and generated points over the discriminator's decision surface",
      "data-testid": "toy-canvas",
    });
    const toggle = (label, key) => {
      this[key] = true;
      return h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          checked: true,
          onchange: (e) => {
            this[key] = e.target.checked;
            this.draw();
          },
        }),
        label,
      );
    };
    this.slider = new StepSlider("2-D view step", (step) => this.show(step).catch(() => {}));
    this.scaleNote = h("span", { class: "subtle" });
    this.el = h(
      "section",
      { class: "card samples-card", "aria-labelledby": "toy-title" },
      h("div", { class: "card-head" }, h("h2", { id: "toy-title", text: "Real vs generated" })),
      h(
        "p",
        { class: "card-note" },
        "Points over D's decision surface: where D says ",
        h("b", { class: "c-real", text: "real" }),
        " and where it says ",
        h("b", { class: "c-fake", text: "generated" }),
        ". The dashed line is D = 0.5.",
      ),
      h("div", { class: "toy-frame" }, this.canvas),
      h(
        "div",
        { class: "toy-legend" },
        h("span", { class: "dot dot-real" }),
        "real",
        h("span", { class: "dot dot-fake" }),
        "generated",
        h("span", { class: "ramp", "aria-hidden": "true" }),
        this.scaleNote,
      ),
      h(
        "div",
        { class: "toggles" },
        toggle("surface", "showSurface"),
        toggle("real", "showReal"),
        toggle("generated", "showFake"),
      ),
      this.slider.el,
    );
    this.resizer = new ResizeObserver(() => this.draw());
    this.resizer.observe(this.canvas);
  }
  update(steps) {
    this.slider.setSteps(steps);
  }
  async show(step) {
    let f = this.cache.get(step);
    if (!f) {
      f = await api.json(`${api.run(this.runId)}/toy/${step}`);
      this.cache.set(step, f);
      if (this.cache.size > 300) this.cache.delete(this.cache.keys().next().value);
    }
    if (this.slider.steps[this.slider.index] !== step) return; // the slider moved on
    this.frame = f;
    this.draw();
  }
  draw() {
    const c = this.canvas;
    const size = c.clientWidth;
    if (!size || !this.frame) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = c.height = Math.round(size * dpr);
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size, size);
    const f = this.frame;
    const s = f.surface;
    const all = f.real.concat(f.fake);
    let x0 = Infinity,
      x1 = -Infinity,
      y0 = Infinity,
      y1 = -Infinity;
    for (const [x, y] of all) {
      [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    }
    if (all.length) {
      const m = 0.08 * Math.max(x1 - x0, y1 - y0, 1e-3);
      [x0, x1, y0, y1] = [x0 - m, x1 + m, y0 - m, y1 + m];
    }
    if (s && s.x.length > 1 && s.y.length > 1) {
      // D's grid, widened to show generated points outside it (up to three times its size)
      const [sx0, sx1, sy0, sy1] = [s.x[0], s.x[s.x.length - 1], s.y[0], s.y[s.y.length - 1]];
      const w = sx1 - sx0,
        hh = sy1 - sy0;
      x0 = Math.max(Math.min(x0, sx0), sx0 - w);
      x1 = Math.min(Math.max(x1, sx1), sx1 + w);
      y0 = Math.max(Math.min(y0, sy0), sy0 - hh);
      y1 = Math.min(Math.max(y1, sy1), sy1 + hh);
    }
    if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [-1, 1, -1, 1];
    // equal aspect: a square data window centred on the data
    const span = Math.max(x1 - x0, y1 - y0);
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const X = (x) => ((x - (cx - span / 2)) / span) * size;
    const Y = (y) => (1 - (y - (cy - span / 2)) / span) * size;

    ctx.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--bg").trim();
    ctx.fillRect(0, 0, size, size); // outside D's grid
    if (s && this.showSurface) this.drawSurface(ctx, s, X, Y);
    else this.scaleNote.textContent = "";
    const dots = (pts, color) => {
      ctx.fillStyle = color;
      for (const [x, y] of pts) {
        ctx.beginPath();
        ctx.arc(X(x), Y(y), 2.2, 0, 2 * Math.PI);
        ctx.fill();
      }
    };
    ctx.globalAlpha = 0.75;
    if (this.showReal) dots(f.real, "#1b5e20");
    if (this.showFake) dots(f.fake, "#9c36b5");
    ctx.globalAlpha = 1;
    ctx.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--border");
    ctx.strokeRect(0.5, 0.5, size - 1, size - 1);
  }
  drawSurface(ctx, s, X, Y) {
    const ny = s.D.length;
    const nx = s.x.length;
    const vals = s.D.flat().filter((v) => v !== null);
    if (!vals.length || !ny) return;
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    const prob = lo >= 0 && hi <= 1;
    if (prob) [lo, hi] = [0, 1];
    const mid = prob ? 0.5 : (lo + hi) / 2;
    this.scaleNote.textContent = prob ? "D(x): 0 → 1" : `critic ${fmt(lo)} → ${fmt(hi)}`;
    const img = document.createElement("canvas");
    img.width = nx;
    img.height = ny;
    const g = img.getContext("2d");
    const data = g.createImageData(nx, ny);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = s.D[j][i];
        const t = v === null ? 0.5 : (v - lo) / (hi - lo || 1);
        const [r, gg, b] = surfaceColor(t);
        const o = ((ny - 1 - j) * nx + i) * 4; // row 0 of D is the lowest y
        data.data.set([r, gg, b, 200], o);
      }
    }
    g.putImageData(data, 0, 0);
    const dx = (s.x[nx - 1] - s.x[0]) / (nx - 1);
    const dy = (s.y[ny - 1] - s.y[0]) / (ny - 1);
    ctx.save();
    ctx.imageSmoothingEnabled = true;
    const left = X(s.x[0] - dx / 2);
    const top = Y(s.y[ny - 1] + dy / 2);
    ctx.drawImage(img, left, top, X(s.x[nx - 1] + dx / 2) - left, Y(s.y[0] - dy / 2) - top);
    ctx.restore();
    this.contour(ctx, s, mid, X, Y);
  }
  /** The level set D = mid by marching squares (the decision boundary). */
  contour(ctx, s, level, X, Y) {
    const ny = s.D.length;
    const nx = s.x.length;
    ctx.save();
    ctx.strokeStyle = "rgba(33, 37, 41, 0.7)";
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    const lerp = (a, b, va, vb) => a + ((level - va) / (vb - va || 1e-12)) * (b - a);
    for (let j = 0; j < ny - 1; j++) {
      for (let i = 0; i < nx - 1; i++) {
        const v = [s.D[j][i], s.D[j][i + 1], s.D[j + 1][i + 1], s.D[j + 1][i]];
        if (v.some((q) => q === null)) continue;
        const xa = s.x[i],
          xb = s.x[i + 1],
          ya = s.y[j],
          yb = s.y[j + 1];
        const edges = [];
        if (v[0] > level !== v[1] > level) edges.push([lerp(xa, xb, v[0], v[1]), ya]);
        if (v[1] > level !== v[2] > level) edges.push([xb, lerp(ya, yb, v[1], v[2])]);
        if (v[3] > level !== v[2] > level) edges.push([lerp(xa, xb, v[3], v[2]), yb]);
        if (v[0] > level !== v[3] > level) edges.push([xa, lerp(ya, yb, v[0], v[3])]);
        for (let k = 0; k + 1 < edges.length; k += 2) {
          ctx.moveTo(X(edges[k][0]), Y(edges[k][1]));
          ctx.lineTo(X(edges[k + 1][0]), Y(edges[k + 1][1]));
        }
      }
    }
    ctx.stroke();
    ctx.restore();
  }
  destroy() {
    this.slider.destroy();
    this.resizer.disconnect();
  }
}

// -- training tab: curves, samples, health ------------------------------------------------------
class TrainingPanel {
  constructor(run, root) {
    this.run = run;
    this.stats = new StatsStore(run.id);
    this.metrics = new StatsStore(run.id, "metrics");
    this.charts = {};
    this.smoothing = 0;
    this.samples = run.kind === "points" ? new ToyCard(run.id) : new SamplesCard(run.id);
    this.health = h("section", { class: "card health-card", "aria-labelledby": "health-title" });
    this.chartGrid = h("div", { class: "chart-grid" });
    const smoothing = h("input", {
      type: "range",
      min: "0",
      max: "0.95",
      step: "0.05",
      value: "0",
      id: "smoothing",
      oninput: (e) => {
        this.smoothing = Number(e.target.value);
        smoothOut.textContent = this.smoothing.toFixed(2);
        for (const c of Object.values(this.charts)) c.chart.setSmoothing(this.smoothing);
      },
    });
    const smoothOut = h("output", { for: "smoothing", text: "0.00" });
    this.otherSelect = h("select", {
      class: "input input-small",
      "aria-label": "Scalar to plot",
      onchange: () => this.draw(),
    });
    root.append(
      h(
        "div",
        { class: "training" },
        h("div", { class: "side" }, this.samples.el, this.health),
        h(
          "div",
          { class: "charts" },
          h(
            "div",
            { class: "charts-toolbar" },
            h("label", { for: "smoothing", text: "Smoothing" }),
            smoothing,
            smoothOut,
          ),
          this.chartGrid,
        ),
      ),
    );
    this.addChart("losses", "Losses", ["loss/D", "loss/G"], {
      note: "What D and G each minimise. Neither should run away or collapse to 0.",
    });
    this.addChart("outputs", "D(x) and D(G(z))", ["D(x)", "D(G(z))"], {
      refLines: [{ y: 0.5, label: "equilibrium 0.5" }],
      yMin: 0,
      yMax: 1,
      note: "D's mean output on real and on generated samples; both tend to 0.5.",
    });
    this.addChart("accuracy", "Discriminator accuracy", ["acc/D", "acc/D_real", "acc/D_fake"], {
      refLines: [{ y: 0.5, label: "chance" }],
      yMin: 0,
      yMax: 1,
      hidden: ["acc/D_real", "acc/D_fake"],
      note: "How often D tells real from generated; near 1 for long, G learns little.",
    });
    this.renderHealth();
  }

  addChart(id, title, keys, opts) {
    const head = h(
      "div",
      { class: "card-head" },
      h("h2", { id: `chart-${id}-title`, text: title }),
    );
    if (opts.extra) head.append(opts.extra);
    const card = h(
      "section",
      {
        class: "card chart-card",
        "aria-labelledby": `chart-${id}-title`,
        "data-testid": `chart-${id}`,
      },
      head,
      opts.note ? h("p", { class: "card-note", text: opts.note }) : null,
    );
    this.chartGrid.append(card);
    const chart = new LineChart(card, Object.assign({ title }, opts));
    chart.setSmoothing(this.smoothing);
    this.charts[id] = { chart, keys, card, source: opts.source || "stats" };
    return this.charts[id];
  }

  async refresh(run) {
    this.run = run;
    const [changed, mchanged] = await Promise.all([this.stats.update(), this.metrics.update()]);
    this.samples.update(run.kind === "points" ? run.toy_steps : run.sample_steps);
    if (changed || mchanged || !this.drawn) this.draw();
    if (this.stats.health.length !== this.healthShown) this.renderHealth();
  }

  draw() {
    this.drawn = true;
    const keys = Object.keys(this.stats.values);
    if (keys.includes("JSD") && !this.charts.jsd) {
      this.addChart("jsd", "Jensen–Shannon divergence", ["JSD"], {
        yMin: 0,
        note: "Between real and generated 2-D histograms; lower is better.",
      });
    }
    for (const k of Object.keys(this.metrics.values)) {
      const id = "metric-" + k.replace(/[^A-Za-z0-9_-]/g, "_");
      if (!this.charts[id])
        this.addChart(id, k, [k], { source: "metrics", note: "Evaluation metric." });
    }
    // networks beyond one G and one D: their losses and accuracies join the standard charts
    const perNet = new Set();
    for (const [id, base] of [
      ["losses", ["loss/D", "loss/G"]],
      ["accuracy", ["acc/D"]],
    ]) {
      const extra = base.flatMap((k) => netKeys(keys, k));
      extra.forEach((k) => perNet.add(k));
      if (extra.length && this.charts[id]) {
        const fixed = id === "losses" ? ["loss/D", "loss/G"] : ["acc/D", "acc/D_real", "acc/D_fake"];
        this.charts[id].keys = [...fixed, ...extra];
      }
    }
    // every other logged scalar, one at a time
    const others = keys
      .filter((k) => !SHOWN.has(k) && !BOOKKEEPING.has(k) && !perNet.has(k))
      .sort();
    if (others.length && !this.charts.other) {
      this.addChart("other", "More scalars", [], {
        extra: this.otherSelect,
        note: "Any other value the trainer logs.",
      });
    }
    const current = [...this.otherSelect.options].map((o) => o.value).join("|");
    if (current !== others.join("|")) {
      const keep = this.otherSelect.value;
      this.otherSelect.replaceChildren(...others.map((k) => h("option", { value: k, text: k })));
      this.otherSelect.value = others.includes(keep)
        ? keep
        : others.includes("V(D,G)")
          ? "V(D,G)"
          : others[0] || "";
    }
    if (this.charts.other) this.charts.other.keys = [this.otherSelect.value];

    for (const c of Object.values(this.charts)) {
      const store = c.source === "metrics" ? this.metrics : this.stats;
      c.chart.setData(
        store.series(c.keys).map((s, i) => Object.assign(s, { color: colorFor(s.key, i) })),
      );
    }
  }

  renderHealth() {
    const events = this.stats.health;
    this.healthShown = events.length;
    const title = h("h2", { id: "health-title", text: "Health" });
    if (!events.length) {
      this.health.replaceChildren(
        h("div", { class: "card-head" }, title),
        h(
          "p",
          { class: "ok-line" },
          h("span", { class: "ok-dot" }),
          "No warnings from the trainer.",
        ),
      );
      return;
    }
    const list = h(
      "ul",
      { class: "health-list" },
      events
        .slice(-8)
        .reverse()
        .map((e) =>
          h("li", {}, h("span", { class: "step-tag", text: `step ${e.step}` }), e.message),
        ),
    );
    this.health.replaceChildren(
      h(
        "div",
        { class: "card-head" },
        title,
        h("span", { class: "warn-pill", text: `⚠ ${events.length}` }),
      ),
      h("div", { role: "alert" }, list),
    );
  }

  destroy() {
    this.samples.destroy();
    for (const c of Object.values(this.charts)) c.chart.destroy();
  }
}

// -- generate tab -------------------------------------------------------------------------------
function numberField(label, attrs) {
  const id = "f-" + Math.random().toString(36).slice(2);
  const input = h("input", Object.assign({ id, type: "number", class: "input" }, attrs));
  return { input, el: h("div", { class: "field" }, h("label", { for: id, text: label }), input) };
}

class OutputImage {
  constructor(alt, testid, pixelated = true) {
    this.url = null;
    const cls = pixelated ? "gen-img pixelated" : "gen-img gen-plot";
    this.img = h("img", { class: cls, alt, hidden: true, "data-testid": testid });
    this.caption = h("p", { class: "subtle", role: "status", "aria-live": "polite" });
    this.download = h("a", { class: "btn btn-small", text: "Download PNG", hidden: true });
    this.el = h("div", { class: "gen-output" }, this.img, this.caption);
  }
  set(blob, name, caption, alt) {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = URL.createObjectURL(blob);
    this.img.src = this.url;
    this.img.alt = alt;
    this.img.hidden = false;
    this.download.href = this.url;
    this.download.download = name;
    this.download.hidden = false;
    this.caption.textContent = caption;
  }
  destroy() {
    if (this.url) URL.revokeObjectURL(this.url);
  }
}

class GeneratePanel {
  constructor(run, root) {
    this.run = run;
    const g = run.generator;
    this.g = g;
    const maxSeed = 2147483647;
    this.seed = numberField("Seed", { min: "0", max: String(maxSeed), value: "0", step: "1" });
    this.n = numberField(`Count (1–${g.max_n})`, {
      min: "1",
      max: String(g.max_n),
      value: g.kind === "points" ? "256" : "64",
      step: "1",
    });
    const dice = h("button", {
      type: "button",
      class: "btn btn-icon",
      "aria-label": "Random seed",
      title: "Random seed",
      text: "⚄",
      onclick: () => {
        this.seed.input.value = String(Math.floor(Math.random() * 100000));
        this.generate();
      },
    });
    this.seed.el.append(dice);
    this.seed.el.classList.add("with-button");

    const controls = [this.seed.el, this.n.el];
    if (g.conditional) {
      const id = "f-label";
      this.label = h(
        "select",
        { id, class: "input" },
        h("option", { value: "", text: "every class, in turn" }),
        Array.from({ length: g.num_classes }, (_, i) =>
          h("option", { value: String(i), text: g.class_names[i] || `class ${i}` }),
        ),
      );
      controls.push(
        h("div", { class: "field" }, h("label", { for: id, text: "Class" }), this.label),
      );
    }
    this.codeInputs = [];
    for (const code of g.codes) controls.push(this.codeControl(code));
    const textSpec = g.inputs.find((s) => s.kind === "text");
    if (textSpec) {
      // text2image: the caption to draw, English or Korean ("a thick seven leaning right", "굵은 7")
      this.text = h("input", {
        id: "f-text",
        class: "input",
        type: "text",
        maxlength: "64",
        value: "a thick seven leaning right",
        placeholder: textSpec.doc || "a caption",
        "data-testid": "text-input",
      });
      controls.push(
        h("div", { class: "field" }, h("label", { for: "f-text", text: "Caption" }), this.text),
      );
    }
    this.tagBoxes = [];
    if (g.tags && g.tags.length) controls.push(this.tagControl(g));

    this.out = new OutputImage("Generated samples", "generate-img", g.kind === "images");
    this.button = h("button", {
      type: "submit",
      class: "btn btn-primary",
      text: "Generate",
      "data-testid": "generate-btn",
    });
    const form = h(
      "form",
      {
        class: "card gen-form",
        "aria-labelledby": "gen-title",
        onsubmit: (e) => {
          e.preventDefault();
          this.generate();
        },
        oninput: debounce(() => this.ready && this.generate(), 300),
      },
      h("h2", { id: "gen-title", text: "Sample the generator" }),
      h(
        "p",
        { class: "card-note" },
        `${g.family} exported at step ${g.step ?? "?"} · ${g.kind === "images" ? g.shape.join("×") : "2-D points"}`,
      ),
      controls,
      h("div", { class: "form-actions" }, this.button, this.out.download),
    );
    const grid = h(
      "div",
      { class: "generate" },
      form,
      h("section", { class: "card gen-result", "aria-label": "Generated samples" }, this.out.el),
    );
    root.append(grid);
    this.generate(); // something to look at straight away
    if (g.kind === "images") root.append(this.interpolationCard());
    else {
      root.append(
        h("p", {
          class: "subtle",
          text: "Latent interpolation strips are drawn for image generators.",
        }),
      );
    }
  }

  codeControl(code) {
    const fixed = h("input", { type: "checkbox" });
    const inputs = [];
    const body = h("div", { class: "code-sliders" });
    if (code.kind === "categorical") {
      const sel = h(
        "select",
        { class: "input", "aria-label": `${code.name} category`, disabled: true },
        Array.from({ length: code.size }, (_, i) =>
          h("option", { value: String(i), text: String(i) }),
        ),
      );
      inputs.push(sel);
      body.append(sel);
    } else {
      for (let i = 0; i < code.size; i++) {
        const out = h("output", { text: "0.00" });
        const r = h("input", {
          type: "range",
          min: String(code.low),
          max: String(code.high),
          step: "0.05",
          value: "0",
          disabled: true,
          "aria-label": `${code.name}[${i}]`,
          oninput: (e) => (out.textContent = Number(e.target.value).toFixed(2)),
        });
        inputs.push(r);
        const name = code.size > 1 ? `${code.name}[${i}]` : code.name;
        body.append(
          h("div", { class: "slider-row" }, h("span", { class: "mono", text: name }), r, out),
        );
      }
    }
    fixed.addEventListener("change", () => inputs.forEach((i) => (i.disabled = !fixed.checked)));
    this.codeInputs.push({ code, fixed, inputs });
    return h(
      "fieldset",
      { class: "code" },
      h("legend", {}, h("span", { class: "mono", text: code.name }), ` ${code.kind} code`),
      h("label", { class: "check" }, fixed, "set a value (otherwise drawn per sample)"),
      body,
    );
  }

  /** Tag check-boxes (tag-conditioned generators): ticked tags are drawn on every sample, the
   * others by their training frequencies; within an exclusive group (hair colour) one at most. */
  tagControl(g) {
    const grouped = new Set(g.tag_groups.flat());
    const rows = [...g.tag_groups, g.tags.filter((t) => !grouped.has(t))].filter((r) => r.length);
    const body = rows.map((row) => {
      const boxes = row.map((tag) => {
        const box = h("input", { type: "checkbox", value: tag, "data-testid": `tag-${tag}` });
        this.tagBoxes.push(box);
        return { tag, box };
      });
      const exclusive = g.tag_groups.some((grp) => grp === row);
      if (exclusive) {
        for (const { box } of boxes) {
          box.addEventListener("change", () => {
            if (box.checked) for (const o of boxes) if (o.box !== box) o.box.checked = false;
          });
        }
      }
      return h(
        "div",
        { class: "tag-row" },
        boxes.map(({ tag, box }) => h("label", { class: "check" }, box, tag)),
      );
    });
    return h(
      "fieldset",
      { class: "code tags", "data-testid": "tag-boxes" },
      h("legend", {}, "Tags"),
      h("p", { class: "card-note", text: "Unticked tags are drawn as often as in training." }),
      body,
    );
  }

  tagsValue() {
    const on = this.tagBoxes.filter((b) => b.checked).map((b) => b.value);
    return on.length ? on : null;
  }

  codes() {
    const out = {};
    for (const { code, fixed, inputs } of this.codeInputs) {
      if (!fixed.checked) continue;
      if (code.kind === "categorical") {
        const k = Number(inputs[0].value);
        out[code.name] = Array.from({ length: code.size }, (_, i) => (i === k ? 1 : 0));
      } else out[code.name] = inputs.map((i) => Number(i.value));
    }
    return out;
  }

  labelValue() {
    return this.label && this.label.value !== "" ? Number(this.label.value) : null;
  }

  textValue() {
    return this.text ? this.text.value : null;
  }

  async generate() {
    if (!this.seed.input.reportValidity() || !this.n.input.reportValidity()) return;
    const body = {
      seed: Number(this.seed.input.value),
      n: Number(this.n.input.value),
      label: this.labelValue(),
      codes: this.codes(),
      text: this.textValue(),
      tags: this.tagsValue(),
    };
    this.button.disabled = true;
    const t0 = performance.now();
    try {
      const blob = await withRetry(() => api.png(`${api.run(this.run.id)}/generate`, body));
      const ms = Math.round(performance.now() - t0);
      this.out.set(
        blob,
        `${this.run.id}-seed${body.seed}-n${body.n}.png`,
        `${body.n} sample${body.n === 1 ? "" : "s"} · seed ${body.seed} · ${ms} ms`,
        `${body.n} generated samples from seed ${body.seed}`,
      );
      this.ready = true;
    } catch (e) {
      toast(`Generation failed: ${e.message}`);
    } finally {
      this.button.disabled = false;
    }
  }

  interpolationCard() {
    const a = numberField("Seed A", { min: "0", max: "2147483647", value: "1", step: "1" });
    const b = numberField("Seed B", { min: "0", max: "2147483647", value: "2", step: "1" });
    const steps = numberField("Steps (2–16)", { min: "2", max: "16", value: "10", step: "1" });
    const rows = numberField("Rows (1–8)", { min: "1", max: "8", value: "4", step: "1" });
    const sph = h("input", { type: "checkbox", checked: true });
    // text2image: a second caption walks from the first sentence to it (GAN-INT)
    const textB = this.text
      ? h("input", { class: "input", type: "text", maxlength: "64", value: "굵은 3", "aria-label": "Caption B" })
      : null;
    const out = new OutputImage("Latent interpolation", "interp-img");
    this.interpOut = out;
    const btn = h("button", { type: "submit", class: "btn btn-primary", text: "Interpolate" });
    const run = async () => {
      for (const f of [a, b, steps, rows]) if (!f.input.reportValidity()) return;
      const body = {
        seed_a: Number(a.input.value),
        seed_b: Number(b.input.value),
        steps: Number(steps.input.value),
        rows: Number(rows.input.value),
        spherical: sph.checked,
        label: this.labelValue(),
        codes: this.codes(),
        text: this.textValue(),
        text_b: textB ? textB.value : null,
        tags: this.tagsValue(),
      };
      btn.disabled = true;
      try {
        const blob = await withRetry(() => api.png(`${api.run(this.run.id)}/interpolate`, body));
        out.set(
          blob,
          `${this.run.id}-interp-${body.seed_a}-${body.seed_b}.png`,
          `seed ${body.seed_a} → seed ${body.seed_b}, ${body.steps} steps, ${body.spherical ? "slerp" : "lerp"}`,
          `Interpolation from seed ${body.seed_a} to seed ${body.seed_b}`,
        );
      } catch (e) {
        toast(`Interpolation failed: ${e.message}`);
      } finally {
        btn.disabled = false;
      }
    };
    return h(
      "form",
      {
        class: "card interp",
        "aria-labelledby": "interp-title",
        onsubmit: (e) => {
          e.preventDefault();
          run();
        },
      },
      h("h2", { id: "interp-title", text: "Latent interpolation" }),
      h("p", {
        class: "card-note",
        text: "Walk the noise from one seed to another; each row draws its own pair.",
      }),
      h(
        "div",
        { class: "interp-controls" },
        a.el,
        b.el,
        steps.el,
        rows.el,
        textB ? h("div", { class: "field" }, h("label", { text: "Caption B" }), textB) : null,
        h("label", { class: "check" }, sph, "spherical (slerp)"),
        btn,
        out.download,
      ),
      out.el,
    );
  }

  destroy() {
    this.out.destroy();
    if (this.interpOut) this.interpOut.destroy();
  }
}

// -- translate tab (generators that take an image: pix2pix, ...) -------------------------------
/** A figure with a caption; shows an image by URL, or says it is absent. */
class Pane {
  constructor(caption, testid) {
    this.img = h("img", {
      class: "pane-img pixelated",
      alt: "",
      hidden: true,
      "data-testid": testid,
    });
    this.empty = h("span", { class: "subtle", text: "–" });
    this.el = h(
      "figure",
      { class: "pane" },
      h("div", { class: "pane-frame" }, this.img, this.empty),
      h("figcaption", { text: caption }),
    );
  }
  show(url, alt, absent = "–") {
    this.img.hidden = !url;
    this.empty.hidden = Boolean(url);
    this.empty.textContent = absent;
    if (url) {
      this.img.src = url;
      this.img.alt = alt;
    } else this.img.removeAttribute("src");
  }
}

/**
 * The mask brush of an inpainting run: paint over an image what to remove, then send it with the
 * painted pixels transparent (POST .../inpaint) and show the fill. The mask is kept at the image's
 * own resolution; the canvas is only shown larger.
 */
class MaskBrush {
  constructor(onFill) {
    this.onFill = onFill;
    this.canvas = h("canvas", {
      class: "mask-canvas pixelated",
      width: 1,
      height: 1,
      "aria-label": "image to paint the hole on",
      "data-testid": "mask-canvas",
    });
    this.size = h("input", {
      type: "range",
      id: "mask-brush-size",
      min: 1,
      max: 32,
      value: 4,
      "data-testid": "mask-brush-size",
    });
    this.fillButton = h("button", {
      type: "button",
      class: "btn",
      text: "Fill the hole",
      disabled: true,
      "data-testid": "mask-fill",
      onclick: () => this.fill(),
    });
    this.clearButton = h("button", {
      type: "button",
      class: "btn btn-small",
      text: "Clear",
      onclick: () => this.clear(),
    });
    this.el = h(
      "div",
      { class: "mask-brush", hidden: true },
      h("h3", { class: "thumbs-title", text: "Paint what to remove" }),
      this.canvas,
      h(
        "div",
        { class: "field" },
        h("label", { for: "mask-brush-size", text: "Brush size (px of the image)" }),
        this.size,
      ),
      h("div", { class: "mask-actions" }, this.clearButton, this.fillButton),
    );
    let painting = false;
    this.canvas.addEventListener("pointerdown", (e) => {
      painting = true;
      this.canvas.setPointerCapture(e.pointerId);
      this.paint(e);
    });
    this.canvas.addEventListener("pointermove", (e) => painting && this.paint(e));
    const stop = () => (painting = false);
    this.canvas.addEventListener("pointerup", stop);
    this.canvas.addEventListener("pointercancel", stop);
  }

  /** Show ``url`` (an image the page may read: same origin or a blob) to paint on. */
  async load(url, what, targetUrl) {
    const img = new Image();
    img.src = url;
    await img.decode();
    this.image = img;
    this.what = what;
    this.targetUrl = targetUrl;
    const { naturalWidth: w, naturalHeight: hgt } = img;
    this.canvas.width = w;
    this.canvas.height = hgt;
    this.canvas.style.width = `${Math.min(320, Math.max(160, w * 4))}px`;
    this.mask = new Uint8Array(w * hgt);
    this.el.hidden = false;
    this.draw();
  }

  clear() {
    if (!this.mask) return;
    this.mask.fill(0);
    this.draw();
  }

  paint(e) {
    const rect = this.canvas.getBoundingClientRect();
    const { width: w, height: hgt } = this.canvas;
    const cx = ((e.clientX - rect.left) / rect.width) * w;
    const cy = ((e.clientY - rect.top) / rect.height) * hgt;
    const r = Number(this.size.value) / 2;
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(hgt, Math.ceil(cy + r)); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(w, Math.ceil(cx + r)); x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) this.mask[y * w + x] = 1;
      }
    }
    this.draw();
  }

  /** The image with the painted pixels tinted. */
  draw() {
    const ctx = this.canvas.getContext("2d");
    ctx.drawImage(this.image, 0, 0);
    const data = ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
    for (let i = 0; i < this.mask.length; i++) {
      if (!this.mask[i]) continue;
      data.data[4 * i] = 255;
      data.data[4 * i + 1] = Math.round(data.data[4 * i + 1] * 0.3);
      data.data[4 * i + 2] = Math.round(data.data[4 * i + 2] * 0.3);
    }
    ctx.putImageData(data, 0, 0);
    this.fillButton.disabled = !this.mask.some((v) => v);
  }

  /** The image as a PNG whose painted pixels are transparent (the hole). */
  holes() {
    const c = document.createElement("canvas");
    c.width = this.canvas.width;
    c.height = this.canvas.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(this.image, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height);
    for (let i = 0; i < this.mask.length; i++) if (this.mask[i]) data.data[4 * i + 3] = 0;
    ctx.putImageData(data, 0, 0);
    return new Promise((resolve) => c.toBlob(resolve, "image/png"));
  }

  async fill() {
    const blob = await this.holes();
    this.onFill(blob, this.what, this.targetUrl);
  }
}

class TranslatePanel {
  constructor(run, root) {
    this.run = run;
    this.spec = run.generator.inputs.find((s) => s.kind === "image");
    this.base = api.run(run.id);
    this.direction = "AB"; // a two-way run (cyclegan) also translates B -> A
    this.inputUrl = null; // an uploaded file's object URL, revoked when replaced
    const [c, hgt, wid] = this.spec.shape;
    const what = `${wid}×${hgt} ${c === 1 ? "grayscale" : "RGB"}`;

    this.upload = h("input", {
      type: "file",
      id: "translate-file",
      class: "input",
      accept: "image/png,image/jpeg",
      "data-testid": "translate-upload",
      onchange: (e) => e.target.files[0] && this.translateFile(e.target.files[0]),
    });
    this.thumbs = h("div", { class: "thumbs", role: "group", "aria-label": "Held-out inputs" });
    const pick = h(
      "section",
      {
        class: "card translate-pick",
        "aria-labelledby": "translate-title",
        ondragover: (e) => e.preventDefault(),
        ondrop: (e) => {
          e.preventDefault();
          const file = e.dataTransfer.files[0];
          if (file) this.translateFile(file);
        },
      },
      h("h2", { id: "translate-title", text: "Translate an image" }),
      h(
        "p",
        { class: "card-note" },
        `${run.generator.family} exported at step ${run.generator.step ?? "?"} · takes ${what} ` +
          `"${this.spec.name}" images; others are resized and converted`,
      ),
      this.directionField(run.generator.directions || ["AB"]),
      h(
        "div",
        { class: "field" },
        h("label", { for: "translate-file", text: "Upload a PNG or JPEG (or drop it here)" }),
        this.upload,
      ),
      h("h3", { class: "thumbs-title", text: "Held-out inputs" }),
      this.thumbs,
    );

    this.panes = {
      input: new Pane("input", "translate-input"),
      output: new Pane("output", "translate-output"),
      target: new Pane("target", "translate-target"),
    };
    this.caption = h("p", { class: "subtle", role: "status", "aria-live": "polite" });
    this.download = h("a", {
      class: "btn btn-small",
      text: "Download output PNG",
      hidden: true,
      "data-testid": "translate-download",
    });
    const result = h(
      "section",
      { class: "card translate-result", "aria-label": "Translation" },
      h("div", { class: "panes" }, Object.values(this.panes).map((p) => p.el)),
      this.caption,
      this.download,
    );
    if (run.generator.inputs.some((s) => s.kind === "mask")) {
      // an inpainting run: held-out images come filled in their fixed holes, and any image
      // (held-out or uploaded) can be painted over and filled
      this.brush = new MaskBrush((blob, what, targetUrl) => this.fillHoles(blob, what, targetUrl));
      pick.append(this.brush.el);
    }
    root.append(h("div", { class: "generate" }, pick, result));
    this.loadHeldOut();
  }

  /** A run's translation URL ``path`` for the chosen direction. */
  apiPath(path) {
    return `${this.base}${path}${this.direction === "AB" ? "" : `?direction=${this.direction}`}`;
  }

  /** The A → B / B → A switch of a two-way run (nothing for a one-way one). */
  directionField(directions) {
    if (directions.length < 2) return null;
    const names = { AB: "A → B", BA: "B → A" };
    const select = h(
      "select",
      {
        id: "translate-direction",
        class: "input",
        "data-testid": "translate-direction",
        onchange: (e) => {
          this.direction = e.target.value;
          this.shown = false;
          this.loadHeldOut();
        },
      },
      directions.map((d) => h("option", { value: d, text: names[d] || d })),
    );
    return h(
      "div",
      { class: "field" },
      h("label", { for: "translate-direction", text: "Direction" }),
      select,
    );
  }

  /** Fill the transparent pixels of ``blob`` (the brush's image) and show the result. */
  async fillHoles(blob, what, targetUrl) {
    if (this.holesUrl) URL.revokeObjectURL(this.holesUrl);
    this.holesUrl = URL.createObjectURL(blob);
    await this.translate(
      () => api.image(`${this.base}/inpaint`, blob),
      this.holesUrl,
      targetUrl,
      `${what} (painted)`,
      `${this.run.id}-filled.png`,
    );
  }

  async loadHeldOut() {
    try {
      this.heldOut = await api.json(this.apiPath("/heldout"));
    } catch (e) {
      this.thumbs.replaceChildren(h("p", { class: "subtle", text: e.message }));
      return;
    }
    const n = Math.min(this.heldOut.count, 64);
    this.thumbs.replaceChildren(
      ...Array.from({ length: n }, (_, i) =>
        h(
          "button",
          {
            type: "button",
            class: "thumb",
            title: `held-out input ${i}`,
            "data-testid": "heldout-thumb",
            onclick: () => this.translateHeldOut(i),
          },
          h("img", {
            class: "pixelated",
            src: this.apiPath(`/heldout/${i}/input.png`),
            alt: `held-out input ${i}`,
          }),
        ),
      ),
    );
    if (n && !this.shown) this.translateHeldOut(0); // something to look at straight away
  }

  async translateHeldOut(i) {
    const target = this.heldOut.targets ? this.apiPath(`/heldout/${i}/target.png`) : null;
    this.select(i);
    this.shownHeldOut = true;
    if (this.brush && target) this.brush.load(target, `held-out image ${i}`, target);
    await this.translate(
      () => api.image(this.apiPath(`/heldout/${i}/translate`)),
      this.apiPath(`/heldout/${i}/input.png`),
      target,
      `held-out input ${i}`,
      `${this.run.id}-heldout-${i}.png`,
    );
  }

  async translateFile(file) {
    const max = this.heldOut ? this.heldOut.max_upload : Infinity;
    if (file.size > max) {
      toast(`${file.name} is over ${Math.round(max / 1048576)} MB: choose a smaller image`);
      return;
    }
    if (this.inputUrl) URL.revokeObjectURL(this.inputUrl);
    this.inputUrl = URL.createObjectURL(file);
    this.select(null);
    this.shownHeldOut = false;
    if (this.brush) {
      // nothing to fill until a hole is painted
      await this.brush.load(this.inputUrl, file.name, null).catch(() =>
        toast(`${file.name} cannot be shown: choose a PNG or JPEG`),
      );
      return;
    }
    const stem = file.name.replace(/\.[^.]*$/, "") || "upload";
    await this.translate(
      () => api.image(this.apiPath("/translate"), file),
      this.inputUrl,
      null,
      file.name,
      `${this.run.id}-${stem}-translated.png`,
    );
  }

  /** Mark held-out input ``i`` as the one shown (null: an upload is). */
  select(i) {
    [...this.thumbs.children].forEach((b, j) => b.setAttribute("aria-pressed", String(i === j)));
  }

  async translate(request, inputUrl, targetUrl, what, filename) {
    const t0 = performance.now();
    let out;
    try {
      out = await withRetry(request);
    } catch (e) {
      toast(`Translation failed: ${e.message}`);
      return;
    }
    const ms = Math.round(performance.now() - t0);
    if (this.outputUrl) URL.revokeObjectURL(this.outputUrl);
    this.outputUrl = URL.createObjectURL(out.blob);
    this.panes.input.show(inputUrl, `input: ${what}`);
    this.panes.output.show(this.outputUrl, `output for ${what}`);
    this.panes.target.show(
      targetUrl,
      `target for ${what}`,
      this.shownHeldOut ? "no target: the domains are unpaired" : "no target for an upload",
    );
    this.download.href = this.outputUrl;
    this.download.download = filename;
    this.download.hidden = false;
    this.caption.textContent = `${what} · ${ms} ms${out.note ? ` · ${out.note}` : ""}`;
    this.shown = true;
  }

  destroy() {
    if (this.inputUrl) URL.revokeObjectURL(this.inputUrl);
    if (this.outputUrl) URL.revokeObjectURL(this.outputUrl);
    if (this.holesUrl) URL.revokeObjectURL(this.holesUrl);
  }
}

// -- a run's page -------------------------------------------------------------------------------
class RunView {
  constructor(root, id, tab) {
    this.root = root;
    this.id = id;
    this.tab = tab || "training";
    this.panels = {};
    document.title = `${id} · gankit`;
    this.head = h("div", { class: "run-head" });
    this.tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Run views" });
    this.body = h("div", { class: "tab-body" });
    root.append(
      h("a", { class: "back", href: "#/", text: "← All runs" }),
      this.head,
      this.tabs,
      this.body,
    );
    this.poller = new Poller(
      () => this.load(),
      () => (this.run && this.run.state === "running" ? 2000 : 8000),
    );
    this.poller.kick();
  }

  async load() {
    let run;
    try {
      run = await api.json(api.run(this.id));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        this.head.replaceChildren(h("h1", { text: "Run not found" }), h("p", { text: e.message }));
        this.poller.stop();
        return;
      }
      throw e;
    }
    const tabsChanged =
      !this.run ||
      Boolean(this.run.generator) !== Boolean(run.generator) ||
      translates(this.run.generator) !== translates(run.generator);
    this.run = run;
    this.renderHead();
    if (tabsChanged) this.renderTabs();
    document.title = `${run.state === "running" ? `step ${run.step} · ` : ""}${run.id} · gankit`;
    if (this.panels.training) await this.panels.training.refresh(run);
  }

  renderHead() {
    const r = this.run;
    const l = r.latest;
    const stat = (label, value, attrs) =>
      h(
        "div",
        Object.assign({ class: "stat" }, attrs || {}),
        h("span", { class: "stat-label", text: label }),
        h("span", { class: "stat-value", text: value }),
      );
    const eta =
      r.state === "running" && l["time/step_s"]
        ? duration((r.total_steps - r.step) * l["time/step_s"])
        : null;
    this.head.replaceChildren(
      ...[
        h(
          "div",
          { class: "run-title" },
          h("h1", { text: r.id }),
          stateBadge(r.state),
          h("span", { class: "badge", text: r.family }),
          h("span", { class: "badge", text: r.data }),
        ),
        r.error ? h("p", { class: "error-line", role: "alert", text: `Failed: ${r.error}` }) : null,
        h(
          "div",
          { class: "stats-row" },
          h(
            "div",
            { class: "stat stat-wide" },
            h("span", { class: "stat-label", text: "step" }),
            h("span", {
              class: "stat-value",
              "data-testid": "run-step",
              "data-step": String(r.step),
              "aria-live": "polite",
              text: `${r.step.toLocaleString()} / ${r.total_steps.toLocaleString()}`,
            }),
            progress(r.step, r.total_steps),
          ),
          stat("images seen", fmt(l.images_seen)),
          stat("speed", l.img_per_s ? `${fmt(l.img_per_s)} img/s` : "–"),
          stat("training time", duration(l.time)),
          eta ? stat("ETA", eta) : stat("updated", ago(r.updated) || "–"),
          stat("D(x) / D(G(z))", `${fmt(l["D(x)"])} / ${fmt(l["D(G(z))"])}`),
        ),
      ].filter(Boolean),
    );
  }

  renderTabs() {
    const r = this.run;
    const tabs = [["training", "Training"]];
    if (translates(r.generator)) tabs.push(["translate", "Translate"]);
    else if (r.generator) tabs.push(["generate", "Generate"]);
    tabs.push(["config", "Config"]);
    if (!tabs.some(([k]) => k === this.tab)) this.tab = "training";
    this.tabButtons = {};
    this.tabs.replaceChildren(
      ...tabs.map(([key, label]) => {
        const b = h("button", {
          type: "button",
          role: "tab",
          id: `tab-${key}`,
          class: "tab",
          "aria-controls": `panel-${key}`,
          text: label,
          onclick: () => (location.hash = `#/run/${encodeURIComponent(this.id)}/${key}`),
          onkeydown: (e) => {
            const i = tabs.findIndex(([k]) => k === key);
            const j = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : null;
            if (j === null) return;
            const next = tabs[(j + tabs.length) % tabs.length][0];
            location.hash = `#/run/${encodeURIComponent(this.id)}/${next}`;
            setTimeout(() => this.tabButtons[next].focus(), 0);
          },
        });
        this.tabButtons[key] = b;
        return b;
      }),
    );
    this.showTab(this.tab);
  }

  showTab(tab) {
    if (!this.run) {
      this.tab = tab;
      return;
    }
    if (!this.tabButtons[tab]) tab = "training";
    this.tab = tab;
    for (const [k, b] of Object.entries(this.tabButtons)) {
      b.setAttribute("aria-selected", String(k === tab));
      b.tabIndex = k === tab ? 0 : -1;
    }
    for (const p of this.body.children) p.hidden = p.dataset.tab !== tab;
    if (!this.body.querySelector(`[data-tab="${tab}"]`)) {
      const panel = h("div", {
        role: "tabpanel",
        id: `panel-${tab}`,
        "aria-labelledby": `tab-${tab}`,
        "data-tab": tab,
      });
      this.body.append(panel);
      if (tab === "training") {
        this.panels.training = new TrainingPanel(this.run, panel);
        this.panels.training.refresh(this.run).catch(() => {});
      } else if (tab === "generate") {
        this.panels.generate = new GeneratePanel(this.run, panel);
      } else if (tab === "translate") {
        this.panels.translate = new TranslatePanel(this.run, panel);
      } else if (tab === "config") {
        panel.append(
          h(
            "section",
            { class: "card" },
            h("h2", { text: "Resolved config" }),
            h("pre", { class: "config", text: JSON.stringify(this.run.config, null, 2) }),
            this.run.generator ? h("h2", { text: "Exported generator" }) : null,
            this.run.generator
              ? h("pre", { class: "config", text: JSON.stringify(this.run.generator, null, 2) })
              : null,
          ),
        );
      }
    }
  }

  destroy() {
    this.poller.stop();
    for (const p of Object.values(this.panels)) p.destroy();
  }
}

// -- compare ------------------------------------------------------------------------------------
class CompareView {
  constructor(root, ids) {
    this.root = root;
    this.selected = ids.filter(Boolean);
    this.stores = {};
    this.charts = {};
    this.keys = ["loss/D", "loss/G", "D(G(z))", "acc/D"];
    this.xKey = "step";
    document.title = "Compare · gankit";
    this.picker = h("fieldset", { class: "card picker" }, h("legend", { text: "Runs" }));
    this.keyPicker = h("fieldset", { class: "key-picker" }, h("legend", { text: "Curves" }));
    this.xSelect = h(
      "select",
      {
        id: "x-axis",
        class: "input input-small",
        onchange: (e) => {
          this.xKey = e.target.value;
          this.rebuild();
        },
      },
      h("option", { value: "step", text: "step" }),
      h("option", { value: "images_seen", text: "images seen" }),
      h("option", { value: "time", text: "training time (s)" }),
    );
    this.grid = h("div", { class: "chart-grid compare-grid" });
    root.append(
      h(
        "div",
        { class: "page-head" },
        h(
          "div",
          {},
          h("h1", { text: "Compare runs" }),
          h("p", {
            class: "subtle",
            text: "Pick two or more runs; their curves share each chart.",
          }),
        ),
      ),
      h(
        "div",
        { class: "compare" },
        this.picker,
        h(
          "div",
          {},
          h(
            "div",
            { class: "charts-toolbar" },
            this.keyPicker,
            h("label", { for: "x-axis", text: "x axis" }),
            this.xSelect,
          ),
          this.grid,
        ),
      ),
    );
    this.poller = new Poller(
      () => this.load(),
      () => 4000,
    );
    this.poller.kick();
  }

  async load() {
    const runs = await api.json("/api/runs");
    this.runs = runs;
    this.renderPicker();
    await Promise.all(
      this.selected.map((id) =>
        this.store(id)
          .update()
          .catch(() => false),
      ),
    );
    this.renderKeys();
    this.draw();
  }

  store(id) {
    if (!this.stores[id]) this.stores[id] = new StatsStore(id);
    return this.stores[id];
  }

  color(id) {
    const ids = (this.runs || []).map((r) => r.id);
    return PALETTE[Math.max(0, ids.indexOf(id)) % PALETTE.length];
  }

  renderPicker() {
    const key = this.runs.map((r) => r.id).join("|") + "#" + this.selected.join("|");
    if (key === this.pickerKey) return;
    this.pickerKey = key;
    const legend = this.picker.firstChild;
    this.picker.replaceChildren(
      legend,
      ...this.runs
        .slice()
        .reverse()
        .map((r) => {
          const box = h("input", {
            type: "checkbox",
            checked: this.selected.includes(r.id),
            onchange: (e) => {
              if (e.target.checked) this.selected.push(r.id);
              else this.selected = this.selected.filter((x) => x !== r.id);
              history.replaceState(
                null,
                "",
                `#/compare/${this.selected.map(encodeURIComponent).join(",")}`,
              );
              this.pickerKey = null;
              this.load();
            },
          });
          const sw = h("span", { class: "swatch" });
          sw.style.backgroundColor = this.color(r.id);
          return h(
            "label",
            { class: "pick" },
            box,
            sw,
            h("span", { class: "pick-name", text: r.id }),
            h("span", { class: "subtle", text: `${r.family} · ${r.data} · ${r.state}` }),
          );
        }),
    );
    if (!this.runs.length) this.picker.append(h("p", { class: "subtle", text: "No runs yet." }));
  }

  renderKeys() {
    const all = new Set();
    for (const id of this.selected) for (const k of Object.keys(this.store(id).values)) all.add(k);
    const keys = [...all]
      .filter((k) => !BOOKKEEPING.has(k))
      .sort((a, b) => {
        const order = [...SHOWN];
        const ia = order.indexOf(a),
          ib = order.indexOf(b);
        return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
      });
    const sig = keys.join("|") + "#" + this.keys.join("|");
    if (sig === this.keysSig) return;
    this.keysSig = sig;
    const legend = this.keyPicker.firstChild;
    this.keyPicker.replaceChildren(
      legend,
      ...keys.map((k) =>
        h(
          "label",
          { class: "chip-check" },
          h("input", {
            type: "checkbox",
            checked: this.keys.includes(k),
            onchange: (e) => {
              this.keys = e.target.checked ? [...this.keys, k] : this.keys.filter((x) => x !== k);
              this.keysSig = null;
              this.renderKeys();
              this.draw();
            },
          }),
          k,
        ),
      ),
    );
  }

  rebuild() {
    for (const c of Object.values(this.charts)) c.card.remove();
    this.charts = {};
    this.draw();
  }

  draw() {
    for (const [k, c] of Object.entries(this.charts)) {
      if (!this.keys.includes(k)) {
        c.chart.destroy();
        c.card.remove();
        delete this.charts[k];
      }
    }
    if (this.selected.length === 0) {
      this.grid.replaceChildren(h("p", { class: "subtle", text: "Select runs on the left." }));
      this.charts = {};
      return;
    }
    const placeholder = this.grid.querySelector(":scope > p");
    if (placeholder) placeholder.remove();
    const xLabel = this.xSelect.selectedOptions[0].textContent;
    for (const k of this.keys) {
      if (!this.charts[k]) {
        const card = h(
          "section",
          { class: "card chart-card", "aria-label": k },
          h("div", { class: "card-head" }, h("h2", { text: k })),
        );
        this.grid.append(card);
        const prob = k.startsWith("D(") || k.startsWith("acc/");
        const chart = new LineChart(card, {
          title: k,
          xLabel,
          refLines: prob ? [{ y: 0.5, label: "0.5" }] : [],
        });
        this.charts[k] = { chart, card };
      }
      const series = [];
      for (const id of this.selected) {
        const s = this.store(id).series([k], this.xKey)[0];
        if (s) series.push(Object.assign(s, { key: id, label: id, color: this.color(id) }));
      }
      this.charts[k].chart.setData(series);
    }
  }

  destroy() {
    this.poller.stop();
    for (const c of Object.values(this.charts)) c.chart.destroy();
  }
}

// -- routing --------------------------------------------------------------------------------------
let view = null;

function route() {
  const hash = location.hash || "#/";
  let m = hash.match(/^#\/run\/([^/]+)(?:\/(\w+))?$/);
  if (m && view instanceof RunView && view.id === decodeURIComponent(m[1])) {
    view.showTab(m[2] || "training");
    return;
  }
  if (view) view.destroy();
  main.replaceChildren();
  for (const a of document.querySelectorAll("[data-nav]")) a.removeAttribute("aria-current");
  if (m) {
    view = new RunView(main, decodeURIComponent(m[1]), m[2]);
    return;
  }
  m = hash.match(/^#\/compare(?:\/(.*))?$/);
  if (m) {
    document.querySelector('[data-nav="compare"]').setAttribute("aria-current", "page");
    view = new CompareView(main, (m[1] || "").split(",").map(decodeURIComponent));
    return;
  }
  document.querySelector('[data-nav="runs"]').setAttribute("aria-current", "page");
  view = new RunsView(main);
}

window.addEventListener("hashchange", route);
api
  .json("/api/info")
  .then((info) => {
    document.getElementById("version").textContent = info.version;
    document.getElementById("runs-dir").textContent = info.runs_dir;
  })
  .catch(() => {});
route();
