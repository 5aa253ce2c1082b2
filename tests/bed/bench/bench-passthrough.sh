# bench-passthrough: time to map guest RAM into the IOMMU, per GiB, with 4 KiB
# pages and with 2 MiB hugepages (sluice's iommu_map_ram and iommu_unmap_ram on
# the type1 container of a VF bound to vfio-pci), median of 3 runs. What an
# assigned VF costs per packet (exits, latency) is bench-net's, against the
# same far ends as virtio-net. A run that could not measure prints no number.
# bed: timeout=600

pf=$(bed_pf); ip link set "$(bed_pf_netdev "$pf")" up
echo 1 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
wait_for 10 test -e /sys/bus/pci/devices/$vf/driver

# The VF on vfio-pci for the tool's container.
drv=$(bed_driver $vf)
echo vfio-pci > /sys/bus/pci/devices/$vf/driver_override
[ -n "$drv" ] && echo $vf > /sys/bus/pci/drivers/$drv/unbind
echo $vf > /sys/bus/pci/drivers_probe
mib=512
# Only result lines count: a failed run prints its error on stderr, not a 0 or -1.
for i in 1 2 3; do iommu-map-bench $vf $mib; done | grep '^iommu-map-bench: size_mib=' | tee /tmp/map4k
echo $((mib / 2)) > /proc/sys/vm/nr_hugepages
for i in 1 2 3; do iommu-map-bench $vf $mib huge; done | grep '^iommu-map-bench: size_mib=' | tee /tmp/map2m
echo 0 > /proc/sys/vm/nr_hugepages
per_gib() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$2" | median | awk -v m=$mib '{ printf "%.1f", $1 * 1024 / m }'; }
for pg in 4k 2m; do
	if [ "$(wc -l < /tmp/map$pg)" = 3 ]; then
		pass iommu-map-$pg-ran
		metric iommu_map_${pg}_ms_per_gib "$(per_gib map_ms /tmp/map$pg)" ms
		metric iommu_unmap_${pg}_ms_per_gib "$(per_gib unmap_ms /tmp/map$pg)" ms
	else
		fail iommu-map-$pg-ran "$(wc -l < /tmp/map$pg) of 3 runs measured: no number printed"
	fi
done
echo $vf > /sys/bus/pci/drivers/vfio-pci/unbind
echo > /sys/bus/pci/devices/$vf/driver_override
[ -n "$drv" ] && echo $vf > /sys/bus/pci/drivers/$drv/bind
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
