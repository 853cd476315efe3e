// graph.js: the application's state machine (graph.json: actions and transitions) as an SVG,
// with a small layered layout of its own:
//   1. a depth-first walk from the entrypoint marks back edges (loops), leaving a DAG;
//   2. each action goes to the layer of its longest path from a root (top to bottom);
//   3. two barycenter sweeps order the actions of a layer to keep edges short;
//   4. edges between neighbouring layers are curves; longer forward edges run in lanes on the
//      left, back edges in lanes on the right, self loops as a small loop on the node.
// The current step's action is highlighted, and the transition that led to it.
import { s } from '../dom.js';

const NODE_H = 30;
const GAP_Y = 46;
const GAP_X = 22;
const LANE = 14;
const CHAR_W = 7.3; // 12px monospace
const PAD = 12;

function nodeWidth(label) {
  return Math.max(84, Math.round(label.length * CHAR_W + 26));
}

function layout(app) {
  const names = [];
  const seen = new Set();
  const add = (n) => { if (typeof n === 'string' && !seen.has(n)) { seen.add(n); names.push(n); } };
  for (const a of app.actions || []) add(a.name);
  for (const t of app.transitions || []) { add(t.from_); add(t.to); }

  // Transitions between the same two actions are one edge with all their conditions.
  const edgeMap = new Map();
  for (const t of app.transitions || []) {
    const key = `${t.from_}\u0000${t.to}`;
    if (!edgeMap.has(key)) edgeMap.set(key, { from: t.from_, to: t.to, conds: [] });
    if (t.condition && t.condition !== 'default') edgeMap.get(key).conds.push(t.condition);
  }
  const edges = [...edgeMap.values()];
  const out = new Map(names.map((n) => [n, []]));
  for (const e of edges) out.get(e.from).push(e);

  // 1. back edges
  const state = new Map();
  const order = new Map();
  const visit = (u) => {
    state.set(u, 1);
    order.set(u, order.size);
    for (const e of out.get(u)) {
      if (e.to === u) { e.self = true; continue; }
      if (state.get(e.to) === 1) e.back = true;
      else if (!state.has(e.to)) visit(e.to);
    }
    state.set(u, 2);
  };
  if (seen.has(app.entrypoint)) visit(app.entrypoint);
  for (const n of names) if (!state.has(n)) visit(n);

  // 2. longest-path layers over the DAG (Kahn's order)
  const dag = edges.filter((e) => !e.back && !e.self);
  const indeg = new Map(names.map((n) => [n, 0]));
  for (const e of dag) indeg.set(e.to, indeg.get(e.to) + 1);
  const layer = new Map(names.map((n) => [n, 0]));
  const queue = names.filter((n) => indeg.get(n) === 0);
  while (queue.length) {
    const u = queue.shift();
    for (const e of out.get(u)) {
      if (e.back || e.self) continue;
      layer.set(e.to, Math.max(layer.get(e.to), layer.get(u) + 1));
      indeg.set(e.to, indeg.get(e.to) - 1);
      if (indeg.get(e.to) === 0) queue.push(e.to);
    }
  }
  const layers = [];
  for (const n of names) (layers[layer.get(n)] ||= []).push(n);
  for (let i = 0; i < layers.length; i++) layers[i] = (layers[i] || []).sort((a, b) => order.get(a) - order.get(b));

  // 3. barycenter sweeps
  const pos = new Map();
  const index = () => layers.forEach((l) => l.forEach((n, i) => pos.set(n, i)));
  index();
  for (let sweep = 0; sweep < 2; sweep++) {
    for (let i = 1; i < layers.length; i++) {
      const bary = new Map(layers[i].map((n) => {
        const preds = dag.filter((e) => e.to === n && layer.get(e.from) < i).map((e) => pos.get(e.from));
        return [n, preds.length ? preds.reduce((a, b) => a + b, 0) / preds.length : pos.get(n)];
      }));
      layers[i].sort((a, b) => bary.get(a) - bary.get(b));
      index();
    }
  }

  // coordinates
  const widthOf = new Map(names.map((n) => [n, nodeWidth(n)]));
  const rowWidth = (l) => l.reduce((w, n) => w + widthOf.get(n), 0) + GAP_X * Math.max(0, l.length - 1);
  const maxRow = Math.max(0, ...layers.map(rowWidth));
  const box = new Map();
  layers.forEach((l, i) => {
    let x = (maxRow - rowWidth(l)) / 2;
    for (const n of l) {
      box.set(n, { x, y: i * (NODE_H + GAP_Y), w: widthOf.get(n), h: NODE_H });
      x += widthOf.get(n) + GAP_X;
    }
  });
  return { names, edges, layer, box, maxRow, rows: layers.length };
}

function arrow(x, y, dir, cls) {
  const a = 5;
  const pts = {
    down: [[x, y], [x - a, y - a * 1.6], [x + a, y - a * 1.6]],
    right: [[x, y], [x - a * 1.6, y - a], [x - a * 1.6, y + a]],
    left: [[x, y], [x + a * 1.6, y - a], [x + a * 1.6, y + a]],
  }[dir];
  return s('polygon', { class: cls, points: pts.map((p) => p.join(',')).join(' ') });
}

// An orthogonal path through lane x with rounded corners: (x1,y1) -> (lx,y1) -> (lx,y2) -> (x2,y2).
function lanePath(x1, y1, lx, y2, x2) {
  const r = Math.min(8, Math.abs(y2 - y1) / 2);
  const sx = Math.sign(lx - x1) || 1;
  const sy = Math.sign(y2 - y1) || 1;
  const ex = Math.sign(x2 - lx) || 1;
  return `M${x1},${y1} H${lx - sx * r} Q${lx},${y1} ${lx},${y1 + sy * r} ` +
    `V${y2 - sy * r} Q${lx},${y2} ${lx + ex * r},${y2} H${x2}`;
}

// app: graph.json's ApplicationModel. opts: current (action name), status of the current
// step, previous (the action before it), visits (Map action -> steps), onSelect(action).
export function stateGraph(app, { current, status, previous, visits, onSelect } = {}) {
  const L = layout(app);
  const edgesG = s('g', { class: 'edges' });
  const labelsG = s('g', { class: 'labels' });
  let minX = 0;
  let maxX = L.maxRow;
  let leftLanes = 0;
  let rightLanes = 0;
  const labelW = (t) => t.length * 6.1;

  for (const e of L.edges) {
    const a = L.box.get(e.from);
    const b = L.box.get(e.to);
    const taken = e.from === previous && e.to === current;
    const cls = taken ? 'edge taken' : 'edge';
    const acls = taken ? 'arrow taken' : 'arrow';
    const label = e.conds.join(' | ');
    const short = label.length > 28 ? label.slice(0, 27) + '…' : label;
    const title = `${e.from} → ${e.to}${label ? `: ${label}` : ''}`;
    let lx;
    let ly;
    let anchor = 'start';
    if (e.self) {
      const x = a.x + a.w;
      const cy = a.y + a.h / 2;
      edgesG.append(s('path', { class: cls, d: `M${x},${cy - 7} C${x + 30},${cy - 22} ${x + 30},${cy + 22} ${x + 5},${cy + 8}` },
        s('title', null, title)), arrow(x, cy + 7, 'left', acls));
      lx = x + 31;
      ly = cy;
      maxX = Math.max(maxX, x + 32 + (short ? labelW(short) + 4 : 0));
    } else if (!e.back && L.layer.get(e.to) - L.layer.get(e.from) === 1) {
      const x1 = a.x + a.w / 2;
      const y1 = a.y + a.h;
      const x2 = b.x + b.w / 2;
      const y2 = b.y;
      const m = (y2 - y1) / 2;
      edgesG.append(s('path', { class: cls, d: `M${x1},${y1} C${x1},${y1 + m} ${x2},${y2 - m} ${x2},${y2 - 1}` },
        s('title', null, title)), arrow(x2, y2, 'down', acls));
      lx = (x1 + x2) / 2 + 6;
      ly = (y1 + y2) / 2;
      if (short) maxX = Math.max(maxX, lx + labelW(short));
    } else if (!e.back) {
      leftLanes += 1;
      const lane = -16 - (leftLanes - 1) * LANE;
      edgesG.append(s('path', { class: cls, d: lanePath(a.x, a.y + a.h / 2, lane, b.y + b.h / 2, b.x - 1) },
        s('title', null, title)), arrow(b.x, b.y + b.h / 2, 'right', acls));
      lx = lane - 4;
      ly = (a.y + b.y + a.h) / 2;
      anchor = 'end';
      minX = Math.min(minX, lane - 4 - (short ? labelW(short) : 0));
    } else {
      rightLanes += 1;
      const lane = L.maxRow + 16 + (rightLanes - 1) * LANE;
      edgesG.append(s('path', { class: cls, d: lanePath(a.x + a.w, a.y + a.h / 2, lane, b.y + b.h / 2, b.x + b.w + 1) },
        s('title', null, title)), arrow(b.x + b.w, b.y + b.h / 2, 'left', acls));
      lx = lane + 4;
      ly = (a.y + b.y + a.h) / 2;
      maxX = Math.max(maxX, lane + 4 + (short ? labelW(short) : 0));
    }
    if (short) {
      labelsG.append(s('text', { class: 'cond', x: lx, y: ly, 'text-anchor': anchor, 'dominant-baseline': 'central' },
        short, s('title', null, label)));
    }
  }

  const nodesG = s('g', { class: 'nodes' });
  for (const n of L.names) {
    const b = L.box.get(n);
    const isCurrent = n === current;
    const count = visits ? visits.get(n) || 0 : 0;
    const g = s('g', {
      class: ['node', isCurrent && 'current', isCurrent && status, count && 'visited', n === app.entrypoint && 'entry'],
      'data-action': n, 'aria-current': isCurrent ? 'step' : null, tabindex: onSelect ? 0 : null,
      role: onSelect ? 'button' : null,
      onclick: onSelect ? () => onSelect(n) : null,
      onkeydown: onSelect ? (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); onSelect(n); } } : null,
    },
    s('title', null, `${n}${n === app.entrypoint ? ' (entrypoint)' : ''}: ${count} step${count === 1 ? '' : 's'}`),
    s('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: 7 }),
    s('text', { x: b.x + b.w / 2, y: b.y + b.h / 2 }, n));
    if (count) g.append(s('text', { class: 'count', x: b.x + b.w + 4, y: b.y - 3 }, `×${count}`));
    nodesG.append(g);
  }

  const height = L.rows * (NODE_H + GAP_Y) - GAP_Y;
  const vb = [minX - PAD, -PAD - 6, maxX - minX + 2 * PAD + 20, Math.max(height, NODE_H) + 2 * PAD + 6];
  return s('svg', {
    class: 'graph', viewBox: vb.join(' '), width: vb[2], height: vb[3],
    role: 'img', 'aria-label': `State machine: ${L.names.length} actions, ${L.edges.length} transitions`,
    'data-testid': 'graph',
  }, edgesG, labelsG, nodesG);
}
