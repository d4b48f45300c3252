// servegraph dashboard charts: line charts with threshold lines, grouped histograms. Plain SVG.
"use strict";

const SG_COLORS = ["#3d6fb6", "#2f8a4c", "#c77c02", "#6c4fc4", "#0f8b8d", "#b5446e", "#7a6a2f", "#5b6b7c", "#d1453b", "#1f7a3f"];

function sgEsc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function sgNiceTicks(lo, hi, count) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) { ticks.push(+v.toFixed(10)); }
  return ticks;
}

function sgFmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) { return "–"; }
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e12) { return String(v); }
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) { return v.toExponential(1); }
  return (+v.toFixed(a >= 100 ? 0 : a >= 1 ? 2 : 3)).toString();
}

// time ticks that fit the span: minutes, hours or days
function sgTimeTicks(t0, t1, count) {
  const span = Math.max(t1 - t0, 1);
  const steps = [60e3, 5 * 60e3, 15 * 60e3, 30 * 60e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 7 * 86400e3, 30 * 86400e3];
  const step = steps.find((s) => span / s <= count) || steps[steps.length - 1];
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) { ticks.push(t); }
  if (!ticks.length) { ticks.push(t0); }
  const withDate = span > 86400e3 || new Date(t0).toDateString() !== new Date(t1).toDateString();
  const label = (t) => {
    const d = new Date(t);
    const hm = d.toISOString().slice(11, 16);
    return step >= 86400e3 ? d.toISOString().slice(5, 10) : withDate ? `${d.toISOString().slice(5, 10)} ${hm}` : hm;
  };
  return ticks.map((t) => ({ t, label: label(t) }));
}

// series: [{name, points: [[x, y], ...]}]; x are numbers or ms timestamps (opts.time)
// opts: {width, height, time, yLabel, thresholds: [{value, label, color}], className, highlight: Set}
function sgLineChart(series, opts) {
  const W = opts.width || 720, H = opts.height || 260;
  const m = { l: 56, r: 16, t: 14, b: 34 };
  const pts = series.flatMap((s) => s.points.filter((p) => p[1] !== null && p[1] !== undefined));
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]).concat((opts.thresholds || []).map((t) => t.value));
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (!pts.length) { x0 = 0; x1 = 1; }
  if (x0 === x1) { const pad = opts.time ? 1800e3 : 0.5; x0 -= pad; x1 += pad; }
  let y0 = Math.min(0, ...ys), y1 = Math.max(...ys, 0);
  if (y0 === y1) { y1 = y0 + 1; }
  y1 += (y1 - y0) * 0.08;
  const X = (v) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const out = [`<svg class="chart ${sgEsc(opts.className || "")}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`];
  for (const v of sgNiceTicks(y0, y1, 5)) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(v)}" y2="${Y(v)}" stroke="#edf0f3"/>`);
    out.push(`<text x="${m.l - 6}" y="${Y(v) + 4}" text-anchor="end" font-size="11" fill="#66788a">${sgFmt(v)}</text>`);
  }
  const xt = opts.time ? sgTimeTicks(x0, x1, 7) : sgNiceTicks(x0, x1, 7).map((t) => ({ t, label: sgFmt(t) }));
  for (const { t, label } of xt) {
    out.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#9aa7b4"/>`);
    out.push(`<text x="${X(t)}" y="${H - m.b + 17}" text-anchor="middle" font-size="11" fill="#66788a">${sgEsc(label)}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#9aa7b4"/>`);
  if (opts.yLabel) {
    out.push(`<text x="12" y="${(H - m.b + m.t) / 2}" transform="rotate(-90 12 ${(H - m.b + m.t) / 2})" text-anchor="middle" font-size="11" fill="#66788a">${sgEsc(opts.yLabel)}</text>`);
  }
  for (const th of opts.thresholds || []) {
    out.push(`<line class="threshold" data-threshold="${sgEsc(th.label)}" data-value="${th.value}" x1="${m.l}" x2="${W - m.r}" y1="${Y(th.value)}" y2="${Y(th.value)}" stroke="${th.color}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${W - m.r - 4}" y="${Y(th.value) - 4}" text-anchor="end" font-size="11" fill="${th.color}">${sgEsc(th.label)} ${sgFmt(th.value)}</text>`);
  }
  series.forEach((s, i) => {
    const color = s.color || SG_COLORS[i % SG_COLORS.length];
    const good = s.points.filter((p) => p[1] !== null && p[1] !== undefined);
    const bold = opts.highlight && opts.highlight.has(s.name);
    const d = good.map((p, k) => `${k ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ");
    out.push(`<g class="series" data-series="${sgEsc(s.name)}">`);
    if (good.length > 1) { out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${bold ? 2.6 : 1.6}"/>`); }
    for (const p of good) {
      out.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="${bold ? 3.5 : 2.5}" fill="${color}" data-value="${p[1]}"><title>${sgEsc(s.name)}: ${sgFmt(p[1])}</title></circle>`);
    }
    out.push("</g>");
  });
  out.push("</svg>");
  return out.join("");
}

function sgLegend(series, highlight) {
  return `<div class="legend">${series.map((s, i) => `<span class="${highlight && highlight.has(s.name) ? "drifted" : ""}" style="--c:${s.color || SG_COLORS[i % SG_COLORS.length]}">${sgEsc(s.name)}</span>`).join("")}</div>`;
}

// reference vs current probabilities over the same bins
function sgHistogram(bins, reference, current, opts) {
  const W = (opts && opts.width) || 260, H = (opts && opts.height) || 130;
  const m = { l: 30, r: 6, t: 6, b: 18 };
  const top = Math.max(0.01, ...reference, ...current);
  const bw = (W - m.l - m.r) / Math.max(1, bins.length);
  const Y = (v) => H - m.b - (v / top) * (H - m.t - m.b);
  const out = [`<svg class="chart histogram" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`];
  for (const v of sgNiceTicks(0, top, 3)) {
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y(v)}" y2="${Y(v)}" stroke="#edf0f3"/><text x="${m.l - 4}" y="${Y(v) + 3}" font-size="9" text-anchor="end" fill="#66788a">${sgFmt(v)}</text>`);
  }
  bins.forEach((label, i) => {
    const x = m.l + i * bw;
    out.push(`<rect class="ref" x="${x + bw * 0.08}" y="${Y(reference[i])}" width="${bw * 0.42}" height="${H - m.b - Y(reference[i])}" fill="#9fb8dc"><title>${sgEsc(label)} reference ${sgFmt(reference[i])}</title></rect>`);
    out.push(`<rect class="cur" x="${x + bw * 0.5}" y="${Y(current[i])}" width="${bw * 0.42}" height="${H - m.b - Y(current[i])}" fill="#d1453b" opacity=".8"><title>${sgEsc(label)} current ${sgFmt(current[i])}</title></rect>`);
  });
  out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#9aa7b4"/>`);
  out.push(`<text x="${m.l}" y="${H - 4}" font-size="9" fill="#66788a">${sgEsc(bins[0])}</text><text x="${W - m.r}" y="${H - 4}" font-size="9" text-anchor="end" fill="#66788a">${sgEsc(bins[bins.length - 1])}</text>`);
  out.push("</svg>");
  return out.join("");
}

// a feature's histogram as a tiny bar strip (statistics tables)
function sgBars(counts) {
  const W = 120, H = 26, top = Math.max(1, ...counts);
  const bw = W / Math.max(1, counts.length);
  return `<svg class="bars" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${counts.map((c, i) => `<rect x="${(i * bw).toFixed(1)}" y="${(H - (c / top) * H).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${((c / top) * H).toFixed(1)}" fill="#7f9ccc"/>`).join("")}</svg>`;
}

// a small trend line (the endpoint list's drift column), with the threshold dashed
function sgSpark(values, threshold) {
  const W = 120, H = 26, pts = values.map((v, i) => [i, v]).filter((p) => p[1] !== null);
  if (!pts.length) { return ""; }
  const top = Math.max(threshold || 0, ...pts.map((p) => p[1])) * 1.1 || 1;
  const X = (i) => (values.length > 1 ? (i / (values.length - 1)) * (W - 4) + 2 : W / 2);
  const Y = (v) => H - 2 - (v / top) * (H - 4);
  const d = pts.map((p, k) => `${k ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ");
  const last = pts[pts.length - 1];
  const color = threshold !== undefined && last[1] >= threshold ? "#d1453b" : "#3d6fb6";
  return `<svg class="spark" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${threshold !== undefined ? `<line x1="0" x2="${W}" y1="${Y(threshold)}" y2="${Y(threshold)}" stroke="#d1453b" stroke-dasharray="3 2" stroke-width="0.8"/>` : ""}<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/><circle cx="${X(last[0])}" cy="${Y(last[1])}" r="2.2" fill="${color}"/></svg>`;
}
