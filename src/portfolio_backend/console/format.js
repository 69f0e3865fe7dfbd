// Pure formatting helpers: no DOM, so Node's test runner can exercise them.

export function formatNumber(value) {
  return new Intl.NumberFormat("en-US").format(value);
}

export function formatUsd(value) {
  const digits = value !== 0 && Math.abs(value) < 1 ? 4 : 2;
  return "$" + value.toFixed(digits);
}

export function formatCompact(value) {
  return new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

export function formatTime(ms) {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function shortDate(isoDay) {
  return isoDay.slice(5); // MM-DD
}
