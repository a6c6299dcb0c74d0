// The dashboard's charts, drawn as plain SVG (no chart library: the page must work offline and
// stay small). Colours come from CSS classes (.head, .tail, .bucket-N …) rather than attributes,
// so that the palette lives in one place, dashboard.css, which the offline report matches.

import { clock, pct } from "./format.js";

const NS = "http://www.w3.org/2000/svg"; // the SVG namespace name, not a URL that is fetched
const W = 360;
const H = 200;
const M = { top: 10, right: 14, bottom: 28, left: 46 };

export function el(tag, attrs = {}, children = []) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c);
  return node;
}

function titled(node, text) {
  node.append(el("title", {}, [text])); // native tooltip on hover
  return node;
}

function scale(d0, d1, r0, r1) {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

// The smallest of 1, 2, 4 × 10^n at or above v: a y-axis top that reads well.
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  // With four intervals, 2.5 or 5 would give ticks such as 12.5 %, shown rounded (13 %).
  for (const m of [1, 2, 4, 10]) if (m * p >= v * (1 - 1e-9)) return m * p;
  return 10 * p;
}

function steps(lo, hi, n) {
  return Array.from({ length: n + 1 }, (_, i) => lo + ((hi - lo) * i) / n);
}

// Ticks on whole minutes/hours, at most five of them, so that labels never repeat.
const TIME_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

function timeTicks(t0, t1) {
  const step = TIME_STEPS.find((s) => (t1 - t0) / s <= 4) ?? 86400 * Math.ceil((t1 - t0) / 86400 / 4);
  const out = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
  return out;
}

function canvas(kind, width = W, height = H) {
  return el("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: `chart ${kind}`,
    role: "img",
    preserveAspectRatio: "xMidYMid meet",
  });
}

function frame(svg, x, y, xs, ys, xFmt, yFmt, box) {
  const g = el("g", { class: "frame" });
  for (const v of ys) {
    g.append(el("line", { x1: box.x0, x2: box.x1, y1: y(v), y2: y(v), class: "grid" }));
    g.append(el("text", { x: box.x0 - 6, y: y(v) + 4, class: "tick", "text-anchor": "end", "data-value": v }, [yFmt(v)]));
  }
  for (const v of xs) {
    g.append(el("line", { x1: x(v), x2: x(v), y1: box.y1, y2: box.y1 + 4, class: "axis" }));
    g.append(el("text", { x: x(v), y: box.y1 + 17, class: "tick", "text-anchor": "middle" }, [xFmt(v)]));
  }
  g.append(el("line", { x1: box.x0, x2: box.x1, y1: box.y1, y2: box.y1, class: "axis" }));
  g.append(el("line", { x1: box.x0, x2: box.x0, y1: box.y0, y2: box.y1, class: "axis" }));
  svg.append(g);
}

function empty(svg, text, width = W, height = H) {
  svg.append(el("text", { x: width / 2, y: height / 2, class: "empty", "text-anchor": "middle" }, [text]));
  return svg;
}

function plotBox(width = W, height = H) {
  return { x0: M.left, x1: width - M.right, y0: M.top, y1: height - M.bottom };
}

/**
 * Tail share per time bucket. `points` are the API's series entries ({t, tail_share, …});
 * `domain` is [first t, last t] over every bucket so the cards share one time axis.
 */
export function seriesChart(points, domain, yMax) {
  const svg = canvas("series");
  const drawn = points.filter((p) => p.tail_share != null);
  if (drawn.length === 0) return empty(svg, "no impressions yet");
  const box = plotBox();
  const [t0, t1] = domain[0] === domain[1] ? [domain[0] - 60, domain[1] + 60] : domain;
  const x = scale(t0, t1, box.x0 + 6, box.x1 - 6);
  const y = scale(0, yMax, box.y1, box.y0);
  frame(svg, x, y, timeTicks(t0, t1), steps(0, yMax, 4), clock, (v) => pct(v, 0), box);
  const d = drawn.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.tail_share).toFixed(1)}`);
  svg.append(el("path", { d: d.join(""), class: "line tail" }));
  for (const p of drawn) {
    svg.append(
      titled(
        el("circle", {
          cx: x(p.t), cy: y(p.tail_share), r: 2.6, class: "point tail",
          "data-t": p.t, "data-value": JSON.stringify(p.tail_share),
        }),
        `${clock(p.t)} UTC: tail share ${pct(p.tail_share)} of ${p.impressions} impressions`,
      ),
    );
  }
  return svg;
}

/**
 * Every bucket's tail share over time on one chart, one line per bucket in the bucket's colour.
 * `lines`: [{name, colourClass, points}] with `points` the API's series entries; `domain` and
 * `yMax` are the cards' shared scales, so this chart reads the same as theirs.
 */
export function compareChart(lines, domain, yMax) {
  const width = 1100; // about the page's width at 1,400 px at the height of the cards' charts
  const svg = canvas("compare", width, H);
  if (lines.every((l) => l.points.every((p) => p.tail_share == null))) {
    return empty(svg, "no impressions yet", width);
  }
  const box = plotBox(width);
  const [t0, t1] = domain[0] === domain[1] ? [domain[0] - 60, domain[1] + 60] : domain;
  const x = scale(t0, t1, box.x0 + 6, box.x1 - 6);
  const y = scale(0, yMax, box.y1, box.y0);
  frame(svg, x, y, timeTicks(t0, t1), steps(0, yMax, 4), clock, (v) => pct(v, 0), box);
  for (const { name, colourClass, points } of lines) {
    const drawn = points.filter((p) => p.tail_share != null);
    if (drawn.length === 0) continue;
    const d = drawn.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.tail_share).toFixed(1)}`);
    const line = el("path", {
      d: d.join(""), class: `line bucket-series ${colourClass}`, "data-bucket": name,
      "data-points": JSON.stringify(drawn.map((p) => [p.t, p.tail_share])),
    });
    svg.append(titled(line, `${name}: tail share of impressions`));
    if (drawn.length === 1) {
      const [p] = drawn; // a single time bucket draws no line: show it as a dot
      svg.append(el("circle", { cx: x(p.t), cy: y(p.tail_share), r: 2.6, class: `point bucket-series ${colourClass}` }));
    }
  }
  return svg;
}

/**
 * Lorenz curve of item exposure (x: share of the catalogue, least exposed first; y: share of
 * impressions). The area between the diagonal and the curve is half the Gini. `reference` is
 * control's curve, drawn dashed in the other buckets for comparison.
 */
export function lorenzChart(curve, colourClass, reference) {
  const size = 200;
  const svg = canvas("lorenz", size + 20, H);
  const box = { x0: M.left, x1: size + 20 - M.right, y0: M.top, y1: H - M.bottom };
  const x = scale(0, 1, box.x0, box.x1);
  const y = scale(0, 1, box.y1, box.y0);
  frame(svg, x, y, [0, 0.5, 1], [0, 0.5, 1], (v) => pct(v, 0), (v) => pct(v, 0), box);
  svg.append(el("line", { x1: x(0), y1: y(0), x2: x(1), y2: y(1), class: "equality" }));
  const path = (c) => c.map(([a, b], i) => `${i ? "L" : "M"}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join("");
  if (reference) svg.append(el("path", { d: path(reference), class: "line reference" }));
  const area = `${path(curve)}L${x(0)},${y(0)}Z`;
  svg.append(el("path", { d: area, class: `gap ${colourClass}` }));
  svg.append(
    el("path", {
      d: path(curve), class: `line curve ${colourClass}`,
      "data-points": JSON.stringify(curve),
    }),
  );
  return svg;
}

/**
 * Click-through per slice (overall, head, tail), with control's rate as a tick on each bar of a
 * treatment bucket. `slices`: [{name, ctr, control}] with ctr/control null when undefined.
 */
export function ctrChart(slices, yMax) {
  const svg = canvas("ctr");
  if (slices.every((s) => s.ctr == null)) return empty(svg, "no impressions yet");
  const box = plotBox();
  const y = scale(0, yMax, box.y1, box.y0);
  const band = (box.x1 - box.x0) / slices.length;
  const bx = (i) => box.x0 + band * (i + 0.5);
  frame(svg, bx, y, [], steps(0, yMax, 4), String, (v) => pct(v, 1), box);
  slices.forEach((s, i) => {
    const w = band * 0.5;
    const left = bx(i) - w / 2;
    svg.append(el("text", { x: bx(i), y: box.y1 + 17, class: "tick", "text-anchor": "middle" }, [s.name]));
    if (s.ctr != null) {
      svg.append(
        titled(
          el("rect", {
            x: left, y: y(s.ctr), width: w, height: Math.max(0, box.y1 - y(s.ctr)),
            class: `bar ${s.name}`, "data-slice": s.name, "data-value": JSON.stringify(s.ctr),
          }),
          `${s.name}: CTR ${pct(s.ctr)}`,
        ),
      );
    }
    // Every bar carries its value, an empty one (0 clicks) too, so that "no bar" reads as 0 and
    // not as missing; a slice without impressions shows the dash instead.
    // Above both the bar and control's tick, so that neither crosses the label.
    const top = Math.min(s.ctr == null ? box.y1 : y(s.ctr), s.control == null ? box.y1 : y(s.control) - 1);
    svg.append(
      el("text", {
        x: bx(i), y: Math.max(box.y0 + 9, top - 4), class: "bar-label", "text-anchor": "middle",
        "data-slice": s.name, "data-value": JSON.stringify(s.ctr ?? null),
      }, [pct(s.ctr, s.ctr === 0 ? 0 : 1)]),
    );
    if (s.control != null) {
      svg.append(
        titled(
          el("line", { x1: left - 4, x2: left + w + 4, y1: y(s.control), y2: y(s.control), class: "control-tick" }),
          `control ${s.name}: CTR ${pct(s.control)}`,
        ),
      );
    }
  });
  return svg;
}

/** One horizontal bar split into head and tail impressions. */
export function shareBar(head, tail) {
  const width = 300;
  const svg = canvas("share", width, 14);
  const total = head + tail;
  if (total === 0) {
    svg.append(el("rect", { x: 0, y: 0, width, height: 14, class: "bar none" }));
    return svg;
  }
  const hw = (width * head) / total;
  svg.append(titled(el("rect", { x: 0, y: 0, width: hw, height: 14, class: "bar head" }), `head ${head}`));
  svg.append(
    titled(el("rect", { x: hw, y: 0, width: width - hw, height: 14, class: "bar tail" }), `tail ${tail}`),
  );
  return svg;
}
