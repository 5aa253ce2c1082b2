# pt-isolation: a guest drives its assigned VF's DMA itself (TX head
# write-back through BAR0) and aims a DMA write at a canary page in L1's
# memory, outside guest RAM. The IOMMU must stop it: L1 logs a DMAR fault,
# the canary is unchanged, L1 and the guest keep running. A positive control
# first shows the same DMA reaching the guest's own memory. Then the guest
# writes an MSI address outside the local APIC window into the VF's MSI-X
# table: sluice drops it and says so, and the guest runs on.
# bed: timeout=400
# bed: checks=11
# bed: guest=dma

pf=$(bed_pf); ip link set "$(bed_pf_netdev "$pf")" up
echo 1 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
wait_for 10 test -e /sys/bus/pci/devices/$vf/driver

canary_start
echo "canary at $target; guest RAM is [0, 256M)"
dmesg -c > /dev/null

sluice run --kernel /bed/vmlinuz --initrd /bed/guest/dma.cpio --assign $vf \
	--cmdline "console=ttyS0 iomem=relaxed sluice.dma=$target" </dev/null > /tmp/out 2>&1
st=$?
grep -aE "@@GUEST|vf-dma|sluice:" /tmp/out
dmesg | grep -i dmar | tail -n 5
check dma-positive-control grep -q '@@GUEST dma-self ok' /tmp/out
check canary-found test -n "$target"
check dma-aimed-outside grep -q "@@GUEST dma-aimed $target" /tmp/out
check dmar-write-fault-logged sh -c "dmesg | grep 'DMAR' | grep 'DMA Write' | grep -q 'fault addr $target'"
canary_stop; cst=$?
check canary-unchanged test "$cst" = 0
check guest-kept-running grep -q '@@GUEST alive after the attempt' /tmp/out
check bad-msi-written grep -q '@@GUEST msi-poked' /tmp/out
check bad-msi-dropped-and-logged grep -q '0000:01:10.0 entry 2 (APIC vector [0-9]*): MSI address 0xfed00000 is outside the local APIC window; dropped' /tmp/out
check guest-runs-after-bad-msi grep -q '@@GUEST alive after the bad MSI' /tmp/out
check sluice-exit0 test "$st" = 0
check l1-still-runs-guests kvm-smoke
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
