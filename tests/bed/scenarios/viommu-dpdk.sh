# viommu-dpdk: the data path the virtio-iommu exists for. A guest behind it
# (--viommu --net vf:PF) binds its VF to vfio-pci and runs DPDK testpmd in
# icmpecho mode; L1 pings it from the PF's side, so every frame is moved by
# the VF's DMA into hugepages the guest mapped through VFIO in the guest ->
# virtio-iommu MAP -> VFIO MAP_DMA in L1. KVM's exits during a ping burst are
# reported per packet (testpmd polls: no interrupt and no doorbell exit).
# bed: timeout=540
# bed: checks=11
# bed: guest=viommu-dpdk
# bed: smp=2

. /bed/vfecho.sh
vfe_setup
pf=$VFE_PF
faults0=$(dmesg | grep -c 'DMAR:.*[Ff]ault')
seen() { grep -q "$1" /tmp/out; }
exits() { cat /sys/kernel/debug/kvm/exits 2>/dev/null; }	# all live VMs: here, one

vfe_start /tmp/out dpdk 90 --viommu
mon=$VFE_MON
# Until testpmd runs or the guest has ended (then there is nothing to wait for).
wait_for 240 sh -c "grep -q '$(vfe_ready dpdk)' /tmp/out || ! kill -0 $mon"
check guest-testpmd-started seen "$(vfe_ready dpdk)"
check guest-hugepages grep -Eq '@@GUEST hugepages (6[4-9]|[7-9][0-9]|[1-9][0-9][0-9])' /tmp/out
check guest-vf-on-vfio-pci grep -Eq '@@GUEST driver [0-9a-f:.]+ vfio-pci' /tmp/out
check guest-vfio-group seen '@@GUEST vfio-group'
# testpmd answers ARP for any address (icmpecho): the first reply says it runs
# (a try takes a second: ping's own timeout).
k=$(vfe_first_reply)
metric viommu-dpdk-first-reply-after "$k" tries
check testpmd-answers-ping test "$k" -lt 90
# KVM exits over 4 s idle, then over the 4 s of 20 pings: testpmd polls, so what the
# packets add is the difference (the rest is timer ticks and L1's own interrupts).
e0=$(exits); s0=$(cut -d' ' -f1 /proc/uptime)
sleep 4
e1=$(exits); s1=$(cut -d' ' -f1 /proc/uptime)
got=$(ping -c 20 -i 0.2 -W 2 $VFE_GUEST 2>/dev/null | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
e2=$(exits); s2=$(cut -d' ' -f1 /proc/uptime)
metric viommu-dpdk-ping-replies "${got:-0}" of-20
if [ -n "$e0" ] && [ -n "$e2" ]; then
	idle=$(awk -v e="$((e1 - e0))" -v a="$s0" -v b="$s1" 'BEGIN { printf "%.0f", e / (b - a) }')
	busy=$(awk -v e="$((e2 - e1))" -v a="$s1" -v b="$s2" 'BEGIN { printf "%.0f", e / (b - a) }')
	metric viommu-dpdk-exits-per-s-idle "$idle" exits/s
	metric viommu-dpdk-exits-per-s-pinging "$busy" exits/s
	metric viommu-dpdk-extra-exits-per-ping "$(awk -v i="$idle" -v b="$busy" -v t="$(awk -v a="$s1" -v b="$s2" 'BEGIN { print b - a }')" 'BEGIN { printf "%.1f", (b - i) * t / 20 }')" exits
fi
check ping-20-answered test "${got:-0}" -ge 18
wait $mon; rc=$?
grep -a '@@GUEST\|sluice:\|EAL\|testpmd\|Port\|packets\|vfio\|VFIO' /tmp/out | head -n 60
check run-exit0 test "$rc" = 0
# testpmd's accumulated forward statistics at its stop (the last RX-packets/TX-packets line).
rx=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' /tmp/out | tail -n 1)
tx=$(sed -n 's/.*TX-packets: *\([0-9]*\).*/\1/p' /tmp/out | tail -n 1)
metric viommu-dpdk-testpmd-rx "${rx:-0}" packets
check testpmd-forwarded test "${rx:-0}" -gt 0 -a "${tx:-0}" -gt 0 -a -n "$(grep '@@GUEST testpmd-stopped' /tmp/out)"
check teardown-summary seen 'removed at teardown'
check_eq no-dmar-fault "$(dmesg | grep -c 'DMAR:.*[Ff]ault')" "$faults0"
check_eq vf-count-given-back "$(cat /sys/bus/pci/devices/$pf/sriov_numvfs)" 0
