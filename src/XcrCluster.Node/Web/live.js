// Live runs from the node's progress stream (/api/events): one box per run, a bar per VM, disk and target SR, and the
// VM's status when its part ends. Shown above every page; the last finished runs stay until the page is reloaded.
import { stream } from './api.js';
import { el, named, bytes, duration } from './dom.js';
import * as names from './names.js';

const runs = new Map(); // runId -> { jobId, vms: Map(vm -> { name, phase, status, disks: Map(key -> sample) }) }
const KEEP_FINISHED = 5;
let container;

export function start(root) {
  container = root;
  names.load();
  stream('/api/events', { progress: onProgress, 'vm-end': onVmEnd });
}

function runOf(runId, jobId) {
  if (!runs.has(runId)) {
    runs.set(runId, { jobId, vms: new Map() });
    names.load(true).then(render); // a job or VM defined since the page was loaded
  }
  return runs.get(runId);
}

function vmOf(run, vm) {
  if (!run.vms.has(vm)) run.vms.set(vm, { phase: 'queued', status: null, name: null, disks: new Map() });
  return run.vms.get(vm);
}

function onProgress(p) {
  const run = runOf(p.runId, p.jobId);
  run.jobId = run.jobId || p.jobId;
  const vm = vmOf(run, p.vm);
  vm.phase = p.phase;
  vm.name = p.vmName || vm.name;
  if (p.disk) {
    vm.disks.set(`${p.disk}|${p.sr}`, p);
  }
  render();
}

function onVmEnd(e) {
  vmOf(runOf(e.runId, null), e.vm).status = e.status;
  render();
}

const finished = (run) => [...run.vms.values()].every((v) => v.status !== null);

function render() {
  const done = [...runs.entries()].filter(([, r]) => finished(r));
  for (const [id] of done.slice(0, Math.max(0, done.length - KEEP_FINISHED))) runs.delete(id);
  container.replaceChildren(...[...runs.entries()].reverse().map(([id, run]) => box(id, run)));
}

function box(id, run) {
  const over = finished(run);
  const failed = [...run.vms.values()].some((v) => v.status && v.status !== 'success');
  return el('div', { class: `run ${over ? (failed ? 'failed' : 'done') : 'going'}`, dataset: { run: id } },
    el('h3', {}, 'Run ', el('a', { href: `#/run/${id}` }, id.slice(0, 8)),
      run.jobId ? ` of job ${names.jobName(run.jobId) || run.jobId.slice(0, 8)}` : '',
      ' — ', el('span', { class: 'run-state' }, over ? (failed ? 'failed' : 'done') : 'running')),
    [...run.vms.entries()].map(([vm, v]) => vmRows(vm, v)));
}

function vmRows(vm, v) {
  const label = named(names.vmName(vm, v.name), vm);
  const state = v.status ? el('span', { class: v.status === 'success' ? 'ok vm-status' : 'late vm-status' }, v.status)
    : el('span', { class: 'vm-status' }, v.phase);
  return el('div', { class: 'vm-progress', dataset: { vm } },
    el('div', {}, 'VM ', label, ': ', state),
    [...v.disks.values()].map((p) => diskRow(p, v.status)));
}

function diskRow(p, status) {
  // Nothing to send (an idle disk's delta: total 0) is shown full, as the terminal shows it.
  const fraction = status === 'success' || p.total === 0 ? 1 : Math.min(1, p.bytes / p.total);
  const fill = el('span');
  fill.style.width = `${(fraction * 100).toFixed(1)}%`; // CSSOM, allowed by the CSP (an inline style attribute is not)
  const disk = p.diskName || p.disk.slice(0, 8);
  const sr = names.srName(p.sr, p.srName) || (p.sr || '').slice(0, 8);
  const rate = p.bytesPerSecond ? `${bytes(p.bytesPerSecond)}/s` : '';
  const eta = p.etaSeconds && !status ? `, ${duration(p.etaSeconds)} left` : '';
  return el('div', { class: 'progress-row' },
    el('span', {}, `${disk} → ${sr}`),
    el('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': String(Math.round(fraction * 100)), 'aria-valuemin': '0',
      'aria-valuemax': '100' }, fill, el('em', {}, `${Math.round(fraction * 100)}%`)),
    el('span', { class: 'muted' }, `${bytes(p.bytes)} / ${bytes(p.total)} ${rate}${eta}`));
}
