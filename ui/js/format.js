// format.js: times, durations and numbers.
//
// The API's datetimes are ISO strings in two conventions (burr-compat.md 1.5): step and span
// times are naive (the tracked process's local time, no suffix), attribute and stream times
// are UTC with 'Z'. Naive values are read as UTC. Times are kept as microseconds since the
// epoch (a Number holds them exactly until the year 2255) because steps often last a few µs.
import { h } from './dom.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

// ISO string -> µs since the epoch, or null when missing or unreadable.
export function micros(iso) {
  if (typeof iso !== 'string') return null;
  const m = ISO.exec(iso.trim());
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  const frac = m[7] ? Number((m[7] + '000000').slice(0, 6)) : 0;
  let off = 0;
  if (m[8] && m[8].toUpperCase() !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    const d = m[8].slice(1).replace(':', '');
    off = sign * (Number(d.slice(0, 2)) * 60 + Number(d.slice(2, 4))) * 60e3;
  }
  return (ms - off) * 1000 + frac;
}

export function isNaive(iso) {
  const m = typeof iso === 'string' && ISO.exec(iso.trim());
  return Boolean(m) && !m[8];
}

// µs -> "12 µs", "3.4 ms", "1.25 s", "2m 03s", "1h 02m".
export function duration(us) {
  if (us === null || us === undefined || Number.isNaN(us)) return '–';
  if (us < 0) us = 0;
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${trim(us / 1000)} ms`;
  const s = us / 1e6;
  if (s < 60) return `${trim(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function trim(x) {
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : String(Math.round(x));
}

const RTF = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS = [
  ['year', 365 * 86400], ['month', 30 * 86400], ['week', 7 * 86400],
  ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1],
];

// µs -> "3 minutes ago" / "in 2 hours" relative to now.
export function relative(us, nowMs = Date.now()) {
  if (us === null) return '–';
  const diff = (us / 1000 - nowMs) / 1000;
  if (Math.abs(diff) < 5) return 'just now';
  for (const [unit, sec] of UNITS) {
    if (Math.abs(diff) >= sec || unit === 'second') return RTF.format(Math.round(diff / sec), unit);
  }
  return '';
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
const ZONE = new Intl.DateTimeFormat('en', { timeZoneName: 'short' }); // made once: costly to create

// µs -> "2026-11-21 23:59:54 UTC" in the browser's time zone (with its short name).
export function absolute(us, { fraction = false } = {}) {
  if (us === null) return '–';
  const d = new Date(Math.floor(us / 1000));
  const zone = ZONE.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value || '';
  let t = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (fraction) t += '.' + pad(((us % 1e6) + 1e6) % 1e6, 6);
  return zone ? `${t} ${zone}` : t;
}

// A <time> showing "3 minutes ago" over the absolute time; iso is the API's string.
export function when(iso, { stacked = true } = {}) {
  const us = micros(iso);
  if (us === null) return h('span', { class: 'faint' }, iso ? String(iso) : '–');
  const abs = absolute(us) + (isNaive(iso) ? ' (naive, read as UTC)' : '');
  if (!stacked) return h('time', { datetime: iso, title: abs }, relative(us));
  return h('span', { class: 'when' },
    h('time', { datetime: iso, title: abs }, relative(us)),
    h('span', { class: 'abs' }, absolute(us)));
}

const NUM = new Intl.NumberFormat('en-US');
export function count(n) {
  return typeof n === 'number' ? NUM.format(n) : '–';
}

export function plural(n, one, many = one + 's') {
  return `${count(n)} ${n === 1 ? one : many}`;
}

// Compact one-line JSON, cut to max characters.
export function preview(value, max = 80) {
  let t;
  try {
    t = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    t = String(value);
  }
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}
