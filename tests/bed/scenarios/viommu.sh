# viommu: a guest whose two VFs sit behind sluice's virtio-iommu (--viommu
# --net vf:PF twice), each VF in a VFIO container of its own (the VMM holds
# two, the monitor none). Nothing is pinned up front (the VMM's VmLck is 0
# before the guest runs); the guest's virtio-iommu driver probes from the
# ACPI VIOT and puts each VF in an IOMMU group of its own whose reserved
# regions hold the MSI window as MSI (from PROBE); igbvf gets a DHCP lease on
# both VFs, so every DMA goes through mappings the guest made (VFIO MAP_DMA
# from the jailed VMM); the guest unbinding the first VF's igbvf unmaps
# (VmLck falls), rebinding maps again (a lease again) and L1 logged no DMAR
# fault meanwhile; that VF then aims a DMA write at guest RAM no mapping
# covers: L1 logs a DMAR fault for that IOVA and the page keeps its canary;
# at power-off sluice removes what is left; both VFs go back to igbvf and the
# VF count stays. The refusal of --viommu without a device is a golden file.
# bed: timeout=480
# bed: checks=33
# bed: guest=viommu

K=/bed/vmlinuz
I=/bed/guest/viommu.cpio
pf=$(bed_pf)
pfif=$(bed_pf_netdev "$pf")
ip link set "$pfif" up		# igbvf in the guest needs the PF out of reset
echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf0=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
vf1=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn1)")
wait_for 10 test -e /sys/bus/pci/devices/$vf0/driver -a -e /sys/bus/pci/devices/$vf1/driver
drv0=$(bed_driver $vf0); drv1=$(bed_driver $vf1)
check vf-starts-on-igbvf test "$drv0" = igbvf -a "$drv1" = igbvf
check vfs-in-two-host-groups differ "$(bed_group $vf0)" "$(bed_group $vf1)"
faults0=$(dmesg | grep -c 'DMAR:.*[Ff]ault')

seen() { grep -q "$1" /tmp/out; }
lck() { sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$vmm/status 2>/dev/null; }
sluice run --kernel $K --initrd $I --memory 256M --viommu --net vf:$pfif --net vf:$pfif \
	--cmdline "console=ttyS0 panic=-1 iomem=relaxed" </dev/null > /tmp/out 2>&1 &
mon=$!
wait_check viommu-attached 60 seen 'behind the virtio-iommu at'
check two-vfs-behind-viommu test "$(grep -c 'behind the virtio-iommu at' /tmp/out)" = 2
vmm=$(vmm_pid $mon)
containers() { ls -l /proc/$1/fd 2>/dev/null | grep -c ' /dev/vfio/vfio$'; }
check_eq vmm-holds-two-containers "$(containers $vmm)" 2
check_eq monitor-holds-no-container "$(containers $mon)" 0
lck0=$(lck)
check_eq nothing-pinned-up-front "$lck0" 0
check vmm-jailed-with-seccomp grep -Eq '^Seccomp:[[:space:]]+2$' /proc/$vmm/status
# Jailed, it has no CAP_IPC_LOCK: its own soft limit must cover the RAM the guest may
# map, in each container (type1 pins and counts per container).
memlock() { awk '/^Max locked memory/ { print $4 }' /proc/$vmm/limits; }
check vmm-memlock-covers-ram-twice sh -c "[ '$(memlock)' = unlimited ] || [ '$(memlock)' -ge $((2 * 256 << 20)) ]"
wait_check guest-mapped-phase 240 seen '@@GUEST phase mapped'
lck1=$(lck)
metric viommu-vmlck-mapped "${lck1:-0}" kB
check guest-mappings-pinned test "${lck1:-0}" -gt 0
check not-all-ram-pinned test "${lck1:-0}" -lt $((256 * 1024))
wait_check guest-unbound-phase 60 seen '@@GUEST phase unbound'
lck2=$(lck)
metric viommu-vmlck-unbound "${lck2:-0}" kB
check unbind-unmaps test "${lck2:-0}" -lt "${lck1:-0}"
check_eq no-dmar-fault-while-driving "$(dmesg | grep -c 'DMAR:.*[Ff]ault')" "$faults0"
wait $mon; rc=$?
grep -a '@@GUEST\|sluice:\|virtio_iommu\|iommu' /tmp/out | head -n 40
check run-exit0-not-killed test "$rc" = 0
check guest-viommu-probed seen '@@GUEST viommu-probed'
groups=$(sed -n 's/.*@@GUEST group [0-9a-f:.]* \([0-9]*\).*/\1/p' /tmp/out | tr -d '\r' | sort -u)
check_eq guest-vfs-in-two-groups "$(echo $groups | wc -w)" 2
check_eq guest-groups-translated "$(grep -c '@@GUEST group-type DMA' /tmp/out)" 2
check guest-msi-window-reserved seen '@@GUEST resv 0x00000000fee00000 0x00000000feefffff msi'
check_eq guest-two-igbvf "$(grep -c '@@GUEST nic eth[0-9] .* driver=igbvf' /tmp/out)" 2
leased=$(sed -n 's/.*@@GUEST lease \(eth[0-9]\) 10\.0\.2\..*/\1/p' /tmp/out | tr -d '\r')
check_eq both-vfs-leased "$(echo "$leased" | sort -u | wc -l)" 2
check_eq lease-again-after-rebind "$(echo "$leased" | wc -l)" 3
check guest-rebound seen '@@GUEST rebound eth'
maps=$(sed -n 's/.*the guest made \([0-9]*\) mappings and removed \([0-9]*\) .*/\1 \2/p' /tmp/out | tr -d '\r')
metric viommu-maps "${maps% *}" mappings
metric viommu-unmaps "${maps#* }" mappings
check guest-mapped-and-unmapped test "${maps% *}" -gt 0 -a "${maps#* }" -gt 0
check teardown-summary seen 'removed at teardown'
phys=$(sed -n 's/.*@@GUEST dma-outside-mappings \(0x[0-9a-f]*\).*/\1/p' /tmp/out | tr -d '\r')
dmesg | grep DMAR | tail -n 3
check dma-outside-mappings-stopped seen '@@GUEST dma-outside-mappings 0x[0-9a-f]* untouched'
check dmar-fault-at-that-iova sh -c "dmesg | grep 'DMAR' | grep 'DMA Write' | grep -q 'fault addr ${phys:-none}'"
check guest-alive-after seen '@@GUEST alive'
check_eq vf0-back-on-igbvf "$(bed_driver $vf0)" "$drv0"
check_eq vf1-back-on-igbvf "$(bed_driver $vf1)" "$drv1"
check_eq vf-count-unchanged "$(cat /sys/bus/pci/devices/$pf/sriov_numvfs)" 2
records() { ls /run/sluice/devices 2>/dev/null; ls /run/sluice/sriov 2>/dev/null | grep -v '\.lock$'; }
check_eq no-record-left "$(records | wc -l)" 0
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
