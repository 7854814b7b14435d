// Runs: the history (per VM) with bytes per run and run durations plotted; a run's detail with its task tree.
import { get } from './api.js';
import { el, table, named, bytes, duration, time } from './dom.js';
import * as names from './names.js';
import * as plot from './plot.js';

const seconds = (r) => (r.finished && r.started ? (Date.parse(r.finished) - Date.parse(r.started)) / 1000 : null);

export async function render(main, jobId) {
  const runs = await get(jobId ? `/api/runs?job=${encodeURIComponent(jobId)}` : '/api/runs');
  await names.load();
  const recent = runs.slice(0, 50).reverse(); // oldest first in the plots
  main.replaceChildren(
    el('h2', {}, jobId ? `Runs of job ${jobId}` : 'Runs'),
    el('div', { class: 'plots' },
      el('figure', { id: 'plot-bytes' }, el('figcaption', {}, 'Bytes per run'),
        plot.bars(recent.map((r) => ({ label: `${r.id.slice(0, 8)} ${time(r.started)}`, value: r.bytes || 0 })),
          { label: 'bytes per run', format: bytes })),
      el('figure', { id: 'plot-durations' }, el('figcaption', {}, 'Run durations'),
        plot.bars(recent.map((r) => ({ label: `${r.id.slice(0, 8)} ${time(r.started)}`, value: seconds(r) || 0 })),
          { label: 'run durations', format: duration }))),
    table([
      { title: 'Run', cell: (r) => el('a', { href: `#/run/${r.id}` }, r.id.slice(0, 8)) },
      { title: 'VM', cell: (r) => named(names.vmName(r.vm), r.vm) },
      { title: 'Status', cell: (r) => el('span', { class: r.status === 'success' ? 'ok' : 'late' }, r.status) },
      { title: 'Kind', cell: (r) => (r.full ? 'full' : 'delta') },
      { title: 'Started', cell: (r) => time(r.started) },
      { title: 'Duration', cell: (r) => duration(seconds(r)) },
      { title: 'Bytes', cell: (r) => bytes(r.bytes) },
      { title: 'Error', cell: (r) => r.error || '' },
    ], runs, (r) => ({ class: r.status === 'success' ? 'run-row' : 'run-row late', dataset: { run: r.id } })));
}

export async function renderRun(main, runId) {
  const run = await get(`/api/runs/${encodeURIComponent(runId)}`);
  await names.load();
  main.replaceChildren(
    el('h2', {}, `Run ${run.runId || run.id}`),
    el('p', {}, run.jobId ? `job ${run.jobId}, ` : '', run.trigger ? `${run.trigger}, ` : '', `started ${time(run.started)}`),
    ...(run.vms || []).map((v) => el('section', { class: 'run-vm' },
      el('h3', {}, 'VM ', named(names.vmName(v.vm), v.vm), ': ', el('span', { class: v.status === 'success' ? 'ok' : 'late' }, v.status),
        v.full === true ? ' (full)' : v.full === false ? ' (delta)' : ''),
      v.error ? el('p', { class: 'error' }, v.error) : null,
      v.tasks ? el('ul', { class: 'tree task-tree' }, node(v.tasks)) : el('p', { class: 'muted' }, 'no task tree yet'))));
}

function node(task) {
  const span = task.start && task.end ? ` ${duration((Date.parse(task.end) - Date.parse(task.start)) / 1000)}` : '';
  return el('li', {},
    el('strong', {}, task.name), ' ', el('span', { class: task.status === 'success' ? 'ok' : 'late' }, task.status),
    el('span', { class: 'muted' }, span, task.size ? `, ${bytes(task.size)}` : ''), task.message ? ` — ${task.message}` : '',
    task.children && task.children.length ? el('ul', { class: 'tree' }, task.children.map(node)) : null);
}
