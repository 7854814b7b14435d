// Replicas per target SR: each VM's restore points and replica VMs there, the jobs covering them, orphans marked.
import { get } from './api.js';
import { el, table, named } from './dom.js';
import * as names from './names.js';

export async function render(main) {
  const rows = await get('/api/replicas');
  await names.load();
  const bySr = new Map();
  for (const r of rows) {
    if (!bySr.has(r.sr)) bySr.set(r.sr, []);
    bySr.get(r.sr).push(r);
  }
  main.replaceChildren(el('h2', {}, 'Replicas per SR'),
    ...(bySr.size === 0 ? [el('p', { class: 'muted' }, 'no replica yet')] : []),
    ...[...bySr.entries()].map(([sr, list]) => el('section', { class: 'sr', dataset: { sr } },
      el('h3', {}, 'SR ', named(names.srName(sr), sr)),
      table([
        { title: 'VM', cell: (r) => named(names.vmName(r.vm), r.vm) },
        { title: 'Restore points', cell: (r) => String(r.restorePoints.length) },
        { title: 'Replica VMs', cell: (r) => r.replicas.map((id) => named(names.vmName(id), id)) },
        { title: 'Jobs', cell: (r) => (r.orphan ? el('span', { class: 'late' }, 'orphan') : r.jobs.join(', ')) },
      ], list))));
}
