# driver-vm-hostile: a hostile driver VM. Its image runs the pt-isolation attacks
# from inside, on the VF it owns (tests/bed/driver/hostile.sh): the VF's DMA aimed
# at its own memory (a positive control), then at a canary page in L1's memory;
# then an MSI address outside the local APIC window. The IOMMU stops the DMA
# (a DMAR fault in L1, the canary intact), sluice drops the MSI and says so, and
# L1, the supervisor and a consumer on br0 (served by that same driver VM) run on.
# bed: timeout=900
# bed: smp=2
# bed: checks=13
# bed: guest=consumer
# bed: driver=hostile

. /bed/dvm.sh
ip link add br0 type bridge && ip link set br0 up
h0=$(host)
canary_start
check canary-found test -n "$target"
dmesg -c > /dev/null
# 4>&-: only this shell may hold the canary's FIFO, or closing it would not end the canary.
$SUP --bridge br0 --initrd /bed/driver/hostile.cpio --append "iomem=relaxed sluice.dma=$target" \
	> /tmp/sup.out 2>&1 4>&- &
sup=$!
sluice run --kernel $K --initrd /bed/guest/consumer.cpio --net bridge:br0 > /tmp/consumer.out 2>&1 4>&- &
con=$!
log=/run/sluice/driver-vm/dvm1-br0.console
wait_check attacks-done 600 grep -q '@@DVM attack done' $log
grep '@@DVM' $log
dmesg | grep -i dmar | tail -n 5
check dma-positive-control grep -q '@@DVM attack dma-self ok' $log
check dma-aimed-at-canary grep -q "@@DVM attack dma-aimed $target" $log
check dmar-write-fault-logged sh -c "dmesg | grep 'DMAR' | grep 'DMA Write' | grep -q 'fault addr $target'"
check bad-msi-dropped-and-logged grep -q 'MSI address 0xfed00000 is outside the local APIC window; dropped' /tmp/sup.out
wait_check consumer-served 600 grep -q '@@GUEST watching' /tmp/consumer.out
check consumer-alive kill -0 $con
check supervisor-alive kill -0 $sup
check l1-still-runs-guests kvm-smoke
canary_stop; cst=$?
check canary-unchanged test "$cst" = 0
kill -TERM $con; wait $con
kill -TERM $sup; wait $sup; rc=$?
check_eq sigterm-exit0 "$rc" 0
check_eq host-given-back "$(host)" "$h0"
