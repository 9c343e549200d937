// The shared state of the app: VMs and groups as the API and the socket events describe them.
const vms = new Map();
const groups = new Map();
const events = new EventTarget();

function emit(type, detail) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

export function on(type, listener) {
  events.addEventListener(type, (event) => listener(event.detail));
}

export const getVm = (id) => vms.get(id);
export const allVms = () => vms.values();
export const vmCount = () => vms.size;
export const getGroup = (id) => (id == null ? undefined : groups.get(id));
export const groupName = (id) => getGroup(id)?.name ?? "";

/** Groups sorted by name, as the person reads them. */
export function sortedGroups() {
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Replace everything (first load and after a reconnect). */
export function reset(vmList, groupList) {
  vms.clear();
  for (const vm of vmList) vms.set(vm.id, vm);
  groups.clear();
  for (const group of groupList) groups.set(group.id, group);
  emit("reset");
  emit("groups");
}

export function putVm(vm) {
  const previous = vms.get(vm.id);
  vms.set(vm.id, vm);
  emit("vm", { vm, previous });
}

export function dropVm(id) {
  const previous = vms.get(id);
  if (!previous) return;
  vms.delete(id);
  emit("vm-removed", { id, previous });
}

export function putGroup(group) {
  groups.set(group.id, group);
  emit("groups");
}

export function dropGroup(id) {
  if (groups.delete(id)) emit("groups");
}
