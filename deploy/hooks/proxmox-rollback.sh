#!/bin/sh
# EXAMPLE release hook for Proxmox VE: roll the guest back to a snapshot and start it.
# Adapt it to your cluster before use. Runs on a Proxmox node (or through ssh to one), e.g.
#   LOADZONE_HOOK_RELEASE="/opt/loadzone/hooks/proxmox-rollback.sh clean"
# The Proxmox VM id is taken from the VM's label `pve_vmid` (set it with
# PATCH /api/vms/<id> {"labels": {"pve_vmid": "104"}}).
# Exit 0: the VM is free again; anything else puts it into maintenance with the last line
# printed here as its reason.
set -eu
snapshot="${1:-clean}"
vmid=$(printf '%s' "$LOADZONE_VM_LABELS" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("pve_vmid", ""))')
if [ -z "$vmid" ]; then
    echo "VM $LOADZONE_VM_ID has no pve_vmid label"
    exit 2
fi
echo "rolling back $vmid ($LOADZONE_VM_ID) to $snapshot after: $LOADZONE_END_REASON"
qm rollback "$vmid" "$snapshot"
qm start "$vmid"
