#!/bin/sh
# EXAMPLE book hook: make sure the booked VM runs (libvirt). Adapt before use, e.g.
#   LOADZONE_HOOK_BOOK="/opt/loadzone/hooks/power-on.sh"
# A failure leaves the booking in place; its owner and the admins get vm_book_hook_failed.
set -eu
state=$(virsh domstate "$LOADZONE_VM_ID")
[ "$state" = "running" ] || virsh start "$LOADZONE_VM_ID"
