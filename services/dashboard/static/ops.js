/* Parley ops page: small SVG charts of ops_series(), refreshed every 12 s. No library. */
(function () {
  "use strict";
  var root = document.getElementById("ops");
  if (!root) return;
  var statusBox = document.getElementById("ops-status");
  var SVG = "http://www.w3.org/2000/svg";
  var W = 600, H = 140, PAD = 4;
  var COLORS = ["#0b57d0", "#c2410c", "#1a7f37", "#8250df", "#b42318", "#9a6700", "#0a7ea4"];
  var NAMED = { published: "#1a7f37", held: "#9a6700", spam: "#c2410c", discarded: "#57606a",
                requests: "#0b57d0", errors: "#b42318", p50: "#0b57d0", p99: "#c2410c" };

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }

  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (Math.abs(v) >= 100) return Math.round(v).toString();
    return (Math.round(v * 10) / 10).toString();
  }

  function maxOf(series, stacked, raw) {
    var max = 0;
    var n = series.length ? series[0].values.length : 0;
    for (var i = 0; i < n; i++) {
      var sum = 0;
      series.forEach(function (s) {
        var v = num(s.values[i]) || 0;
        if (stacked) sum += v; else max = Math.max(max, v);
      });
      if (stacked) max = Math.max(max, sum);
    }
    if (raw) return max;
    return max > 0 ? max * 1.1 : 1;
  }

  // One chart: lines (default) or stacked bars. series: [{name, values, color}]
  function draw(section, series, opts) {
    opts = opts || {};
    var old = section.querySelector(".body");
    if (old) old.remove();
    var body = document.createElement("div");
    body.className = "body";
    var now = document.createElement("div");
    now.className = series.length > 1 ? "now multi" : "now";
    series.forEach(function (s) {
      var vals = s.values.filter(function (v) { return num(v) !== null; });
      var last = fmt(vals.length ? vals[vals.length - 1] : null);
      if (series.length === 1) { now.textContent = last; return; }
      var item = document.createElement("span");
      var sw = document.createElement("i");
      sw.style.background = s.color;  // CSSOM: allowed by style-src 'self' (no style attribute)
      var value = document.createElement("b");
      value.textContent = last;
      item.appendChild(sw);
      item.appendChild(document.createTextNode(s.name + " "));
      item.appendChild(value);
      now.appendChild(item);
    });
    body.appendChild(now);
    var max = maxOf(series, opts.bars);
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img",
                          "aria-label": section.querySelector("h2").textContent });
    el("line", { x1: 0, x2: W, y1: H - PAD, y2: H - PAD, stroke: "#d1d9e0" }, svg);
    el("line", { x1: 0, x2: W, y1: PAD, y2: PAD, stroke: "#eef1f4" }, svg);
    var n = series.length ? series[0].values.length : 0;
    var step = n > 1 ? W / (n - 1) : W;
    function y(v) { return H - PAD - (v / max) * (H - 2 * PAD); }
    if (opts.bars) {
      var bw = Math.max(1, W / Math.max(n, 1) - 2);
      for (var i = 0; i < n; i++) {
        var base = 0;
        series.forEach(function (s) {
          var v = num(s.values[i]) || 0;
          if (v <= 0) return;
          var top = y(base + v), bottom = y(base);
          el("rect", { x: (W / n) * i + 1, y: top, width: bw, height: Math.max(0.5, bottom - top), fill: s.color }, svg);
          base += v;
        });
      }
    } else {
      series.forEach(function (s) {
        var d = "", pen = false;
        s.values.forEach(function (v, i) {
          v = num(v);
          if (v === null) { pen = false; return; }
          d += (pen ? "L" : "M") + (i * step).toFixed(1) + " " + y(v).toFixed(1) + " ";
          pen = true;
        });
        if (d) el("path", { d: d, fill: "none", stroke: s.color, "stroke-width": 2, "vector-effect": "non-scaling-stroke" }, svg);
      });
    }
    body.appendChild(svg);
    var legend = document.createElement("div");
    legend.className = "legend";
    legend.textContent = "peak " + fmt(maxOf(series, opts.bars, true)) + " · last 60 minutes, now at the right";
    body.appendChild(legend);
    section.appendChild(body);
  }

  function fromMap(map, names) {
    return Object.keys(map || {}).map(function (k, i) {
      return { name: (names && names[k]) || k, values: map[k] || [], color: NAMED[k] || COLORS[i % COLORS.length] };
    });
  }

  function chart(name) { return root.querySelector('[data-chart="' + name + '"]'); }

  function render(data) {
    draw(chart("queue_depth"), fromMap(data.queue_depth));
    draw(chart("oldest_unchecked_age"), [{ name: "age", values: data.oldest_unchecked_age || [], color: COLORS[0] }]);
    draw(chart("decisions"), fromMap(data.decisions), { bars: true });
    var ak = data.akismet || {};
    draw(chart("akismet_requests"), fromMap({ requests: ak.requests, errors: ak.errors }), { bars: true });
    draw(chart("akismet_latency"), fromMap({ p50: ak.p50_ms, p99: ak.p99_ms }));
    var cl = data.check_latency || {};
    draw(chart("check_latency"), fromMap({ p50: cl.p50_s, p99: cl.p99_s }));
    var tbody = document.querySelector("#workers tbody");
    tbody.textContent = "";
    (data.workers || []).forEach(function (w) {
      var tr = document.createElement("tr");
      [w.name, w.last_seen, w.alive ? "alive" : "gone", w.active].forEach(function (v, i) {
        var td = document.createElement("td");
        td.textContent = v === null || v === undefined ? "—" : String(v);
        if (i === 2) td.className = w.alive ? "alive" : "dead";
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    if (!(data.workers || []).length) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 4;
      td.textContent = "No worker has reported.";
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    statusBox.textContent = "Updated " + new Date().toLocaleTimeString() +
      (data.generated_at ? " (data of " + data.generated_at + ")" : "") + "; refreshes every 12 s.";
  }

  function refresh() {
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) {
        return res.json().then(function (data) {
          if (!res.ok) throw new Error(data.detail || "HTTP " + res.status);
          return data;
        });
      })
      .then(render)
      .catch(function (err) { statusBox.textContent = "Could not load: " + err.message + " (retrying)"; })
      .then(function () { setTimeout(refresh, 12000); });
  }
  refresh();
})();
