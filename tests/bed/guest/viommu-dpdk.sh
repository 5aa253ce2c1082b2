# guest: tools=dpdk
# The far end of L1's pings on a VF (tests/bed/l1/vfecho.sh: the viommu-dpdk
# scenario, the bench-viommu benchmark) for sluice.secs= seconds. With
# sluice.echo=dpdk (the default), behind sluice's virtio-iommu: bind the VF to
# vfio-pci (possible only with an IOMMU: the 6.12 kernel has no no-IOMMU
# mode), run DPDK testpmd on it in icmpecho mode, then stop it (it prints its
# statistics). With sluice.echo=kernel: igbvf keeps the VF and the kernel
# answers on sluice.ip= (with or without a virtio-iommu).
say() { echo "@@GUEST $*"; }
cmdline=" $(cat /proc/cmdline) "
arg() { echo "$cmdline" | sed -n "s/.* sluice\.$1=\([^ ]*\) .*/\1/p"; }
secs=$(arg secs)
n=0
while [ $n -lt 100 ] && ! ls /sys/bus/pci/drivers/igbvf 2>/dev/null | grep -q ':'; do usleep 100000; n=$((n + 1)); done
dev=$(ls /sys/bus/pci/drivers/igbvf | grep ':' | head -n 1)
if [ "$(arg echo)" = kernel ]; then
	say driver $dev $(basename "$(readlink /sys/bus/pci/devices/$dev/driver)")
	nic=$(ls /sys/bus/pci/devices/$dev/net | head -n 1)
	ip addr add "$(arg ip)" dev "$nic"
	ip link set "$nic" up
	n=0
	while [ $n -lt 100 ] && [ "$(cat /sys/class/net/$nic/carrier 2>/dev/null)" != 1 ]; do usleep 100000; n=$((n + 1)); done
	say igbvf-up $nic carrier=$(cat /sys/class/net/$nic/carrier 2>/dev/null)
	sleep "${secs:-60}"
	exit 0
fi
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
sleep "${secs:-60}"
echo >&3
n=0
while [ $n -lt 100 ] && kill -0 $tp 2>/dev/null; do usleep 100000; n=$((n + 1)); done
kill -0 $tp 2>/dev/null && { kill $tp; say testpmd-killed; }
say testpmd-stopped
