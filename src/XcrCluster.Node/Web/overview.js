// Overview: every protected VM with its last restore point and lag against its RPO (late ones first, in red), the
// lag of each over the last day, and the pools with their SRs.
import { get } from './api.js';
import { el, table, named, bytes, duration, time } from './dom.js';
import * as names from './names.js';
import * as plot from './plot.js';

// /api/rpo rows: jobId, job, vm, vmName?, lagSeconds, violation, targetSeconds (null: no target) or, from nodes before RPO
// targets, periodSeconds (late past twice the period), newestPoint? (else lastSuccess). Late first, then the longest lag.
export function rpoRows(rows) {
  return rows.map((r) => ({
    ...r,
    target: 'targetSeconds' in r ? r.targetSeconds : r.periodSeconds ? 2 * r.periodSeconds : null,
    newest: r.newestPoint ?? r.lastSuccess ?? null,
  })).sort((a, b) => (b.violation - a.violation) || ((b.lagSeconds ?? Infinity) - (a.lagSeconds ?? Infinity)));
}

export async function render(main) {
  const [rpo, pools, srs] = await Promise.all([get('/api/rpo'), get('/api/pools'), get('/api/srs').catch(() => [])]);
  await names.load();
  const rows = rpoRows(rpo);
  const late = rows.filter((r) => r.violation).length;
  main.replaceChildren(
    el('h2', {}, 'Protected VMs ', el('span', { class: late ? 'late' : 'ok', id: 'late-count' },
      late ? `(${late} late)` : '(all within their RPO)')),
    table([
      { title: 'VM', cell: (r) => named(names.vmName(r.vm, r.vmName), r.vm) },
      { title: 'Job', cell: (r) => el('a', { href: '#/jobs' }, r.job || r.jobId) },
      { title: 'Newest restore point', cell: (r) => time(r.newest) },
      { title: 'Lag', cell: (r) => duration(r.lagSeconds) },
      { title: 'RPO', cell: (r) => duration(r.target) },
      { title: 'State', cell: (r) => el('span', { class: r.violation ? 'late' : 'ok' }, r.violation ? 'LATE' : 'ok') },
    ], rows, (r) => ({ class: r.violation ? 'late rpo-row' : 'rpo-row', dataset: { vm: r.vm } })),
    el('h2', {}, 'Lag over the last day'),
    lagPlots(rows),
    el('h2', {}, 'Pools and their SRs'),
    table([
      { title: 'Pool', cell: (p) => p.name },
      { title: 'URL', cell: (p) => p.url },
      { title: 'SRs', cell: (p) => el('ul', {}, srs.filter((s) => s.pool === p.name).map((s) =>
        el('li', {}, `${s.name} (${s.type}${s.shared ? ', shared' : ''}) — ${bytes(s.free)} free of ${bytes(s.size)}`))) },
    ], pools));
}

function lagPlots(rows) {
  const box = el('div', { class: 'plots', id: 'lag-plots' });
  const seen = new Set();
  for (const r of rows.filter((row) => !seen.has(row.vm) && seen.add(row.vm))) {
    const figure = el('figure', {}, el('figcaption', {}, 'VM ', named(names.vmName(r.vm, r.vmName), r.vm)));
    box.append(figure);
    get(`/api/vms/${encodeURIComponent(r.vm)}/lag?hours=24`)
      .then((lag) => figure.append(plot.line(lag.points.map((p) => ({ at: p.at, value: p.lagSeconds })),
        { label: `lag of VM ${r.vm}`, target: r.target, format: duration })))
      .catch((e) => figure.append(el('p', { class: 'muted' }, e.message)));
  }
  return box;
}
