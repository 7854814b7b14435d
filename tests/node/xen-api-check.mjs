// Drives the real npm xen-api client against a simulated pool and prints one JSON object on stdout:
// node xen-api-check.mjs <url with credentials> <vm name>
import { Xapi } from 'xen-api'

const [url, vmName] = process.argv.slice(2)
const xapi = new Xapi({ url, allowUnauthorized: true, watchEvents: ['task'] })
try {
  await xapi.connect()
  const vms = Object.values(await xapi.getAllRecords('VM'))
  const vm = vms.find(v => v.name_label === vmName && !v.is_a_snapshot && !v.is_a_template)
  const snapshotRef = await xapi.callAsync('VM.snapshot', vm.$ref, 'npm-snapshot')
  const snapshot = await xapi.getRecord('VM', snapshotRef)
  await snapshot.update_other_config({ 'xcr:a': '1', 'xcr:b': '2' })
  await snapshot.update_other_config('xcr:b', null)
  await vm.update_blocked_operations('start', 'blocked by the npm client')
  await vm.update_blocked_operations({ start_on: 'also blocked' })
  const [after, vmAfter] = await Promise.all([xapi.getRecord('VM', snapshotRef), xapi.getRecord('VM', vm.$ref)])
  console.log(JSON.stringify({
    vms: vms.filter(v => !v.is_control_domain && !v.is_a_template).map(v => v.name_label).sort(),
    snapshot: { ref: snapshotRef, isSnapshot: after.is_a_snapshot, snapshotOf: after.snapshot_of, otherConfig: after.other_config },
    blockedOperations: vmAfter.blocked_operations,
  }))
} finally {
  await xapi.disconnect()
}
