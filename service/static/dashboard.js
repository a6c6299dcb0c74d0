// The exposure dashboard: polls /stats/exposure and /stats/ab every few seconds and redraws one
// card per A/B bucket. Every number shown carries data-field / data-value (the API's JSON value),
// so a test can read the page back and compare it with the API.
//
// Query parameters of the page: refresh (seconds between polls, default 5) and window_s (passed
// through to both stats calls; default: the whole retention).

import { compareChart, ctrChart, lorenzChart, niceMax, seriesChart, shareBar } from "./charts.js";
import { clockSeconds, count, duration, fixed, pct, points, pValue } from "./format.js";

const LORENZ_POINTS = 51;
const SLICES = ["overall", "head", "tail"];
const ALPHA = 0.05; // significance level for the "significant" column

const params = new URLSearchParams(window.location.search);
const refreshS = Math.min(3600, Math.max(1, Number(params.get("refresh")) || 5));
const windowS = /^[0-9]+$/.test(params.get("window_s") ?? "") ? params.get("window_s") : null;

function h(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c);
  return node;
}

// One shown number: its text, and the API's exact value for machines.
function value(field, v, text) {
  return h("span", { class: "value", "data-field": field, "data-value": JSON.stringify(v ?? null) }, [text]);
}

function kpi(label, node, note) {
  const dd = h("dd", {}, [node]);
  if (note) dd.append(h("small", {}, [note]));
  return h("div", { class: "kpi" }, [h("dt", {}, [label]), dd]);
}

async function getJson(path) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    const r = await fetch(path, { cache: "no-store", signal: abort.signal });
    const body = await r.json().catch(() => null);
    if (!r.ok) {
      const msg = body?.detail?.[0]?.msg ?? r.statusText;
      throw new Error(`${path.split("?")[0]}: HTTP ${r.status}: ${msg}`);
    }
    return body;
  } finally {
    clearTimeout(timer);
  }
}

function ctrTable(name, ab) {
  const isControl = !ab.vs_control;
  const titles = [
    ["slice", ""],
    ["impr.", "impressions"],
    ["clicks", ""],
    ["CTR", "click-through rate"],
    ["\u0394", "difference to control, percentage points"],
    ["z", "z statistic against control"],
    ["p", `two-sided p-value against control; * significant at ${ALPHA}`],
  ];
  const head = h("tr", {}, titles.map(([t, title]) => h("th", title ? { title } : {}, [t])));
  const rows = SLICES.map((s) => {
    const slice = ab[s];
    const vs = ab.vs_control?.[s];
    const significant = vs?.p_value == null ? null : vs.p_value < ALPHA;
    const cells = [
      h("th", { class: s }, [s]),
      h("td", {}, [value(`impressions.${s}`, slice.impressions, count(slice.impressions))]),
      h("td", {}, [value(`clicks.${s}`, slice.clicks, count(slice.clicks))]),
      h("td", {}, [value(`ctr.${s}`, slice.ctr, pct(slice.ctr))]),
    ];
    if (isControl) {
      cells.push(h("td", { colspan: 3, class: "muted" }, [s === "overall" ? "(control)" : ""]));
    } else {
      cells.push(
        h("td", {}, [value(`diff.${s}`, vs.diff, points(vs.diff))]),
        h("td", {}, [value(`z.${s}`, vs.z, fixed(vs.z, 2))]),
        h("td", { class: significant ? "significant" : "" }, [
          value(`p_value.${s}`, vs.p_value, pValue(vs.p_value)),
          value(`significant.${s}`, significant, significant ? "*" : ""),
        ]),
      );
    }
    return h("tr", {}, cells);
  });
  return h("table", { class: "ctr-table", "aria-label": `click-through of ${name}` }, [
    h("thead", {}, [head]),
    h("tbody", {}, rows),
  ]);
}

function card(name, index, exp, ab, scales, controlCurve) {
  const colour = `bucket-${index % 8}`;
  const gini = fixed(exp.gini, 3);
  const article = h("article", { class: `bucket ${colour}`, "data-bucket": name }, [
    h("header", {}, [h("h2", {}, [name]), value("variant", exp.variant, exp.variant)]),
    h("dl", { class: "kpis" }, [
      kpi("requests", value("requests", exp.requests, count(exp.requests))),
      kpi("impressions", value("impressions", exp.impressions, count(exp.impressions))),
      kpi("tail share", value("tail_share", exp.tail_share, pct(exp.tail_share))),
      kpi(
        "coverage",
        value("coverage", exp.coverage, pct(exp.coverage)),
        h("span", {}, [
          value("distinct_items", exp.distinct_items, count(exp.distinct_items)),
          " / ",
          value("catalogue_size", exp.catalogue_size, count(exp.catalogue_size)),
          " items",
        ]),
      ),
      kpi("Gini", value("gini", exp.gini, gini)),
    ]),
    h("div", { class: "split" }, [
      h("span", { class: "label head" }, ["head ", value("head_impressions", exp.head_impressions, count(exp.head_impressions))]),
      shareBar(exp.head_impressions, exp.tail_impressions),
      h("span", { class: "label tail" }, ["tail ", value("tail_impressions", exp.tail_impressions, count(exp.tail_impressions))]),
    ]),
    h("section", { class: "panel" }, [
      h("h3", {}, ["Tail share of impressions over time (UTC)"]),
      seriesChart(exp.series, scales.time, scales.tailShare),
    ]),
    h("section", { class: "panel" }, [
      h("h3", {}, [`Lorenz curve of item exposure \u00b7 Gini ${gini}`]),
      lorenzChart(exp.lorenz, colour, name === "control" ? null : controlCurve),
    ]),
    h("section", { class: "panel" }, [
      h("h3", {}, ["Click-through, head vs tail", ab.vs_control ? " (tick: control)" : ""]),
      ctrChart(
        SLICES.map((s) => ({ name: s, ctr: ab[s].ctr, control: ab.vs_control ? scales.controlCtr[s] : null })),
        scales.ctr,
      ),
      ctrTable(name, ab),
    ]),
  ]);
  return article;
}

// Axes shared by all cards, so that equal heights mean equal values across buckets.
function sharedScales(exposure, ab) {
  const buckets = Object.values(exposure.buckets);
  const ts = buckets.flatMap((b) => b.series.map((p) => p.t));
  const shares = buckets.flatMap((b) => b.series.map((p) => p.tail_share ?? 0));
  const ctrs = Object.values(ab.buckets).flatMap((b) => SLICES.map((s) => b[s].ctr ?? 0));
  const control = ab.buckets.control;
  return {
    time: ts.length ? [Math.min(...ts), Math.max(...ts)] : [0, 0],
    tailShare: Math.min(1, niceMax(Math.max(0, ...shares) * 1.1)),
    ctr: Math.min(1, niceMax(Math.max(0, ...ctrs) * 1.1)),
    controlCtr: Object.fromEntries(SLICES.map((s) => [s, control?.[s]?.ctr ?? null])),
  };
}

function render(exposure, ab) {
  const scales = sharedScales(exposure, ab);
  const controlCurve = exposure.buckets.control?.lorenz ?? null;
  const shown = Object.entries(exposure.buckets).filter(([name]) => name in ab.buckets);
  const cards = shown.map(([name, exp], i) => card(name, i, exp, ab.buckets[name], scales, controlCurve));
  document.getElementById("buckets").replaceChildren(...cards);
  // The buckets side by side: every tail share on one chart, coloured as the cards' top borders.
  const lines = shown.map(([name, exp], i) => ({ name, colourClass: `bucket-${i % 8}`, points: exp.series }));
  const legend = h("p", { class: "legend" }, lines.flatMap((l) => [
    h("span", { class: `swatch ${l.colourClass}`, "data-bucket": l.name }), l.name,
  ]));
  document.getElementById("compare").replaceChildren(
    h("h3", {}, ["Tail share of impressions over time (UTC), all buckets"]),
    legend,
    compareChart(lines, scales.time, scales.tailShare),
  );
  const meta = document.getElementById("meta");
  meta.replaceChildren(
    `store ${exposure.store} \u00b7 window: ${duration(exposure.to - exposure.from)} up to ${clockSeconds(exposure.to)} UTC`,
    ` \u00b7 ${exposure.granularity_s} s per time bucket \u00b7 refresh every ${refreshS} s \u00b7 ${ab.test}`,
  );
  document.body.dataset.to = String(exposure.to);
}

function setStatus(state, text) {
  const node = document.getElementById("status");
  node.dataset.state = state;
  node.textContent = text;
}

let refreshes = 0;

async function refresh() {
  const q = windowS ? `&window_s=${windowS}` : "";
  try {
    const [exposure, ab] = await Promise.all([
      getJson(`stats/exposure?lorenz_points=${LORENZ_POINTS}${q}`),
      getJson(`stats/ab${q ? `?${q.slice(1)}` : ""}`),
    ]);
    render(exposure, ab);
    refreshes += 1;
    document.body.dataset.refreshes = String(refreshes);
    document.body.dataset.updated = clockSeconds(Date.now() / 1000);
    setStatus("ok", `updated ${document.body.dataset.updated} UTC`);
  } catch (e) {
    // Say what failed (e.g. the exposure store is down), and what the page shows: the last good
    // numbers if there were any, else nothing yet.
    const shown = refreshes > 0
      ? `showing the numbers of ${document.body.dataset.updated} UTC`
      : "no numbers to show yet";
    setStatus("error", `${e.message} \u2014 ${shown}; retrying every ${refreshS} s`);
  } finally {
    setTimeout(refresh, refreshS * 1000);
  }
}

refresh();
