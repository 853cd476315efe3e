// model.js: what the UI derives from the API's shapes (burr-compat.md 2.3, 2.4), and the
// UI's own URLs.
import { micros } from './format.js';

// ---- partition keys ----------------------------------------------------------------------
// In UI URLs "__none__" (what spoor links) and "null" (what Burr's UI links) both mean "no
// partition key"; the API wants "__none__".
export const NONE = '__none__';
export const pkFromUrl = (s) => (s === NONE || s === 'null' || s === '' || s == null ? null : s);
export const pkToApi = (pk) => (pk === null || pk === undefined || pk === '' ? NONE : pk);

// ---- UI URLs ------------------------------------------------------------------------------
const enc = encodeURIComponent;
export const projectsUrl = () => '/projects';
export function appsUrl(project, { partition, offset, limit, hideEmpty } = {}) {
  const q = new URLSearchParams();
  if (partition) q.set('partition', partition);
  if (offset) q.set('offset', String(offset));
  if (limit && limit !== 100) q.set('limit', String(limit));
  if (hideEmpty) q.set('hide_empty', '1');
  const t = q.toString();
  return `/project/${enc(project)}${t ? `?${t}` : ''}`;
}
export function appUrl(project, pk, app, { step, tab } = {}) {
  const q = new URLSearchParams();
  if (step !== undefined && step !== null) q.set('step', String(step));
  if (tab) q.set('tab', tab);
  const t = q.toString();
  return `/project/${enc(project)}/${enc(pkToApi(pk))}/${enc(app)}${t ? `?${t}` : ''}`;
}
export const annotationsUrl = (project, { app } = {}) =>
  `/annotations/${enc(project)}${app ? `?app=${enc(app)}` : ''}`;
export const jobsUrl = () => '/jobs';

// ---- steps ----------------------------------------------------------------------------------
export const seqOf = (step) => step.step_start_log.sequence_id;
export const actionOf = (step) => step.step_start_log.action;

// 'running' (no end entry yet), 'failed' (an exception), else 'succeeded'.
export function stepStatus(step) {
  const end = step.step_end_log;
  if (!end) return 'running';
  return end.exception !== null && end.exception !== undefined ? 'failed' : 'succeeded';
}

export function stepStartUs(step) {
  return micros(step.step_start_log.start_time);
}

export function stepEndUs(step) {
  return step.step_end_log ? micros(step.step_end_log.end_time) : null;
}

// µs from start_time to end_time; null while running.
export function stepDurationUs(step) {
  const a = stepStartUs(step);
  const b = stepEndUs(step);
  return a === null || b === null ? null : Math.max(0, b - a);
}

export function streamSummary(step) {
  const ev = step.streaming_events || [];
  if (!ev.length) return null;
  const begin = ev.find((e) => e.type === 'begin_stream');
  const first = ev.find((e) => e.type === 'first_item_stream');
  const end = ev.find((e) => e.type === 'end_stream');
  return {
    items: end ? end.items_streamed : null,
    done: Boolean(end),
    beginUs: begin ? micros(begin.stream_init_time) : null,
    firstUs: first ? micros(first.first_item_time) : null,
    endUs: end ? micros(end.end_time) : null,
  };
}

// The app's status is its last step's; an app without steps has not started.
export function appStatus(steps) {
  if (!steps.length) return 'empty';
  return stepStatus(steps[steps.length - 1]);
}

// The newest time an app wrote, in µs (step and span ends and starts, stream and attribute
// times), for "did it change recently".
export function lastActivityUs(steps) {
  const last = steps[steps.length - 1];
  if (!last) return null;
  const times = [stepStartUs(last), stepEndUs(last)];
  for (const sp of last.spans || []) {
    times.push(micros(sp.begin_entry?.start_time), micros(sp.end_entry?.end_time));
  }
  return Math.max(...times.filter((t) => t !== null));
}

export const STATUS_LABEL = { running: 'running', failed: 'failed', succeeded: 'succeeded', empty: 'no steps' };
export const STATUS_CLASS = { running: 'run', failed: 'fail', succeeded: 'ok', empty: '' };
