/* gankit dashboard: a small line chart on <canvas> (no dependencies).
 *
 * const chart = new LineChart(container, {title, refLines: [{y: 0.5, label: "equilibrium"}],
 *                                         yMin: 0, yMax: 1, xLabel: "step"});
 * chart.setData([{key, label, color, xs: [...], ys: [... or null]}]);
 * chart.setSmoothing(0.6);   // TensorBoard-style debiased EMA; raw data drawn faintly behind
 */
"use strict";

(function (global) {
  const FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  /** Round numbers for axis ticks: about `count` ticks spanning [min, max]. */
  function ticks(min, max, count, integer) {
    if (!(max > min)) return [min];
    const raw = (max - min) / Math.max(count, 1);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    let step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    if (integer) step = Math.max(step, 1);
    const out = [];
    for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return out;
  }

  /** A compact, readable number: 1.23k, 0.0456, 3.2e-5. */
  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + "k";
    if (a >= 100) return v.toFixed(0);
    if (a >= 1e-3) return String(Number(v.toPrecision(3)));
    return v.toExponential(1);
  }

  /** Debiased exponential moving average, skipping gaps (as TensorBoard's smoothing slider). */
  function smooth(ys, weight) {
    if (!weight) return ys;
    let last = 0;
    let n = 0;
    return ys.map((y) => {
      if (y === null || !Number.isFinite(y)) return null;
      last = last * weight + (1 - weight) * y;
      n += 1;
      return last / (1 - Math.pow(weight, n));
    });
  }

  function lowerBound(xs, x) {
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  class LineChart {
    constructor(container, opts = {}) {
      this.opts = Object.assign({ xLabel: "step", height: 220, refLines: [] }, opts);
      this.series = [];
      this.hidden = new Set(this.opts.hidden || []);
      this.smoothing = 0;
      this.hover = null;

      this.root = document.createElement("div");
      this.root.className = "chart";
      this.legend = document.createElement("div");
      this.legend.className = "chart-legend";
      this.canvas = document.createElement("canvas");
      this.canvas.setAttribute("role", "img");
      this.canvas.style.height = this.opts.height + "px";
      this.tip = document.createElement("div");
      this.tip.className = "chart-tip";
      this.tip.hidden = true;
      const plot = document.createElement("div");
      plot.className = "chart-plot";
      plot.append(this.canvas, this.tip);
      this.root.append(this.legend, plot);
      container.append(this.root);

      this.canvas.addEventListener("mousemove", (e) => this._onMove(e));
      this.canvas.addEventListener("mouseleave", () => {
        this.hover = null;
        this.tip.hidden = true;
        this.draw();
      });
      this.resizer = new ResizeObserver(() => this.draw());
      this.resizer.observe(this.root);
    }

    destroy() {
      this.resizer.disconnect();
      this.root.remove();
    }

    setSmoothing(weight) {
      this.smoothing = weight;
      this.draw();
    }

    /** series: [{key, label, color, xs, ys, dashed}] with xs ascending. */
    setData(series) {
      this.series = series;
      const n = series.reduce((a, s) => a + s.xs.length, 0);
      this.root.dataset.points = String(n);
      this._legend();
      this._label();
      this.draw();
    }

    _legend() {
      const keys = this.series.map((s) => s.key + s.color).join("|");
      if (keys === this._legendKeys) return;
      this._legendKeys = keys;
      this.legend.replaceChildren();
      for (const s of this.series) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "legend-item";
        b.setAttribute("aria-pressed", String(!this.hidden.has(s.key)));
        b.title = "Show or hide " + (s.label || s.key);
        const sw = document.createElement("span");
        sw.className = "swatch" + (s.dashed ? " dashed" : "");
        sw.style.backgroundColor = s.color;
        sw.style.borderColor = s.color;
        const t = document.createElement("span");
        t.textContent = s.label || s.key;
        b.append(sw, t);
        b.addEventListener("click", () => {
          if (this.hidden.has(s.key)) this.hidden.delete(s.key);
          else this.hidden.add(s.key);
          b.setAttribute("aria-pressed", String(!this.hidden.has(s.key)));
          this.draw();
        });
        this.legend.append(b);
      }
    }

    _label() {
      const parts = this.series.map((s) => {
        let last = null;
        for (let i = s.ys.length - 1; i >= 0; i--) {
          if (s.ys[i] !== null) {
            last = i;
            break;
          }
        }
        return last === null
          ? `${s.label || s.key}: no data`
          : `${s.label || s.key} ${fmt(s.ys[last])} at ${this.opts.xLabel} ${fmt(s.xs[last])}`;
      });
      this.canvas.setAttribute(
        "aria-label",
        `${this.opts.title || "Chart"}. ${parts.join("; ") || "No data yet"}.`,
      );
    }

    _visible() {
      return this.series
        .filter((s) => !this.hidden.has(s.key))
        .map((s) => Object.assign({}, s, { sm: smooth(s.ys, this.smoothing) }));
    }

    _bounds(vis) {
      let x0 = Infinity,
        x1 = -Infinity,
        y0 = Infinity,
        y1 = -Infinity;
      for (const s of vis) {
        for (let i = 0; i < s.xs.length; i++) {
          const y = s.ys[i];
          if (y === null || !Number.isFinite(y)) continue;
          x0 = Math.min(x0, s.xs[i]);
          x1 = Math.max(x1, s.xs[i]);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
      if (!Number.isFinite(x0)) return null;
      for (const r of this.opts.refLines) {
        y0 = Math.min(y0, r.y);
        y1 = Math.max(y1, r.y);
      }
      if (this.opts.yMin !== undefined) y0 = Math.min(y0, this.opts.yMin);
      if (this.opts.yMax !== undefined) y1 = Math.max(y1, this.opts.yMax);
      if (y1 - y0 < 1e-12) {
        y0 -= Math.abs(y0) * 0.1 || 1;
        y1 += Math.abs(y1) * 0.1 || 1;
      }
      const pad = (y1 - y0) * 0.06;
      const fixedLo = this.opts.yMin !== undefined && y0 >= this.opts.yMin;
      const fixedHi = this.opts.yMax !== undefined && y1 <= this.opts.yMax;
      if (x1 === x0) {
        x0 -= 1;
        x1 += 1;
      }
      return { x0, x1, y0: fixedLo ? y0 : y0 - pad, y1: fixedHi ? y1 : y1 + pad };
    }

    draw() {
      const c = this.canvas;
      const w = c.clientWidth;
      const hgt = c.clientHeight;
      if (!w || !hgt) return;
      const dpr = window.devicePixelRatio || 1;
      if (c.width !== Math.round(w * dpr) || c.height !== Math.round(hgt * dpr)) {
        c.width = Math.round(w * dpr);
        c.height = Math.round(hgt * dpr);
      }
      const ctx = c.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, hgt);
      ctx.font = FONT;
      const grid = cssVar("--chart-grid", "#e9ecef");
      const muted = cssVar("--muted", "#6b7280");
      const vis = this._visible();
      const b = this._bounds(vis);
      if (!b) {
        ctx.fillStyle = muted;
        ctx.textAlign = "center";
        ctx.fillText("No data yet", w / 2, hgt / 2);
        this.layout = null;
        return;
      }
      const yt = ticks(b.y0, b.y1, Math.max(2, Math.floor(hgt / 45)));
      const labelW = Math.max(...yt.map((v) => ctx.measureText(fmt(v)).width));
      const L = Math.ceil(labelW) + 12,
        R = 12,
        T = 8,
        B = 22;
      const pw = w - L - R,
        ph = hgt - T - B;
      const X = (x) => L + ((x - b.x0) / (b.x1 - b.x0)) * pw;
      const Y = (y) => T + (1 - (y - b.y0) / (b.y1 - b.y0)) * ph;
      this.layout = { L, R, T, B, pw, ph, X, Y, b };

      // grid and axes
      ctx.lineWidth = 1;
      ctx.strokeStyle = grid;
      ctx.fillStyle = muted;
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      for (const v of yt) {
        const y = Math.round(Y(v)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(L, y);
        ctx.lineTo(L + pw, y);
        ctx.stroke();
        ctx.fillText(fmt(v), L - 6, y);
      }
      const xt = ticks(b.x0, b.x1, Math.max(2, Math.floor(pw / 90)), this.opts.xLabel === "step");
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (const v of xt) {
        const x = Math.round(X(v)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, T + ph);
        ctx.lineTo(x, T + ph + 4);
        ctx.stroke();
        const half = ctx.measureText(fmt(v)).width / 2;
        ctx.fillText(fmt(v), Math.min(Math.max(x, half), w - half - 1), T + ph + 6);
      }

      // reference lines (the 0.5 equilibrium of D's outputs)
      for (const r of this.opts.refLines) {
        const y = Math.round(Y(r.y)) + 0.5;
        ctx.save();
        ctx.setLineDash([5, 4]);
        ctx.strokeStyle = muted;
        ctx.beginPath();
        ctx.moveTo(L, y);
        ctx.lineTo(L + pw, y);
        ctx.stroke();
        ctx.restore();
      }

      // series: raw (faint, when smoothing) then smoothed
      ctx.save();
      ctx.beginPath();
      ctx.rect(L, T - 2, pw, ph + 4);
      ctx.clip();
      for (const s of vis) {
        if (this.smoothing > 0) this._line(ctx, s.xs, s.ys, X, Y, s.color, 1, 0.22, s.dashed);
        this._line(ctx, s.xs, s.sm, X, Y, s.color, 1.8, 1, s.dashed);
      }
      ctx.restore();

      // reference-line labels above the curves
      ctx.fillStyle = muted;
      for (const r of this.opts.refLines) {
        const y = Math.round(Y(r.y)) + 0.5;
        if (r.label) {
          ctx.textAlign = "right";
          ctx.textBaseline = "bottom";
          const tw = ctx.measureText(r.label).width;
          ctx.save();
          ctx.globalAlpha = 0.85;
          ctx.fillStyle = cssVar("--card", "#fff");
          ctx.fillRect(L + pw - tw - 6, y - 15, tw + 6, 13);
          ctx.restore();
          ctx.fillText(r.label, L + pw - 3, y - 2);
        }
      }

      if (this.hover !== null) this._drawHover(ctx, vis);
    }

    _line(ctx, xs, ys, X, Y, color, width, alpha, dashed) {
      ctx.save();
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = width;
      ctx.lineJoin = "round";
      if (dashed) ctx.setLineDash([6, 3]);
      ctx.beginPath();
      const lonely = []; // points with a gap on both sides: drawn as dots
      let run = 0;
      for (let i = 0; i <= xs.length; i++) {
        const y = i < xs.length ? ys[i] : null;
        if (y === null || !Number.isFinite(y)) {
          if (run === 1) lonely.push(i - 1);
          run = 0;
          continue;
        }
        if (run) ctx.lineTo(X(xs[i]), Y(y));
        else ctx.moveTo(X(xs[i]), Y(y));
        run += 1;
      }
      ctx.stroke();
      for (const i of lonely) {
        ctx.beginPath();
        ctx.arc(X(xs[i]), Y(ys[i]), 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.restore();
    }

    _onMove(e) {
      if (!this.layout) return;
      const rect = this.canvas.getBoundingClientRect();
      const { L, pw, b } = this.layout;
      const px = Math.min(Math.max(e.clientX - rect.left, L), L + pw);
      this.hover = b.x0 + ((px - L) / pw) * (b.x1 - b.x0);
      this.draw();
    }

    _drawHover(ctx, vis) {
      const { L, T, pw, ph, X, Y } = this.layout;
      // the logged x nearest to the pointer, over all visible series
      let best = null;
      for (const s of vis) {
        const i = lowerBound(s.xs, this.hover);
        for (const j of [i - 1, i]) {
          if (j >= 0 && j < s.xs.length) {
            if (best === null || Math.abs(s.xs[j] - this.hover) < Math.abs(best - this.hover)) {
              best = s.xs[j];
            }
          }
        }
      }
      if (best === null) return;
      const x = Math.round(X(best)) + 0.5;
      ctx.save();
      ctx.strokeStyle = cssVar("--muted", "#6b7280");
      ctx.globalAlpha = 0.6;
      ctx.beginPath();
      ctx.moveTo(x, T);
      ctx.lineTo(x, T + ph);
      ctx.stroke();
      ctx.restore();
      const rows = [];
      for (const s of vis) {
        const i = lowerBound(s.xs, best);
        if (s.xs[i] !== best) continue;
        const y = s.sm[i];
        if (y === null || !Number.isFinite(y)) continue;
        ctx.beginPath();
        ctx.fillStyle = s.color;
        ctx.arc(X(best), Y(y), 3, 0, 2 * Math.PI);
        ctx.fill();
        rows.push([s, y]);
      }
      this.tip.replaceChildren();
      const head = document.createElement("div");
      head.className = "tip-head";
      head.textContent = `${this.opts.xLabel} ${fmt(best)}`;
      this.tip.append(head);
      for (const [s, y] of rows) {
        const row = document.createElement("div");
        const sw = document.createElement("span");
        sw.className = "swatch";
        sw.style.backgroundColor = s.color;
        const t = document.createElement("span");
        t.textContent = `${s.label || s.key}: ${fmt(y)}`;
        row.append(sw, t);
        this.tip.append(row);
      }
      this.tip.hidden = false;
      const left = X(best) > L + pw / 2 ? X(best) - this.tip.offsetWidth - 10 : X(best) + 10;
      this.tip.style.left = Math.max(0, left) + "px";
      this.tip.style.top = T + 4 + "px";
    }
  }

  global.LineChart = LineChart;
  global.chartFmt = fmt;
})(window);
