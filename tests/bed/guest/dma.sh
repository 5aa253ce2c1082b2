# Guest: aim the assigned VF's DMA (TX head write-back) first at our own page
# (must work), then at sluice.dma=ADDR, outside guest RAM (must be stopped by
# the host IOMMU); then show the guest is still alive.
addr=$(sed -n 's/.*sluice.dma=\(0x[0-9a-f]*\).*/\1/p' /proc/cmdline)
n=0
while [ $n -lt 100 ] && [ ! -e /sys/class/net/eth0 ]; do usleep 100000; n=$((n + 1)); done
bdf=$(basename "$(readlink /sys/class/net/eth0/device)")
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
n=0
while [ $n -lt 100 ] && [ "$(cat /sys/class/net/eth0/carrier)" != 1 ]; do usleep 100000; n=$((n + 1)); done
ping -i 0.2 10.0.2.2 >/dev/null 2>&1 &
traffic=$!
vf-dma "$bdf" self 10 && echo "@@GUEST dma-self ok" || echo "@@GUEST dma-self failed"
vf-dma "$bdf" "$addr" && echo "@@GUEST dma-aimed $addr"
sleep 5
vf-dma "$bdf" off
kill $traffic
echo "@@GUEST alive after the attempt"
# An MSI message aimed outside the local APIC window (the HPET's address):
# sluice must drop it and log it; the guest keeps running.
vf-dma "$bdf" msix 2 0xfed00000 && echo "@@GUEST msi-poked"
sleep 2
echo "@@GUEST alive after the bad MSI"
