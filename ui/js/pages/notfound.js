// notfound.js: a UI path that no route takes.
import { h, clear } from '../dom.js';
import { emptyState } from '../components/states.js';

export function notFoundPage(ctx) {
  ctx.setTitle('Not found');
  ctx.setCrumbs([{ label: 'Not found' }]);
  ctx.setNav(null, null);
  clear(ctx.el, emptyState({
    icon: 'question', testid: 'not-found',
    title: 'No such page',
    text: `Nothing in spoor's UI lives at ${location.pathname}. Pages: /projects, /project/<project>, ` +
      '/project/<project>/<partition or __none__>/<app>, /annotations/<project>, /jobs.',
    children: h('a', { class: 'btn', href: '/projects' }, 'Go to the projects'),
  }));
}
