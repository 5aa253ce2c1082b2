# Guest behind sluice's virtio-iommu (scenario viommu), with one or more VFs:
# show that the driver probed and each VF sits in an IOMMU group of its own,
# get a DHCP lease through every VF (every DMA through mappings the guest
# made), then unbind the first VF's igbvf (its mappings go), rebind it and
# get a lease again. Pauses let L1 sample the VMM's locked memory at each phase.
say() { echo "@@GUEST $*"; }
dmesg | grep -i 'virtio.iommu\|iommu group\|VIOT' | head -n 20
dmesg | grep -q 'virtio_iommu virtio[0-9]*: input address' && say viommu-probed
# The igb VFs (8086:10ca) the guest has, and a VF's netdev once igbvf made one.
vfs() { for d in /sys/bus/pci/devices/*; do [ "$(cat $d/device)" = 0x10ca ] && basename $d; done; }
netdev() { ls /sys/bus/pci/devices/$1/net 2>/dev/null | head -n 1; }
all_up() { for d in $(vfs); do [ -n "$(netdev $d)" ] || return 1; done; }
n=0
while [ $n -lt 100 ] && ! all_up; do usleep 100000; n=$((n + 1)); done
for d in $(vfs); do
	say nic $(netdev $d) $d driver=$(basename "$(readlink /sys/bus/pci/devices/$d/driver)")
	say group $d $(basename "$(readlink /sys/bus/pci/devices/$d/iommu_group)")
	say group-type $(cat /sys/bus/pci/devices/$d/iommu_group/type 2>/dev/null)
done
dev=$(vfs | head -n 1)
# PROBE's reserved regions as Linux took them: the MSI window as "msi".
while read -r start end type; do say resv $start $end $type; done \
	< /sys/bus/pci/devices/$dev/iommu_group/reserved_regions
lease() {
	ip link set "$1" up
	n=0
	while [ $n -lt 100 ] && [ "$(cat /sys/class/net/$1/carrier 2>/dev/null)" != 1 ]; do usleep 100000; n=$((n + 1)); done
	udhcpc -i "$1" -n -q -f -t 10 -T 1 -s /bin/dhcp-hook >/dev/null 2>&1 || say nolease $1
}
for d in $(vfs); do lease $(netdev $d); done
say phase mapped
sleep 5
echo "$dev" > /sys/bus/pci/drivers/igbvf/unbind && say unbound $dev
sleep 5
say phase unbound
sleep 5
echo "$dev" > /sys/bus/pci/drivers/igbvf/bind
n=0
while [ $n -lt 100 ] && [ -z "$(netdev $dev)" ]; do usleep 100000; n=$((n + 1)); done
i=$(netdev $dev)
say rebound $i
lease $i
# The device aims a DMA write (TX head write-back, tests/tools/vf-dma) at a
# page of guest RAM that no mapping covers: the IOMMU must stop it (a DMAR
# fault in L1 for that IOVA) and the page keep its canary.
ping -I "$i" -i 0.2 10.0.2.2 >/dev/null 2>&1 &	# its own TX: both VFs share a subnet
traffic=$!
out=$(vf-dma "$dev" self 5)
echo "$out"
kill $traffic
phys=$(echo "$out" | sed -n 's/.*phys=\(0x[0-9a-f]*\).*/\1/p')
case $out in *untouched*) say dma-outside-mappings $phys untouched ;; *) say dma-outside-mappings $phys written ;; esac
say alive
