# tests/bed/l1/vfecho.sh: a guest on a VF as the far end of L1's pings (sourced,
# after lib.sh, by the viommu-dpdk scenario and the bench-viommu benchmark).
# L1 is 10.88.0.1 on the PF's netdev, the guest 10.88.0.2 on the VF sluice
# takes with --net vf:PF; the NIC switches the frames between its functions.
# The guest image is tests/bed/guest/viommu-dpdk.sh: its answerer is DPDK
# testpmd (icmpecho) on the VF bound to vfio-pci, or the kernel's igbvf.

VFE_KERNEL=/bed/vmlinuz
VFE_INITRD=/bed/guest/viommu-dpdk.cpio
VFE_GUEST=10.88.0.2
VFE_GUEST_MAC=02:00:00:88:00:02

# vfe_setup: the PF's link up (igbvf in the guest reports "PF still in reset
# state" otherwise), L1's address on it, debugfs for KVM's counters.
vfe_setup() {
	VFE_PF=$(bed_pf)
	VFE_PFIF=$(bed_pf_netdev "$VFE_PF")
	ip link set "$VFE_PFIF" up
	ip addr add 10.88.0.1/24 dev "$VFE_PFIF"
	grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug
}

# vfe_start OUT ECHO SECS [RUN OPTION...]: boot the guest in the background
# with the answerer ECHO (dpdk or kernel) for SECS seconds, sluice's output in
# OUT, extra `sluice run` options (--viommu) after; the monitor's pid in
# VFE_MON. VFE_CPU, when set, pins sluice (monitor and VMM) to that CPU.
vfe_start() {
	local out=$1 echo=$2 secs=$3
	shift 3
	${VFE_CPU:+taskset -c $VFE_CPU} sluice run --kernel $VFE_KERNEL --initrd $VFE_INITRD \
		--memory 512M "$@" --net "vf:$VFE_PFIF,mac=$VFE_GUEST_MAC" \
		--cmdline "console=ttyS0 panic=-1 hugepages=64 sluice.echo=$echo sluice.ip=$VFE_GUEST/24 sluice.secs=$secs" \
		</dev/null > "$out" 2>&1 &
	VFE_MON=$!
}

# vfe_ready ECHO: the guest's line saying its answerer ECHO runs.
vfe_ready() { [ "$1" = dpdk ] && echo '@@GUEST testpmd-started' || echo '@@GUEST igbvf-up'; }

# vfe_first_reply: the one-second ping tries (ping's own timeout) before the
# guest's first answer; 90 when none came.
vfe_first_reply() {
	local k=0
	while [ $k -lt 90 ] && ! ping -c 1 -W 1 $VFE_GUEST >/dev/null 2>&1; do
		# A guest whose sluice has ended will not answer: no more tries.
		kill -0 "$VFE_MON" 2>/dev/null || { k=90; break; }
		k=$((k + 1))
	done
	echo $k
}
