// Number formats shared by every panel of the dashboard. The browser test
// (tests/service/test_dashboard_browser.py) reads each shown number back and checks it against
// /stats/exposure and /stats/ab to the precision these formats display: change both together.

export const DASH = "\u2014"; // shown where the API has null (no impressions yet: no rate)

export function count(n) {
  return n == null ? DASH : String(n);
}

export function pct(x, digits = 2) {
  return x == null ? DASH : `${(x * 100).toFixed(digits)}%`;
}

export function fixed(x, digits) {
  return x == null ? DASH : x.toFixed(digits);
}

// A difference of two rates, in percentage points, always signed so the direction is visible.
export function points(diff, digits = 2) {
  if (diff == null) return DASH;
  const v = diff * 100;
  return `${v >= 0 ? "+" : "\u2212"}${Math.abs(v).toFixed(digits)} pp`;
}

export function pValue(p) {
  if (p == null) return DASH;
  return p < 1e-4 ? "<0.0001" : p.toFixed(4);
}

// UTC, so a screenshot reads the same wherever it was taken.
export function clock(unixSeconds) {
  return new Date(unixSeconds * 1000).toISOString().slice(11, 16);
}

export function clockSeconds(unixSeconds) {
  return new Date(unixSeconds * 1000).toISOString().slice(11, 19);
}

export function duration(seconds) {
  const s = Math.round(seconds);
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}
