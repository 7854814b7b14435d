// The dashboard: hash routes to pages, each a module exporting render(main, ...args); the live runs panel stays on top.
import { el, status } from './dom.js';
import * as live from './live.js';
import * as overview from './overview.js';
import * as jobs from './jobs.js';
import * as runs from './runs.js';
import * as replicas from './replicas.js';
import * as cluster from './cluster.js';
import * as failover from './failover.js';

const pages = { overview, jobs, runs, run: runs, replicas, cluster, failover };

// refresh: the same page drawn again in place (no "Loading…" in between).
async function route(refresh = false) {
  const [name = 'overview', ...args] = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const page = pages[name] || overview;
  const main = document.getElementById('page');
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('current', a.getAttribute('href') === `#/${name === 'run' ? 'runs' : name}`);
  }
  if (!refresh) {
    main.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
    main.dataset.page = name;
    main.dataset.ready = 'false';
  }
  // Drawn aside, then shown only if the operator has not gone elsewhere meanwhile.
  const hash = location.hash;
  const drawn = document.createElement('div');
  try {
    await (name === 'run' ? page.renderRun(drawn, ...args) : page.render(drawn, ...args));
    if (!refresh) status('');
  } catch (e) {
    drawn.replaceChildren(el('p', { class: 'error' }, `could not load: ${e.message}`));
  }
  if (location.hash === hash) {
    main.replaceChildren(...drawn.childNodes);
    main.dataset.ready = 'true';
  }
}

// Read-only pages are drawn again every minute while shown (the live panel has its own stream); pages with buttons or
// forms are not, so nothing moves under the operator's pointer.
const REFRESHED = new Set(['overview', 'runs', 'replicas', 'cluster']);
setInterval(() => {
  const main = document.getElementById('page');
  if (document.visibilityState === 'visible' && REFRESHED.has(main.dataset.page) && main.dataset.ready === 'true') route(true);
}, 60_000);

window.addEventListener('hashchange', () => route());
live.start(document.getElementById('live'));
route();
