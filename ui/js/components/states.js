// states.js: empty and error states that say what happened and what to do, and the form that
// asks for the API token after a 401.
import { h } from '../dom.js';
import { getToken, setToken } from '../api.js';
import { icon as iconSvg } from './icons.js';

export function emptyState({ icon = 'inbox', title, text, children, error = false, testid }) {
  return h('section', { class: ['state', error && 'error'], 'data-testid': testid, role: error ? 'alert' : null },
    h('div', { class: 'state-icon' }, iconSvg(icon, { size: 26 })),
    h('h2', null, title),
    text ? h('p', null, text) : null,
    children);
}

// Retries fn every periodMs while el stays in the document; shows the countdown in label.
function autoRetry(el, label, periodMs, fn) {
  let left = Math.round(periodMs / 1000);
  const timer = setInterval(() => {
    if (!el.isConnected) return clearInterval(timer);
    left -= 1;
    if (left > 0) label.textContent = `Retrying in ${left} s…`;
    else {
      clearInterval(timer);
      label.textContent = 'Retrying…';
      fn();
    }
  }, 1000);
  label.textContent = `Retrying in ${left} s…`;
}

function tokenForm(retry) {
  const input = h('input', {
    class: 'input mono', type: 'password', name: 'token', autocomplete: 'current-password',
    placeholder: 'token', 'aria-label': 'API token', required: true,
  });
  return h('form', {
    class: 'auth-form', 'data-testid': 'auth-form',
    onsubmit: (e) => {
      e.preventDefault();
      setToken(input.value.trim());
      retry();
    },
  }, input, h('button', { class: 'btn primary', type: 'submit' }, 'Save token'));
}

// err: an ApiError (or anything thrown). retry: renders the page again.
export function errorState(err, { retry } = {}) {
  const retryBtn = retry ? h('button', { class: 'btn', type: 'button', onclick: () => retry() }, 'Retry') : null;
  switch (err && err.kind) {
    case 'unreachable': {
      const label = h('span', { class: 'muted small' });
      const el = emptyState({
        icon: 'bolt', error: true, testid: 'server-unreachable',
        title: 'Server unreachable',
        text: `The browser got no answer from spoor-server at ${location.origin}. ` +
          'Check that it is running (its log says why it stopped) and that this address reaches it.',
        children: h('div', { class: 'row' }, retryBtn, label),
      });
      if (retry) autoRetry(el, label, 5000, retry);
      return el;
    }
    case 'auth': {
      const had = Boolean(getToken());
      return emptyState({
        icon: 'lock', testid: 'auth-required',
        title: had ? 'The token was refused' : 'This server needs an access token',
        text: (had ? 'The saved token is not the one spoor-server expects. ' : '') +
          'spoor-server was started with SPOOR_AUTH_TOKEN. Enter that token: it is kept in this ' +
          "browser's local storage and sent as \"Authorization: Bearer …\" with every API request.",
        children: retry ? tokenForm(retry) : null,
      });
    }
    case 'starting': {
      const label = h('span', { class: 'muted small' });
      const el = emptyState({
        icon: 'clock', testid: 'server-starting',
        title: 'spoor-server is starting',
        text: 'The index is still opening (or a snapshot is being restored). This page loads as soon as it is ready.',
        children: h('div', { class: 'row' }, retryBtn, label),
      });
      if (retry) autoRetry(el, label, 2000, retry);
      return el;
    }
    case 'http':
      return emptyState({
        icon: 'alert', error: true, testid: 'http-error',
        title: err.status === 404 ? 'Not found' : `The server answered ${err.status}`,
        text: err.detail || err.message,
        children: h('div', { class: 'row' }, retryBtn, h('span', { class: 'faint small mono' }, err.path)),
      });
    case 'bad-response':
      return emptyState({
        icon: 'alert', error: true, testid: 'bad-response',
        title: 'Unexpected answer',
        text: `${err.path} did not answer JSON: is something other than spoor-server (a proxy?) answering?`,
        children: [err.detail ? h('pre', null, err.detail) : null, retryBtn],
      });
    default:
      return emptyState({
        icon: 'alert', error: true, testid: 'ui-error',
        title: 'Something went wrong in the UI',
        text: String((err && err.message) || err),
        children: retryBtn,
      });
  }
}
