# Guest behind sluice's virtio-iommu (scenario viommu): show that the driver
# probed and the VF sits in an IOMMU group, get a DHCP lease through the VF
# (every DMA through mappings the guest made), then unbind igbvf (its
# mappings go), rebind it and get a lease again. Pauses let L1 sample the
# VMM's locked memory at each phase.
say() { echo "@@GUEST $*"; }
dmesg | grep -i 'virtio.iommu\|iommu group\|VIOT' | head -n 20
dmesg | grep -q 'virtio_iommu virtio[0-9]*: input address' && say viommu-probed
nic() { ls /sys/class/net | grep -v '^lo$' | head -n 1; }
n=0
while [ $n -lt 100 ] && [ -z "$(nic)" ]; do usleep 100000; n=$((n + 1)); done
i=$(nic)
dev=$(basename "$(readlink /sys/class/net/$i/device)")
say nic $i $dev driver=$(basename "$(readlink /sys/class/net/$i/device/driver)")
say group $dev $(basename "$(readlink /sys/bus/pci/devices/$dev/iommu_group)")
say group-type $(cat /sys/bus/pci/devices/$dev/iommu_group/type 2>/dev/null)
# PROBE's reserved regions as Linux took them: the MSI window as "msi".
while read -r start end type; do say resv $start $end $type; done \
	< /sys/bus/pci/devices/$dev/iommu_group/reserved_regions
lease() {
	ip link set "$i" up
	n=0
	while [ $n -lt 100 ] && [ "$(cat /sys/class/net/$i/carrier 2>/dev/null)" != 1 ]; do usleep 100000; n=$((n + 1)); done
	udhcpc -i "$i" -n -q -f -t 10 -T 1 -s /bin/dhcp-hook >/dev/null 2>&1 || say nolease $i
}
lease
say phase mapped
sleep 5
echo "$dev" > /sys/bus/pci/drivers/igbvf/unbind && say unbound $dev
sleep 5
say phase unbound
sleep 5
echo "$dev" > /sys/bus/pci/drivers/igbvf/bind
n=0
while [ $n -lt 100 ] && [ -z "$(nic)" ]; do usleep 100000; n=$((n + 1)); done
i=$(nic)
say rebound $i
lease
# The device aims a DMA write (TX head write-back, tests/tools/vf-dma) at a
# page of guest RAM that no mapping covers: the IOMMU must stop it (a DMAR
# fault in L1 for that IOVA) and the page keep its canary.
ping -i 0.2 10.0.2.2 >/dev/null 2>&1 &
traffic=$!
out=$(vf-dma "$dev" self 5)
echo "$out"
kill $traffic
phys=$(echo "$out" | sed -n 's/.*phys=\(0x[0-9a-f]*\).*/\1/p')
case $out in *untouched*) say dma-outside-mappings $phys untouched ;; *) say dma-outside-mappings $phys written ;; esac
say alive
