#!/bin/sh
# EXAMPLE release hook for libvirt: revert the VM to a clean snapshot and start it again.
# Adapt it to your hosts before use. LoadZone runs it without a shell, e.g.
#   LOADZONE_HOOK_RELEASE="/opt/loadzone/hooks/libvirt-revert.sh clean"
# Environment: LOADZONE_VM_ID, LOADZONE_VM_ADDRESS, LOADZONE_VM_LABELS (JSON),
# LOADZONE_BOOKING_ID, LOADZONE_OWNER, LOADZONE_END_REASON, LOADZONE_HOOK (release|book).
# Exit 0: the VM is free again. Anything else, or LOADZONE_HOOK_TIMEOUT: the VM goes into
# maintenance and the last line printed here becomes its maintenance_reason.
set -eu
snapshot="${1:-clean}"
domain="$LOADZONE_VM_ID"        # assumes the libvirt domain is named like the VM
connect="${LIBVIRT_DEFAULT_URI:-qemu:///system}"

echo "reverting $domain to $snapshot (booking $LOADZONE_BOOKING_ID of $LOADZONE_OWNER)"
virsh -c "$connect" snapshot-revert "$domain" "$snapshot" --running --force
# Wait until the guest answers on SSH again, so the next person gets a working VM.
host="${LOADZONE_VM_ADDRESS%%:*}"
if [ -n "$host" ]; then
    for _ in $(seq 60); do
        nc -z -w 2 "$host" 22 && exit 0
        sleep 2
    done
    echo "$domain did not answer on $host:22 after the revert"
    exit 1
fi
