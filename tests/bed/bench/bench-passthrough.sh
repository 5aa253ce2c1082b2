# bench-passthrough: (1) time to map guest RAM into the IOMMU, per GiB, with
# 4 KiB pages and with 2 MiB hugepages (sluice's iommu_map_ram, type1);
# (2) KVM exits per packet on an assigned VF: a guest pings L1's gateway N
# times through the VF; the same guest idling as long is the baseline; the
# difference in KVM's exit counters (binary stats) and in exits that reached
# sluice, divided by the packets (N requests + N replies).
# bed: timeout=900
# bed: guest=vf

pf=$(bed_pf); ip link set "$(bed_pf_netdev "$pf")" up
echo 1 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
wait_for 10 test -e /sys/bus/pci/devices/$vf/driver

# (1) IOMMU map time: the VF on vfio-pci for the tool's container.
drv=$(bed_driver $vf)
echo vfio-pci > /sys/bus/pci/devices/$vf/driver_override
[ -n "$drv" ] && echo $vf > /sys/bus/pci/drivers/$drv/unbind
echo $vf > /sys/bus/pci/drivers_probe
mib=512
for i in 1 2 3; do iommu-map-bench $vf $mib; done | tee /tmp/map4k
echo $((mib / 2)) > /proc/sys/vm/nr_hugepages
for i in 1 2 3; do iommu-map-bench $vf $mib huge; done | tee /tmp/map2m
echo 0 > /proc/sys/vm/nr_hugepages
per_gib() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$2" | median | awk -v m=$mib '{ printf "%.1f", $1 * 1024 / m }'; }
[ "$(wc -l < /tmp/map4k)" = 3 ] && pass iommu-map-4k-ran || fail iommu-map-4k-ran
[ "$(wc -l < /tmp/map2m)" = 3 ] && pass iommu-map-2m-ran || fail iommu-map-2m-ran
metric iommu_map_4k_ms_per_gib "$(per_gib map_ms /tmp/map4k)" ms
metric iommu_unmap_4k_ms_per_gib "$(per_gib unmap_ms /tmp/map4k)" ms
metric iommu_map_2m_ms_per_gib "$(per_gib map_ms /tmp/map2m)" ms
metric iommu_unmap_2m_ms_per_gib "$(per_gib unmap_ms /tmp/map2m)" ms
echo $vf > /sys/bus/pci/drivers/vfio-pci/unbind
echo > /sys/bus/pci/devices/$vf/driver_override
[ -n "$drv" ] && echo $vf > /sys/bus/pci/drivers/$drv/bind

# (2) Exits per packet.
n=500
stat() { sed -n "s/.*stats:.* $1=\([0-9]*\).*/\1/p" "$2"; }
# Both guests print the same number of console bytes, so console exits cancel out.
run() { sluice run --kernel /bed/vmlinuz --initrd /bed/guest/vf.cpio --assign $vf --stats \
	--cmdline "console=ttyS0 sluice.test=$1" </dev/null > "$2" 2>&1; }
run ping:$n /tmp/ping
run idle:$(( n / 50 )) /tmp/idle
grep -q "@@GUEST ping:ok" /tmp/ping && pass ping-all-answered || fail ping-all-answered "$(grep '@@GUEST ping' /tmp/ping)"
for k in kvm_exits kvm_io_exits kvm_mmio_exits kvm_irq_injections user_io user_mmio; do
	d=$(( $(stat $k /tmp/ping) - $(stat $k /tmp/idle) ))
	metric "${k}_per_1000_packets" "$(awk -v d=$d -v p=$((2 * n)) 'BEGIN { printf "%.1f", d * 1000 / p }')" ""
done
grep 'stats:' /tmp/ping /tmp/idle
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
