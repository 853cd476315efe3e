// icons.js: the few icons the UI uses, as inline SVG strokes in currentColor (no icon font and
// no emoji: a machine without emoji fonts would show boxes).
import { s } from '../dom.js';

const PATHS = {
  bolt: ['M13 2 4 14h7l-1 8 9-12h-7l1-8z'],
  lock: ['M6 11h12v10H6z', 'M8.5 11V7.5a3.5 3.5 0 0 1 7 0V11'],
  clock: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z', 'M12 7v5l3.5 2'],
  alert: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z', 'M12 7.5v6', 'M12 16.5v.5'],
  question: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z', 'M9.5 9.5a2.5 2.5 0 1 1 3.4 2.3c-.6.3-.9.8-.9 1.5v.4', 'M12 16.5v.5'],
  inbox: ['M3 13h5l1.5 3h5L16 13h5', 'M5.5 5h13L21 13v6H3v-6z'],
  pencil: ['M4 20h4L19 9l-4-4L4 16z', 'M13.5 6.5l4 4'],
  up: ['M7 10v10H4V10z', 'M7 10l4-7c1.5 0 2.5 1 2.2 2.6L12.6 9H19a2 2 0 0 1 2 2.3l-1.2 6.8a2 2 0 0 1-2 1.9H7'],
  down: ['M7 14V4H4v10z', 'M7 14l4 7c1.5 0 2.5-1 2.2-2.6l-.6-3.4H19a2 2 0 0 0 2-2.3l-1.2-6.8a2 2 0 0 0-2-1.9H7'],
  dots: ['M6 12h.5', 'M12 12h.5', 'M18 12h.5'],
};

export function icon(name, { size = 16, title } = {}) {
  return s('svg', {
    class: `icon icon-${name}`, width: size, height: size, viewBox: '0 0 24 24', fill: 'none',
    stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round',
    'aria-hidden': title ? null : 'true', role: title ? 'img' : null,
  }, title ? s('title', null, title) : null, (PATHS[name] || []).map((d) => s('path', { d })));
}
