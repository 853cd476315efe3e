// Browser tests of spoor's web UI: Debian's chromium, headless, driven by playwright-core,
// against a spoor-server that run.sh seeded with the demo data and started. Every test opens
// its page(s) in a fresh browser context, asserts what a person would check in the DOM, and
// fails on any console error or uncaught exception (a test that provokes an expected network
// error names exactly which one it allows). Screenshots: $SPOOR_E2E_SHOTS/<page>.png.
//
// Environment (set by run.sh): SPOOR_E2E_BASE (the server), SPOOR_E2E_SHOTS, SPOOR_E2E_CHROMIUM,
// SPOOR_E2E_SERVER_PID (stopped by the last test), SPOOR_E2E_SERVER (the binary, for the
// extra servers), SPOOR_E2E_COUNTER and SPOOR_E2E_STORE (the live-refresh run),
// SPOOR_E2E_UI, SPOOR_E2E_PIDFILE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set: run the tests through tests/e2e/run.sh`);
  return process.env[k];
};
const BASE = env('SPOOR_E2E_BASE');
const SHOTS = env('SPOOR_E2E_SHOTS');
const CHROMIUM = process.env.SPOOR_E2E_CHROMIUM || '/usr/bin/chromium';

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
});
after(async () => {
  await browser?.close();
});

const api = async (path) => {
  const r = await fetch(BASE + path);
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return r.json();
};

// Runs fn(page, t) in a fresh context; fails on console errors and page errors other than
// the ones `allow` matches. opts: allow (RegExps), colorScheme, base.
function uiTest(name, opts, fn) {
  if (typeof opts === 'function') [fn, opts] = [opts, {}];
  test(name, async (t) => {
    const context = await browser.newContext({
      baseURL: opts.base || BASE, viewport: { width: 1440, height: 900 }, colorScheme: opts.colorScheme || 'light',
    });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console error: ${m.text()} [${m.location().url}]`);
    });
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    try {
      await fn(page, t, context);
      const unexpected = errors.filter((e) => !(opts.allow || []).some((re) => re.test(e)));
      assert.deepEqual(unexpected, [], `console errors on ${page.url()}`);
    } finally {
      await context.close();
    }
  });
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

// Marks the document; still marked after a click means the UI navigated without a reload.
const mark = (page) => page.evaluate(() => { window.__spoorE2E = 1; });
const marked = (page) => page.evaluate(() => window.__spoorE2E === 1);

const rowsOf = (page, testid) => page.locator(`[data-testid="${testid}"] tbody tr:not([hidden])`);
const cellTexts = (page, testid, attr) => page.locator(`[data-testid="${testid}"] tbody tr:not([hidden])`)
  .evaluateAll((trs, a) => trs.map((tr) => tr.getAttribute(a)), attr);

async function waitRows(page, testid, n) {
  await page.waitForFunction(([id, count]) =>
    document.querySelectorAll(`[data-testid="${id}"] tbody tr:not([hidden])`).length === count, [testid, n]);
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Extra servers still running, in $SPOOR_E2E_PIDFILE so that run.sh stops them if we cannot.
const extraPids = new Set();
const savePids = () => writeFileSync(env('SPOOR_E2E_PIDFILE'), [...extraPids].map((p) => `${p}\n`).join(''));

// Another spoor-server on an empty root (for "nothing indexed" and the token).
async function extraServer(extraEnv) {
  const root = mkdtempSync(join(tmpdir(), 'spoor-e2e-empty-'));
  const port = await freePort();
  const e = { ...process.env, BURR_SERVER_ROOT: root, SPOOR_HOST: '127.0.0.1', SPOOR_PORT: String(port),
    SPOOR_UI_DIR: env('SPOOR_E2E_UI'), BURR_UPDATE_INTERVAL_MILLISECONDS: '500', ...extraEnv };
  delete e.BURR_S3_BUCKET;
  delete e.SPOOR_ROUTES;
  if (!extraEnv.SPOOR_AUTH_TOKEN) delete e.SPOOR_AUTH_TOKEN;
  const child = spawn(env('SPOOR_E2E_SERVER'), [], { env: e, stdio: 'ignore' });
  extraPids.add(child.pid);
  savePids();
  const base = `http://127.0.0.1:${port}`;
  const headers = extraEnv.SPOOR_AUTH_TOKEN ? { Authorization: `Bearer ${extraEnv.SPOOR_AUTH_TOKEN}` } : {};
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/ready`, { headers })).ok) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
      extraPids.delete(child.pid);
      savePids();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// ---- projects ---------------------------------------------------------------------------------

uiTest('projects page: the demo projects with their application counts, sortable', async (page) => {
  await page.goto('/');
  await waitRows(page, 'projects-table', 2);
  const names = await cellTexts(page, 'projects-table', 'data-project');
  assert.deepEqual([...names].sort(), ['demo_chatbot', 'demo_counter']);
  for (const p of ['demo_chatbot', 'demo_counter']) {
    assert.equal(await page.locator(`tr[data-project="${p}"] td[data-col="apps"]`).textContent(), '5');
  }
  assert.match(await page.locator('.page-head .sub').textContent(), /2 projects · 10 applications/);
  // last written, relative and absolute
  assert.match(await page.locator('tr[data-project="demo_counter"] .when').first().textContent(), /ago|just now/);

  await page.click('button[data-sort="name"]');
  assert.deepEqual(await cellTexts(page, 'projects-table', 'data-project'), ['demo_chatbot', 'demo_counter']);
  assert.match(page.url(), /sort=name&dir=asc/);
  await page.click('button[data-sort="name"]');
  assert.deepEqual(await cellTexts(page, 'projects-table', 'data-project'), ['demo_counter', 'demo_chatbot']);
  // the sort is a deep link
  await page.goto('/projects?sort=name&dir=asc');
  await waitRows(page, 'projects-table', 2);
  assert.deepEqual(await cellTexts(page, 'projects-table', 'data-project'), ['demo_chatbot', 'demo_counter']);
  assert.equal(await page.locator('th[aria-sort="ascending"]').textContent().then((s) => s.startsWith('Project')), true);
  await shot(page, 'projects');
});

// ---- applications -------------------------------------------------------------------------------

uiTest('apps page: ids and step counts; hide-zero-steps and the partition filter change the rows', async (page) => {
  await page.goto('/project/demo_counter');
  await waitRows(page, 'apps-table', 5);
  const steps = await rowsOf(page, 'apps-table').evaluateAll((trs) =>
    Object.fromEntries(trs.map((tr) => [tr.dataset.app, tr.querySelector('[data-col="steps"]').textContent])));
  assert.deepEqual(steps, { 'never-started': '0', 'count-to-999': '1,000', 'count-to-42': '43', 'count-to-10': '11', 'count-to-1': '2' });
  await shot(page, 'apps');

  await page.check('input[name="hide_empty"]');
  await waitRows(page, 'apps-table', 4);
  assert.ok(!(await cellTexts(page, 'apps-table', 'data-app')).includes('never-started'));
  assert.match(await page.getByTestId('hidden-note').textContent(), /1 application without steps hidden/);
  assert.match(page.url(), /hide_empty=1/);
  await page.uncheck('input[name="hide_empty"]');
  await waitRows(page, 'apps-table', 5);

  await page.fill('input[name="partition"]', 'user_0');
  await page.click('[data-testid="partition-filter"] button[type="submit"]');
  await page.waitForURL(/partition=user_0/);
  await waitRows(page, 'apps-table', 3);
  // the server's order (newest written first; the demo's flushes decide which that is)
  const want = (await api('/api/v0/demo_counter/user_0/apps')).applications.map((a) => a.app_id);
  assert.deepEqual([...want].sort(), ['count-to-1', 'count-to-10', 'count-to-42']);
  assert.deepEqual(await cellTexts(page, 'apps-table', 'data-app'), want);
  assert.deepEqual([...new Set(await cellTexts(page, 'apps-table', 'data-partition'))], ['user_0']);
  await shot(page, 'apps-partition');
  await page.click('text=Clear');
  await waitRows(page, 'apps-table', 5);

  // Burr's UI route with the partition in the path lands on the same filter
  await page.goto('/project/demo_counter/user_0');
  await waitRows(page, 'apps-table', 3);
  assert.match(page.url(), /\/project\/demo_counter\?partition=user_0$/);
});

uiTest('apps page: pagination with ?offset=', async (page) => {
  await page.goto('/project/demo_counter?limit=2');
  await waitRows(page, 'apps-table', 2);
  const first = await cellTexts(page, 'apps-table', 'data-app');
  assert.match(await page.getByTestId('pager').textContent(), /Showing 1–2 of 5/);
  await page.click('a[rel="next"]');
  await page.waitForURL(/offset=2/);
  await page.waitForFunction(() => /Showing 3–4 of 5/.test(document.querySelector('[data-testid="pager"]')?.textContent || ''));
  const second = await cellTexts(page, 'apps-table', 'data-app');
  assert.equal(second.length, 2);
  assert.ok(second.every((a) => !first.includes(a)), `page 2 ${second} repeats page 1 ${first}`);
  await page.click('a[rel="next"]');
  await page.waitForURL(/offset=4/);
  await waitRows(page, 'apps-table', 1);
});

uiTest('apps page: a spawned sub-application is listed under its parent, with a link back', async (page) => {
  await page.goto('/project/demo_chatbot');
  await waitRows(page, 'apps-table', 5);
  const ids = await cellTexts(page, 'apps-table', 'data-app');
  assert.deepEqual([...ids].sort(), ['chat-1-giraffe', 'chat-2-geography', 'chat-3-physics', 'chat-3-physics-units', 'chat-6-demonstrate-errors']);
  assert.equal(ids.indexOf('chat-3-physics-units'), ids.indexOf('chat-3-physics') + 1);
  const child = page.locator('tr[data-app="chat-3-physics-units"]');
  assert.equal(await child.getAttribute('class'), 'child-row');
  assert.match(await child.textContent(), /spawned by chat-3-physics @ step 3/);
  const steps = await rowsOf(page, 'apps-table').evaluateAll((trs) =>
    Object.fromEntries(trs.map((tr) => [tr.dataset.app, tr.querySelector('[data-col="steps"]').textContent])));
  assert.deepEqual(steps, { 'chat-6-demonstrate-errors': '8', 'chat-3-physics': '10', 'chat-3-physics-units': '5', 'chat-2-geography': '13', 'chat-1-giraffe': '15' });
});

// ---- navigation -----------------------------------------------------------------------------------

uiTest('navigation: projects -> apps -> app -> spawned child -> parent, without reloads; back works', async (page) => {
  await page.goto('/projects');
  await waitRows(page, 'projects-table', 2);
  await mark(page);
  await page.click('tr[data-project="demo_chatbot"] a');
  await page.waitForURL(/\/project\/demo_chatbot$/);
  await waitRows(page, 'apps-table', 5);
  assert.equal(await page.locator('.nav-link.active').textContent(), 'Applications');
  await page.click('tr[data-app="chat-3-physics"] td:first-child a');
  await page.waitForURL(/\/project\/demo_chatbot\/__none__\/chat-3-physics$/);
  await waitRows(page, 'steps-table', 10);

  await page.click('[data-testid="children"] a:has-text("chat-3-physics-units")');
  await page.waitForURL(/\/chat-3-physics-units$/);
  await waitRows(page, 'steps-table', 5);
  assert.equal(await page.locator('h1.app-title').textContent(), 'chat-3-physics-units');
  assert.match(await page.getByTestId('lineage').textContent(), /Spawned by\s*chat-3-physics\s*at step 3/);

  await page.click('[data-testid="parent-link"]');
  await page.waitForURL(/\/chat-3-physics\?step=3$/);
  await waitRows(page, 'steps-table', 10);
  assert.equal(await page.getByTestId('step-detail').getAttribute('data-seq'), '3');
  assert.equal(await page.locator('tr.selected').getAttribute('data-seq'), '3');
  assert.equal(await marked(page), true, 'the UI reloaded the document');

  await page.goBack();
  await page.waitForURL(/\/chat-3-physics-units$/);
  await page.waitForFunction(() => document.querySelector('h1.app-title')?.textContent === 'chat-3-physics-units');
  await page.click('.crumbs a:has-text("demo_chatbot")');
  await page.waitForURL(/\/project\/demo_chatbot$/);
  await waitRows(page, 'apps-table', 5);
  assert.equal(await marked(page), true);
});

uiTest('fork: a forked application links to the step it forked from, and the parent lists it', async (page) => {
  const base = `fork-base-${Date.now()}`;
  const fork = `${base}-retry`;
  for (const args of [['--app-id', base, '4'], ['--app-id', fork, '--fork-of', `${base}:2`, '3']]) {
    const r = spawnSync(env('SPOOR_E2E_COUNTER'), ['--store', env('SPOOR_E2E_STORE'), '--project', 'e2e_fork', ...args], { stdio: 'ignore' });
    assert.equal(r.status, 0, `spoor-example-counter ${args.join(' ')}`);
  }
  let summary;
  for (let i = 0; i < 200 && !summary?.parent_pointer; i++) {
    const r = await fetch(`${BASE}/api/v0/e2e_fork/__none__/apps`);
    if (r.ok) summary = (await r.json()).applications.find((a) => a.app_id === fork);
    if (!summary?.parent_pointer) await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(summary?.parent_pointer, { type: 'pointer_data', app_id: base, sequence_id: 2, partition_key: null });

  await page.goto('/project/e2e_fork');
  await waitRows(page, 'apps-table', 2);
  assert.match(await page.locator(`tr[data-app="${fork}"]`).textContent(), new RegExp(`forked from ${base} @ step 2`));
  await mark(page);
  await page.click(`tr[data-app="${fork}"] td:first-child a`);
  await page.waitForURL(new RegExp(`/project/e2e_fork/__none__/${fork}$`));
  await waitRows(page, 'steps-table', 4);
  assert.match(await page.getByTestId('lineage').textContent(), new RegExp(`Forked from\\s*${base}\\s*at step 2`));
  await page.click('[data-testid="fork-parent-link"]');
  await page.waitForURL(new RegExp(`/${base}\\?step=2$`));
  await waitRows(page, 'steps-table', 5);
  assert.equal(await page.getByTestId('step-detail').getAttribute('data-seq'), '2');
  const child = page.locator(`[data-testid="children"] a:has-text("${fork}")`);
  assert.equal(await child.getAttribute('title'), 'forked at step 2');
  assert.equal(await marked(page), true, 'the UI reloaded the document');
  await shot(page, 'app-fork');
});

// ---- application view -----------------------------------------------------------------------------

uiTest('app view: the failing step shows failed, with its exception in full; the graph highlights it', async (page) => {
  const appData = await api('/api/v0/demo_chatbot/chat-6-demonstrate-errors/__none__/apps');
  await page.goto('/project/demo_chatbot/__none__/chat-6-demonstrate-errors');
  await waitRows(page, 'steps-table', 8);
  const rows = await rowsOf(page, 'steps-table').evaluateAll((trs) => trs.map((tr) => ({
    seq: tr.dataset.seq, action: tr.querySelector('td.action').textContent, status: tr.querySelector('[data-status]').textContent,
  })));
  assert.deepEqual(rows.map((r) => r.action), appData.steps.map((s) => s.step_start_log.action));
  assert.deepEqual(rows.map((r) => r.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed']);
  // durations, spans and the stream badge
  const row3 = page.locator('tr[data-seq="3"]');
  assert.match(await row3.locator('.dur').textContent(), /\d+(\.\d+)? (µs|ms|s)/);
  assert.equal(await row3.locator('td[data-col="spans"]').textContent(), String(appData.steps[3].spans.length));
  assert.match(await row3.locator('[data-badge="stream"]').textContent(), /stream · \d+/);

  await page.click('tr[data-seq="7"]');
  const exception = appData.steps[7].step_end_log.exception;
  assert.ok(exception.includes('AuthenticationError'));
  assert.equal(await page.getByTestId('exception').textContent(), exception);
  assert.match(await page.locator('.app-head').textContent(), /failed/);

  const nodes = await page.locator('[data-testid="graph"] g.node').evaluateAll((gs) => gs.map((g) => g.dataset.action));
  assert.deepEqual(nodes.sort(), appData.application.actions.map((a) => a.name).sort());
  const current = page.locator('[data-testid="graph"] g.node.current');
  assert.equal(await current.count(), 1);
  assert.equal(await current.getAttribute('data-action'), 'decide_mode');
  assert.match(await current.getAttribute('class'), /failed/);
  await shot(page, 'app-failed');

  // selecting another step moves the highlight
  await page.click('tr[data-seq="4"]');
  assert.equal(await page.locator('[data-testid="graph"] g.node.current').getAttribute('data-action'), 'response');
  assert.match(page.url(), /step=4/);
});

uiTest('app view, dark: the same page in prefers-color-scheme dark', { colorScheme: 'dark' }, async (page) => {
  await page.goto('/project/demo_chatbot/__none__/chat-3-physics?step=3');
  await waitRows(page, 'steps-table', 10);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(17, 17, 22)');
  await shot(page, 'app-dark');
});

uiTest('app view: a step with spans shows the nested waterfall with names, durations, attributes, stream', async (page) => {
  const appData = await api('/api/v0/demo_chatbot/chat-3-physics/__none__/apps');
  await page.goto('/project/demo_chatbot/__none__/chat-3-physics?step=2&tab=spans');
  const wf = page.getByTestId('waterfall');
  await wf.waitFor();
  const step = appData.steps[2];
  const spans = await wf.locator('[data-span]').evaluateAll((rs) => rs.map((r) => ({
    id: r.dataset.span, depth: r.dataset.depth, name: r.querySelector('.nm').textContent, dur: r.querySelector('.wf-dur').textContent,
  })));
  assert.deepEqual(spans.map((s) => s.id).sort(), step.spans.map((s) => s.begin_entry.span_id).sort());
  for (const s of step.spans) {
    const row = spans.find((r) => r.id === s.begin_entry.span_id);
    assert.equal(row.name, s.begin_entry.span_name);
    assert.equal(row.depth, String(s.begin_entry.span_id.split(':')[1].split('.').length - 1), `depth of ${row.id}`);
    assert.match(row.dur, /\d+(\.\d+)? (µs|ms|s)/);
  }
  // a child is listed after its parent
  const order = spans.map((s) => s.id);
  for (const s of step.spans) {
    if (s.begin_entry.parent_span_id) assert.ok(order.indexOf(s.begin_entry.span_id) > order.indexOf(s.begin_entry.parent_span_id));
  }
  const attrKeys = await wf.locator('[data-attr]').evaluateAll((bs) => bs.map((b) => b.dataset.attr));
  assert.deepEqual(attrKeys.sort(), step.attributes.map((a) => a.key).sort());
  assert.equal(await page.locator('.tab[aria-selected="true"]').getAttribute('data-tab'), 'spans');
  // an attribute opens as JSON
  await wf.locator('[data-attr]').first().click();
  await wf.locator('.json').first().waitFor();
  await shot(page, 'app-spans');

  // the streaming step: its stream row with the item count
  await page.click('tr[data-seq="3"]');
  const stream = page.locator('[data-testid="waterfall"] [data-row="stream"]');
  const items = appData.steps[3].streaming_events.find((e) => e.type === 'end_stream').items_streamed;
  assert.match(await stream.textContent(), new RegExp(`${items} items`));
});

uiTest('app view: inputs, result, the state and its diff from the previous step; collapsible JSON', async (page) => {
  await page.goto('/project/demo_chatbot/__none__/chat-3-physics?step=2');
  const diff = page.getByTestId('state-diff');
  await diff.waitFor();
  const changes = await diff.locator('tr').evaluateAll((trs) => trs.map((tr) => [tr.dataset.path, tr.dataset.kind]));
  assert.deepEqual(changes, [['mode', 'added']]);
  assert.match(await diff.textContent(), /"answer_question"/);
  assert.match(await page.getByTestId('step-detail').textContent(), /Result\s*Expand allCollapse allCopy\s*mode: "answer_question"/i);

  // step 4 (response) appended to chat_history: the diff names the new item, not the whole list
  await page.click('tr[data-seq="4"]');
  const paths = await page.getByTestId('state-diff').locator('tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.path));
  assert.ok(paths.includes('chat_history[1]'), `diff paths: ${paths}`);

  await page.click('.tab[data-tab="state"]');
  assert.match(page.url(), /tab=state/);
  const history = page.locator('[data-tab="state"] details[data-path="chat_history"]');
  await history.waitFor();
  assert.equal(await history.evaluate((d) => d.open), true, 'changed branches start open');
  assert.match(await page.locator('[data-tab="state"] details[data-path="chat_history"] > summary').textContent(), /chat_history: \[2 items\]/);
  await page.click('text=Collapse all');
  assert.equal(await history.evaluate((d) => d.open), false);
  await page.click('text=Expand all');
  assert.equal(await history.evaluate((d) => d.open), true);
  assert.ok(await page.locator('[data-tab="state"] [data-path="chat_history[1].content"]').count() === 1);
  await shot(page, 'app-state');

  // a deep link with Burr's "null" partition
  await page.goto('/project/demo_chatbot/null/chat-3-physics?step=3&tab=spans');
  await page.getByTestId('waterfall').waitFor();
  assert.equal(await page.getByTestId('step-detail').getAttribute('data-seq'), '3');
});

uiTest('app view: the 1,000-step app renders all 1,000 rows', async (page, t) => {
  const t0 = Date.now();
  await page.goto('/project/demo_counter/__none__/count-to-999');
  await waitRows(page, 'steps-table', 1000);
  const ms = Date.now() - t0;
  const buildMs = await page.locator('.steps-scroll').getAttribute('data-render-ms');
  const msg = `1,000-step app: 1,000 rows (all rendered, no pagination) shown ${ms} ms after navigation; table built in ${buildMs} ms`;
  t.diagnostic(msg);
  assert.ok(ms < 15000, msg);
  assert.equal(await page.getByTestId('step-count').textContent(), '1,000');
  assert.equal(await page.locator('[data-testid="graph"] g.node.current').getAttribute('data-action'), 'result');
  assert.equal(await page.locator('tr.selected').getAttribute('data-seq'), '999');
  // j/k move the selection; the failed filter leaves nothing
  await page.keyboard.press('k');
  assert.equal(await page.getByTestId('step-detail').getAttribute('data-seq'), '998');
  assert.match(await page.getByTestId('state-diff').textContent(), /counter/);
  await page.selectOption('select[aria-label="Status"]', 'failed');
  await waitRows(page, 'steps-table', 0);
  await page.selectOption('select[aria-label="Status"]', 'all');
  await waitRows(page, 'steps-table', 1000);
  await shot(page, 'app-1000');
});

uiTest('app view: an unknown application is explained', { allow: [/status of 404/] }, async (page) => {
  await page.goto('/project/demo_chatbot/__none__/no-such-app');
  const st = page.getByTestId('unknown-app');
  await st.waitFor();
  assert.match(await st.textContent(), /No application “no-such-app”/);
});

// ---- annotations --------------------------------------------------------------------------------

uiTest('annotations: create one through the form, see it after a reload, edit it', async (page) => {
  const note = `e2e note ${Date.now()}`;
  await page.goto('/project/demo_chatbot/__none__/chat-1-giraffe?step=2&tab=annotations');
  const form = page.getByTestId('annotation-create');
  await form.waitFor();
  await form.locator('textarea[name="note"]').fill(note);
  await form.locator('input[name="tags"]').fill('e2e, checked');
  await form.locator('input[name="rating"][value="true"]').check();
  await form.locator('select[name="span"]').selectOption('2:0');
  await form.locator('button[type="submit"]').click();
  const list = page.getByTestId('step-annotations');
  await list.locator(`text=${note}`).waitFor();

  await page.reload();
  await page.getByTestId('step-annotations').locator(`text=${note}`).waitFor();
  const card = page.getByTestId('step-annotations').locator('article', { hasText: note });
  assert.equal(await card.locator('[data-rating]').getAttribute('data-rating'), 'good');
  assert.match(await card.textContent(), /e2e/);
  assert.match(await card.textContent(), /span 2:0/);
  assert.equal(await page.locator('tr[data-seq="2"] [data-badge="annotations"]').textContent(), '1');

  await page.goto('/annotations/demo_chatbot');
  const all = page.getByTestId('annotations-list');
  await all.locator(`text=${note}`).waitFor();
  const item = all.locator('article', { hasText: note });
  assert.match(await item.textContent(), /chat-1-giraffe · step 2/);
  await item.locator('button:has-text("Edit")').click();
  const edit = page.getByTestId('annotation-edit');
  await edit.locator('textarea[name="note"]').fill(`${note} (edited)`);
  await edit.locator('button[type="submit"]').click();
  await all.locator(`text=${note} (edited)`).waitFor();
  await page.reload();
  await page.getByTestId('annotations-list').locator(`text=${note} (edited)`).waitFor();
  await shot(page, 'annotations');

  // the link goes to the step
  await page.getByTestId('annotations-list').locator('a:has-text("chat-1-giraffe · step 2")').click();
  await page.waitForURL(/chat-1-giraffe\?step=2&tab=annotations/);
  await page.getByTestId('step-annotations').locator(`text=${note} (edited)`).waitFor();
});

// ---- jobs, errors, empty states --------------------------------------------------------------------

uiTest('jobs page: the indexing jobs with project, status and records', async (page) => {
  const jobs = await api('/api/v0/indexing_jobs');
  await page.goto('/jobs');
  await page.getByTestId('jobs-table').waitFor();
  const rows = await rowsOf(page, 'jobs-table').evaluateAll((trs) => trs.map((tr) => ({
    id: tr.dataset.job, text: tr.textContent, records: tr.querySelector('[data-col="records"]').textContent,
  })));
  assert.ok(rows.length >= 2, `${rows.length} jobs`);
  assert.deepEqual(rows.map((r) => r.id).slice(0, jobs.length), jobs.map((j) => String(j.id)).slice(0, rows.length));
  const projectsSeen = new Set(jobs.map((j) => j.metadata.project));
  assert.ok(projectsSeen.has('demo_counter') && projectsSeen.has('demo_chatbot'));
  assert.ok(rows.some((r) => /demo_chatbot/.test(r.text) && /success/.test(r.text)));
  assert.equal(rows[0].records, jobs[0].records_processed.toLocaleString('en-US'));
  await shot(page, 'jobs');
  await page.check('input[name="all"]');
  await page.waitForURL(/\/jobs\?all=1/);
  await page.getByTestId('jobs-table').waitFor();
});

uiTest('errors: an unknown project and an unknown page are explained', async (page) => {
  await page.goto('/project/nope');
  const st = page.getByTestId('unknown-project');
  await st.waitFor();
  assert.match(await st.textContent(), /Unknown project “nope”/);
  assert.match(await st.textContent(), /demo_chatbot/);
  await shot(page, 'unknown-project');
  await page.goto('/annotations/nope');
  await page.getByTestId('unknown-project').waitFor();
  await page.goto('/no/such/page/at/all');
  await page.getByTestId('not-found').waitFor();
});

uiTest('empty server: "nothing indexed yet" is explained', async (page) => {
  const srv = await extraServer({});
  try {
    await page.goto(`${srv.base}/projects`);
    const st = page.getByTestId('nothing-indexed');
    await st.waitFor();
    assert.match(await st.textContent(), /Nothing indexed yet/);
    await shot(page, 'nothing-indexed');
  } finally {
    await srv.stop();
  }
});

uiTest('token: a 401 asks for the token, which is kept and sent', { allow: [/status of 401/] }, async (page) => {
  const srv = await extraServer({ SPOOR_AUTH_TOKEN: 'e2e-secret' });
  try {
    await page.goto(`${srv.base}/projects`);
    const form = page.getByTestId('auth-form');
    await form.waitFor();
    await shot(page, 'token');
    await form.locator('input[name="token"]').fill('e2e-secret');
    await form.locator('button[type="submit"]').click();
    await page.getByTestId('nothing-indexed').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('spoor.token')), 'e2e-secret');
    await page.reload();
    await page.getByTestId('nothing-indexed').waitFor();
  } finally {
    await srv.stop();
  }
});

// ---- live refresh -----------------------------------------------------------------------------

uiTest('live refresh: a running application grows in place (ETag polling), without a reload', async (page, t) => {
  const app = `live-${Date.now()}`;
  const steps = 41; // 40 counter steps of 300 ms, then result: about 12 s, three flushes
  const child = spawn(env('SPOOR_E2E_COUNTER'),
    ['--store', env('SPOOR_E2E_STORE'), '--project', 'e2e_live', '--app-id', app, '--delay-ms', '300', String(steps - 1)],
    { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    // wait until the first batch of steps is indexed (the graph may come first, with none)
    let first = 0;
    for (let i = 0; i < 300 && !first; i++) {
      const r = await fetch(`${BASE}/api/v0/e2e_live/${app}/__none__/apps`);
      if (r.ok) first = (await r.json()).steps.length;
      if (!first) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(first > 0 && first < steps, `first indexed batch has ${first} steps`);
    const polls = []; // the app view's requests: [If-None-Match sent, status]
    page.on('response', (r) => {
      if (r.url().endsWith(`/api/v0/e2e_live/${app}/__none__/apps`)) polls.push([r.request().headers()['if-none-match'] || '', r.status()]);
    });
    await page.goto(`/project/e2e_live/__none__/${app}`);
    await page.getByTestId('steps-table').waitFor();
    await mark(page);
    const shown = Number(await page.getByTestId('step-count').textContent());
    assert.ok(shown < steps, `shown ${shown}`);
    assert.equal(await page.getByTestId('live-state').getAttribute('data-state'), 'polling');
    const t0 = Date.now();
    await page.waitForFunction((n) => document.querySelector('[data-testid="step-count"]')?.textContent === String(n), steps, { timeout: 40000 });
    t.diagnostic(`live refresh: ${shown} -> ${steps} steps in place after ${Date.now() - t0} ms`);
    assert.equal(await marked(page), true, 'the page was reloaded');
    await waitRows(page, 'steps-table', steps);
    assert.equal(await page.locator('tr.selected').getAttribute('data-seq'), String(steps - 1), 'follows the newest step');
    assert.equal(await page.locator('[data-testid="graph"] g.node.current').getAttribute('data-action'), 'result');
    await shot(page, 'app-live');
    assert.ok(polls.some(([etag, status]) => etag && status === 304), `no conditional request answered 304: ${JSON.stringify(polls)}`);
    assert.ok(polls.some(([etag, status]) => etag && status === 200), 'no conditional request saw a change');

    // the toggle stops the polling
    await page.uncheck('[data-testid="live-toggle"]');
    assert.equal(await page.getByTestId('live-state').getAttribute('data-state'), 'off');
    await page.waitForTimeout(1000); // a request already on its way may still answer
    const n = polls.length;
    await page.waitForTimeout(3500);
    assert.equal(polls.length, n, 'polled while live is off');
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
});

// ---- last: the server goes away -----------------------------------------------------------------

uiTest('server unreachable: with the server stopped, the page says so',
  { allow: [/ERR_CONNECTION_REFUSED/] }, async (page) => {
    await page.goto('/projects');
    await page.locator('tr[data-project="demo_counter"]').waitFor();
    const pid = Number(env('SPOOR_E2E_SERVER_PID'));
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.click('.nav-link[data-nav="jobs"]');
    const st = page.getByTestId('server-unreachable');
    await st.waitFor();
    assert.match(await st.textContent(), /Server unreachable/);
    assert.match(await st.textContent(), /Retrying in \d s/);
    await shot(page, 'server-unreachable');
  });
