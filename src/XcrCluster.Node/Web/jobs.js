// Jobs with their schedules and next runs; actions: run now, enable or disable a job (its cron schedules) or one schedule.
import { get, post } from './api.js';
import { el, table, time, status } from './dom.js';

export async function render(main) {
  const jobs = await get('/api/jobs');
  main.replaceChildren(
    el('h2', {}, 'Jobs'),
    table([
      { title: 'Job', cell: (j) => el('span', { class: 'job-name' }, j.name || j.id) },
      { title: 'Source', cell: (j) => j.sourcePool },
      { title: 'VMs', cell: (j) => (j.smart ? 'smart selection' : `${j.vms.length}`) },
      { title: 'Targets', cell: (j) => j.targets.map((t) => `${t.pool}/${t.sr.slice(0, 8)}`).join(', ') },
      { title: 'Schedules', cell: (j) => el('ul', {}, j.schedules.map((s) => schedule(j, s))) },
      { title: 'Actions', cell: (j) => actions(j) },
    ], jobs, (j) => ({ dataset: { job: j.id }, class: 'job-row' })));
}

function schedule(job, s) {
  const what = s.cron ? `${s.cron} (${s.timeZone})` : 'by hand only';
  const next = s.cron && s.enabled && s.next ? `next ${time(s.next)}` : s.cron && !s.enabled ? 'disabled' : '';
  const verb = s.enabled ? 'disable' : 'enable';
  return el('li', { dataset: { schedule: s.id } },
    s.name ? `${s.name}: ` : '', what, ' ', el('span', { class: s.enabled ? 'muted' : 'late' }, next), ' ',
    s.cron ? el('button', { type: 'button', class: `schedule-${verb}`, onclick: () =>
      act(`/api/jobs/${enc(job.id)}/schedules/${enc(s.id)}/${verb}`, `schedule ${s.name || s.id} ${verb}d`) }, verb) : null);
}

function actions(job) {
  return el('div', { class: 'actions' },
    el('button', { type: 'button', class: 'run-now', onclick: () => runNow(job) }, 'Run now'),
    el('button', { type: 'button', class: 'job-enable', onclick: () =>
      act(`/api/jobs/${enc(job.id)}/enable`, `job ${job.name} enabled`) }, 'Enable'),
    el('button', { type: 'button', class: 'job-disable', onclick: () =>
      act(`/api/jobs/${enc(job.id)}/disable`, `job ${job.name} disabled`) }, 'Disable'),
    el('a', { href: `#/runs/${enc(job.id)}` }, 'runs'));
}

async function runNow(job) {
  try {
    const started = await post(`/api/jobs/${enc(job.id)}/run`);
    const refused = started.vms.filter((v) => !v.accepted);
    status(`run ${started.runId} started` + (refused.length ? `; refused: ${refused.map((v) => `${v.vm} (${v.reason})`).join(', ')}` : ''));
  } catch (e) {
    status(`run of ${job.name}: ${e.message}`);
  }
}

async function act(path, done) {
  try {
    await post(path);
    status(done);
    await render(document.getElementById('page')); // the page shown (render drew it aside first)
  } catch (e) {
    status(e.message);
  }
}

const enc = encodeURIComponent;
