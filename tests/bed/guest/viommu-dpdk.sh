# guest: tools=dpdk
# Guest behind sluice's virtio-iommu (scenario viommu-dpdk): bind the VF to
# vfio-pci (possible only with an IOMMU: the 6.12 kernel has no no-IOMMU
# mode), run DPDK testpmd on it in icmpecho mode for a while (L1 pings it),
# then stop it (it prints its statistics).
say() { echo "@@GUEST $*"; }
n=0
while [ $n -lt 100 ] && ! ls /sys/bus/pci/drivers/igbvf 2>/dev/null | grep -q ':'; do usleep 100000; n=$((n + 1)); done
dev=$(ls /sys/bus/pci/drivers/igbvf | grep ':' | head -n 1)
mkdir -p /dev/hugepages && mount -t hugetlbfs none /dev/hugepages
# The guest sees no interrupt remapping behind a virtio-iommu on x86 (the spec
# has none), so its VFIO refuses the container unless told: MSIs are isolated
# one level down, by sluice's MSI validation and the host's remapping. QEMU's
# virtio-iommu guests need the same.
echo Y > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
say hugepages $(cat /proc/sys/vm/nr_hugepages)
echo "$dev" > /sys/bus/pci/drivers/igbvf/unbind
echo vfio-pci > /sys/bus/pci/devices/$dev/driver_override
echo "$dev" > /sys/bus/pci/drivers_probe
say driver $dev $(basename "$(readlink /sys/bus/pci/devices/$dev/driver)")
grp=$(basename "$(readlink /sys/bus/pci/devices/$dev/iommu_group)")
n=0
while [ $n -lt 50 ] && [ ! -e /dev/vfio/$grp ]; do usleep 100000; n=$((n + 1)); done
[ -e /dev/vfio/$grp ] && say vfio-group $grp
d=""
for p in /usr/lib/dpdk-pmds/*.so; do d="$d -d $p"; done
mkfifo /tmp/tp.in
# Both lcores on the one vCPU (the main one only sleeps); testpmd waits for Enter on
# stdin. Its output goes to the console (a tty: line-buffered), so L1 sees it live.
dpdk-testpmd --in-memory -n 1 --lcores 0@0,1@0 $d -a "$dev" -- --forward-mode=icmpecho \
	--auto-start --nb-cores=1 --total-num-mbufs=2048 < /tmp/tp.in > /dev/console 2>&1 &
tp=$!
exec 3> /tmp/tp.in
say testpmd-started
secs=$(sed -n 's/.*sluice.dpdk_secs=\([0-9]*\).*/\1/p' /proc/cmdline)
sleep "${secs:-60}"
echo >&3
n=0
while [ $n -lt 100 ] && kill -0 $tp 2>/dev/null; do usleep 100000; n=$((n + 1)); done
kill -0 $tp 2>/dev/null && { kill $tp; say testpmd-killed; }
say testpmd-stopped
