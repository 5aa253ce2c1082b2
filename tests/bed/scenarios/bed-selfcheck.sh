# bed-selfcheck: the test bed itself works: DMA and IRQ remapping on, /dev/kvm
# runs a guest, the igb PF can make VFs, a VF binds to vfio-pci, and all of it
# is undone at the end.
# bed: timeout=90
# bed: checks=16

check dmar-enabled dmesg_has 'DMAR: IOMMU enabled'
check irq-remapping-enabled dmesg_has 'Enabled IRQ remapping'
check iommu-groups-exist test -n "$(ls /sys/kernel/iommu_groups)"
check kvm-amd-nested grep -qx '[1Y]' /sys/module/kvm_amd/parameters/nested
check kvm-runs-guest kvm-smoke

pf=$(bed_pf)
check igb-pf-found test -n "$pf"
total=$(cat /sys/bus/pci/devices/$pf/sriov_totalvfs 2>/dev/null)
check sriov-totalvfs-ge-2 test "${total:-0}" -ge 2
ifc=$(bed_pf_netdev "$pf")
ip link set "$ifc" up

echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs
check two-vfs-created test "$(cat /sys/bus/pci/devices/$pf/sriov_numvfs)" = 2
vf=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
vf1=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn1)")
# Two groups, both found (differ: an empty side is not a different group).
check vfs-own-groups differ "$(bed_group "$vf")" "$(bed_group "$vf1")"

before=$(bed_driver "$vf")
echo vfio-pci > /sys/bus/pci/devices/$vf/driver_override
[ -n "$before" ] && echo "$vf" > "/sys/bus/pci/drivers/$before/unbind"
echo "$vf" > /sys/bus/pci/drivers_probe
check vf-bound-vfio-pci test "$(bed_driver "$vf")" = vfio-pci
group=$(bed_group "$vf")
check vfio-group-node test -c "/dev/vfio/$group"

# Undo: unbind, clear the override, destroy the VFs.
echo "$vf" > /sys/bus/pci/drivers/vfio-pci/unbind
echo > /sys/bus/pci/devices/$vf/driver_override
# While the VF still exists: its override is cleared (after it is gone, nothing is left to see).
check undo-no-override-left test "$(cat /sys/bus/pci/devices/$vf/driver_override)" = "(null)"
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
check undo-numvfs-zero test "$(cat /sys/bus/pci/devices/$pf/sriov_numvfs)" = 0
check undo-vf-gone test ! -e "/sys/bus/pci/devices/$vf"
check undo-group-node-gone test ! -e "/dev/vfio/$group"
check undo-no-override-anywhere sh -c '! cat /sys/bus/pci/devices/*/driver_override | grep -qv "^(null)$"'
