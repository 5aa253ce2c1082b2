# tests/bed/l1/netbench.sh: the latency benchmark's host side (issue 11), sourced
# by the bed's bench-net and net-latency (inside L1) and by scripts/bench-net (on
# a real host); busybox sh or bash. Needs lib.sh's bed_mark (the results sink) and vmm_pid.
#
# One guest image (tests/bed/guest/lat.sh), one far end and one tool per
# comparison, over each I/O path: vf (a VF by passthrough, igbvf in the guest),
# virtio (virtio-net, the VMM's userspace backend), vhost (virtio-net on
# vhost-net); under each VMM: sluice and QEMU (-enable-kvm), same kernel, same
# image, same run. Far ends: the host kernel (sockperf server on the PF's
# address for vf, the TAP's for virtio/vhost; the NIC switches VF<->PF frames
# itself) and DPDK testpmd in icmpecho mode (on a second VF for vf, af_packet
# on the TAP for virtio/vhost).
#
# Settings (environment): NB_PF (PF BDF), NB_KERNEL, NB_INITRD, NB_VMMS
# ("sluice qemu"), NB_PATHS ("vf virtio vhost"), NB_FARS ("kernel dpdk"),
# NB_SIZES ("64,1400"), NB_N (samples, 1000), NB_RATE (open loop, per s),
# NB_QEMU_L (QEMU's -L folder), NB_VMM_CPU / NB_DPDK_CPU (taskset CPUs, or
# empty), NB_TIMEOUT (seconds per boot), NB_DPDK_PMDS (folder of the plugins).
# Output: one `data` line per path, far end, size and mode on the results
# channel, one `run` line per boot, one `params` line; scripts/bench-report
# turns them into the table, JSON and plots.

NB_GUEST_MAC_VF=02:00:00:88:00:02	# VF 0, the guest's
NB_DPDK_MAC_VF=02:00:00:88:00:03	# VF 1, testpmd's
NB_GUEST_MAC_TAP=02:00:00:05:00:02
NB_TAP=bench0
NB_UNDO=/tmp/nb.undo	# host changes, one command a line, undone in reverse
NB_WORK=/tmp/nb

nb_cr=$(printf '\r')

# nb_do CMD...: make a host change after recording how to undo it (NB_UNDO_CMD).
nb_do() {
	echo "$NB_UNDO_CMD" >> "$NB_UNDO"
	"$@"
}
nb_teardown() {
	[ -f "$NB_UNDO" ] || return 0
	sed -n '1!G;h;$p' "$NB_UNDO" > "$NB_UNDO.rev"
	while IFS= read -r c; do sh -c "$c" >/dev/null 2>&1; done < "$NB_UNDO.rev"
	rm -f "$NB_UNDO" "$NB_UNDO.rev"
}

nb_driver() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }

# nb_bind_vfio BDF: bind to vfio-pci (for testpmd and QEMU; sluice binds its own).
nb_bind_vfio() {
	local d=/sys/bus/pci/devices/$1 drv
	drv=$(nb_driver "$1")
	[ "$drv" = vfio-pci ] && return 0
	NB_UNDO_CMD="echo $1 > /sys/bus/pci/drivers/vfio-pci/unbind; echo > $d/driver_override; ${drv:+echo $1 > /sys/bus/pci/drivers/$drv/bind}" \
		nb_do echo vfio-pci > "$d/driver_override"
	[ -n "$drv" ] && echo "$1" > "/sys/bus/pci/drivers/$drv/unbind"
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(nb_driver "$1")" = vfio-pci ]
}
nb_unbind_vfio() {
	echo "$1" > /sys/bus/pci/drivers/vfio-pci/unbind
	echo > "/sys/bus/pci/devices/$1/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
}

# nb_setup: addresses, VFs, TAP, hugepages, both far ends. 0, or 1 with a message.
nb_setup() {
	local pf=$NB_PF pfd k
	mkdir -p "$NB_WORK"; : > "$NB_UNDO"
	pfd=$(ls "/sys/bus/pci/devices/$pf/net" 2>/dev/null | head -n1)
	[ -n "$pfd" ] || { echo "netbench: $pf has no network interface"; return 1; }
	NB_PF_DEV=$pfd
	NB_UNDO_CMD="ip link set $pfd down" nb_do ip link set "$pfd" up
	NB_UNDO_CMD="ip addr del 10.88.0.1/24 dev $pfd" nb_do ip addr add 10.88.0.1/24 dev "$pfd"
	k=$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")
	if [ "$k" -lt 2 ]; then
		NB_UNDO_CMD="echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs; echo $k > /sys/bus/pci/devices/$pf/sriov_numvfs" \
			nb_do sh -c "echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs; echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs" ||
			{ echo "netbench: $pf: could not create 2 VFs"; return 1; }
	fi
	NB_VF0=$(basename "$(readlink "/sys/bus/pci/devices/$pf/virtfn0")")
	NB_VF1=$(basename "$(readlink "/sys/bus/pci/devices/$pf/virtfn1")")
	# Known MACs, so both ends can pin their neighbours (no ARP races between
	# the kernel and testpmd, which answers ARP for any address).
	ip-full link set "$pfd" vf 0 mac $NB_GUEST_MAC_VF || return 1
	ip-full link set "$pfd" vf 1 mac $NB_DPDK_MAC_VF || return 1
	NB_PF_MAC=$(cat "/sys/class/net/$pfd/address")
	ip-full neigh replace 10.88.0.2 lladdr $NB_GUEST_MAC_VF dev "$pfd" nud permanent || return 1
	NB_UNDO_CMD="ip-full tuntap del dev $NB_TAP mode tap" nb_do ip-full tuntap add dev $NB_TAP mode tap || return 1
	ip addr add 10.0.5.1/24 dev $NB_TAP
	ip link set $NB_TAP up
	ip-full neigh replace 10.0.5.2 lladdr $NB_GUEST_MAC_TAP dev $NB_TAP nud permanent || return 1
	NB_TAP_MAC=$(cat /sys/class/net/$NB_TAP/address)
	grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug
	nb_far_kernel && nb_far_dpdk
}

nb_far_kernel() {
	sockperf server -i 0.0.0.0 -p 11111 > "$NB_WORK/sockperf-server.log" 2>&1 &
	NB_SOCKPERF=$!
	NB_UNDO_CMD="kill $NB_SOCKPERF" nb_do true
}

nb_far_dpdk() {
	local pmds=${NB_DPDK_PMDS:-/usr/lib/dpdk-pmds} p d=""
	case " $NB_FARS " in *" dpdk "*) ;; *) return 0 ;; esac
	k=$(cat /proc/sys/vm/nr_hugepages)
	NB_UNDO_CMD="echo $k > /proc/sys/vm/nr_hugepages" nb_do sh -c 'echo 128 > /proc/sys/vm/nr_hugepages'
	nb_bind_vfio "$NB_VF1" || { echo "netbench: $NB_VF1: could not bind vfio-pci for testpmd"; return 1; }
	for p in librte_net_e1000 librte_net_af_packet librte_mempool_ring; do d="$d -d $(ls $pmds/$p.so* | head -n1)"; done
	rm -f "$NB_WORK/tp.in"; mkfifo "$NB_WORK/tp.in"
	# testpmd waits for Enter on stdin: a fifo kept open until teardown. Both of
	# its lcores on one CPU (the main one only sleeps), its poller away from the VMM.
	${NB_DPDK_CPU:+taskset -c $NB_DPDK_CPU} dpdk-testpmd --in-memory -n 1 \
		--lcores "0@${NB_DPDK_CPU:-0},1@${NB_DPDK_CPU:-0}" $d -a "$NB_VF1" \
		--vdev "net_af_packet0,iface=$NB_TAP" -- --forward-mode=icmpecho --auto-start \
		--nb-cores=1 --total-num-mbufs=4096 < "$NB_WORK/tp.in" > "$NB_WORK/testpmd.log" 2>&1 &
	NB_TESTPMD=$!
	exec 7> "$NB_WORK/tp.in"
	NB_UNDO_CMD="kill $NB_TESTPMD" nb_do true
	# Ready when it answers: L1 pings it through the PF (the NIC switches PF->VF
	# frames). Not its "Press enter" line: testpmd's stdout to a file is buffered.
	ip-full neigh replace 10.88.0.3 lladdr $NB_DPDK_MAC_VF dev "$NB_PF_DEV" nud permanent
	k=0
	while [ $k -lt 90 ] && ! ping -c 1 -W 1 10.88.0.3 >/dev/null 2>&1; do
		kill -0 $NB_TESTPMD 2>/dev/null || break
		k=$((k + 1))
	done
	ping -c 1 -W 1 10.88.0.3 >/dev/null 2>&1 ||
		{ echo "netbench: testpmd on $NB_VF1 does not answer 10.88.0.3:"; tail -n 15 "$NB_WORK/testpmd.log"; return 1; }
	echo "netbench: testpmd answers on $NB_VF1 after $k s"
}

# nb_sample PID: KVM's counters for the VM of PID (debugfs, all vCPUs summed) and
# the process's CPU ticks (utime, stime, guest time: /proc/PID/stat 14, 15, 43),
# read with shell builtins only so the sample costs no fork at the mark.
nb_sample() {
	local d f v out="" st
	for d in /sys/kernel/debug/kvm/$1-*; do break; done
	for f in exits io_exits mmio_exits halt_exits irq_exits irq_injections; do
		v=""; [ -r "$d/$f" ] && read -r v < "$d/$f"
		out="$out $f=${v:-na}"
	done
	read -r st < "/proc/$1/stat"
	st=${st##*) }
	set -- $st
	read -r v _ < /proc/uptime
	echo "$out utime=${12} stime=${13} gtime=${40} up=$v"
}

# nb_vm_pid PID: the process that holds the VM and its vCPU threads: the jailed
# VMM that sluice's monitor PID spawned (lib.sh's vmm_pid), or PID itself (QEMU).
nb_vm_pid() { vmm_pid "$1" || echo "$1"; }

# nb_watch TAG: the VMM's console, line by line; a guest mark takes a sample.
nb_watch() {
	local l pid=""
	while IFS= read -r l; do
		case $l in *"$nb_cr") l=${l%?} ;; esac
		echo "$l" >> "$NB_WORK/$1.log"
		case $l in
		*"@@GUEST result "*|*"@@GUEST far "*|*"@@GUEST tool "*|*"@@NB "*) echo "netbench: $1: ${l#*@@}" ;;
		esac
		case $l in
		*"@@GUEST mark "*)
			[ -n "$pid" ] || { read -r pid < "$NB_WORK/$1.pid"; pid=$(nb_vm_pid "$pid"); }
			echo "${l#*@@GUEST mark } $(nb_sample "$pid")" >> "$NB_WORK/$1.marks" ;;
		esac
	done
}

# nb_cmdline PATH: the guest's command line (lat.sh's settings).
nb_cmdline() {
	local far="" f c="console=ttyS0 panic=-1 quiet loglevel=1 sluice.n=$NB_N sluice.rate=$NB_RATE sluice.sizes=$NB_SIZES"
	if [ "$1" = vf ]; then
		for f in $NB_FARS; do case $f in kernel) far="$far,kernel@10.88.0.1" ;; dpdk) far="$far,dpdk@10.88.0.3" ;; esac; done
		echo "$c sluice.ip=10.88.0.2/24 sluice.neigh=10.88.0.1@$NB_PF_MAC,10.88.0.3@$NB_DPDK_MAC_VF sluice.far=${far#,}"
	else
		for f in $NB_FARS; do case $f in kernel) far="$far,kernel@10.0.5.1" ;; dpdk) far="$far,dpdk@10.0.5.3" ;; esac; done
		echo "$c sluice.ip=10.0.5.2/24 sluice.neigh=10.0.5.1@$NB_TAP_MAC,10.0.5.3@$NB_TAP_MAC sluice.far=${far#,}"
	fi
}

# nb_vmm_cmd VMM PATH: the command line that boots the guest (printed, one word a line).
nb_vmm_cmd() {
	local v=${2#virtio}
	case $1 in
	sluice)
		printf '%s\n' sluice run --kernel "$NB_KERNEL" --initrd "$NB_INITRD" --memory 256M --stats --cmdline "$(nb_cmdline $2)"
		case $2 in
		vf) printf '%s\n' --assign "$NB_VF0" ;;
		virtio) printf '%s\n' --net "tap:$NB_TAP,mac=$NB_GUEST_MAC_TAP" ;;
		vhost) printf '%s\n' --net "tap:$NB_TAP,mac=$NB_GUEST_MAC_TAP,vhost=on" ;;
		esac ;;
	qemu)
		printf '%s\n' qemu-system-x86_64 -L "$NB_QEMU_L" -M q35 -enable-kvm -cpu host -m 256M -smp 1 \
			-nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot \
			-kernel "$NB_KERNEL" -initrd "$NB_INITRD" -append "$(nb_cmdline $2)"
		case $2 in
		vf) printf '%s\n' -device "vfio-pci,host=$NB_VF0" ;;
		virtio|vhost)
			[ "$2" = vhost ] && v=on || v=off
			printf '%s\n' -netdev "tap,id=n0,ifname=$NB_TAP,script=no,downscript=no,vhost=$v" \
				-device "virtio-net-pci,netdev=n0,mac=$NB_GUEST_MAC_TAP,romfile=" ;;
		esac ;;
	esac
}

# nb_boot VMM PATH: one boot; its console in NB_WORK/VMM-PATH.log, marks in .marks.
nb_boot() {
	local tag=$1-$2 dog
	rm -f "$NB_WORK/$tag".*
	[ "$1$2" = qemuvf ] && { nb_bind_vfio "$NB_VF0" || return 1; }
	{ [ -n "${NB_VMM_CPU:-}" ] && printf '%s\n' taskset -c "$NB_VMM_CPU"; nb_vmm_cmd "$1" "$2"; } > "$NB_WORK/$tag.cmd"
	echo "netbench: $tag: booting"
	(
		IFS='
'
		$(cat "$NB_WORK/$tag.cmd") < /dev/null 2>&1 &
		echo $! > "$NB_WORK/$tag.pid"
		wait $!
		echo "@@NB status $?"
	) | nb_watch "$tag" &
	dog=$!
	# A hung guest ends by the timeout: its console log stays for reading.
	( sleep "${NB_TIMEOUT:-600}"; kill -9 "$(cat "$NB_WORK/$tag.pid")" ) 2>/dev/null &
	wait $dog
	kill $! 2>/dev/null
	[ "$1$2" = qemuvf ] && nb_unbind_vfio "$NB_VF0"
	return 0
}

# nb_emit VMM PATH: the boot's results on the results channel: a `data` line per
# measurement (the guest's result joined with the counters' deltas between its
# marks) and a `run` line (exit status, whether the guest finished, --stats).
nb_emit() {
	local tag=$1-$2 l st done
	touch "$NB_WORK/$tag.marks"
	awk -v vmm=$1 -v path=$2 '
	FILENAME == ARGV[1] {	# the marks: "begin|end far=F size=S mode=M k=v..."
		key = $2 " " $3 " " $4
		for (i = 5; i <= NF; i++) { split($i, kv, "="); m[$1, key, kv[1]] = kv[2]; names[kv[1]] = 1 }
		next
	}
	/@@GUEST result / {
		sub(/.*@@GUEST result /, ""); key = $1 " " $2 " " $3
		out = "data vmm=" vmm " path=" path " " $0
		for (n in names) {
			b = m["begin", key, n]; e = m["end", key, n]
			out = out " d_" n "=" ((b == "" || e == "" || b == "na" || e == "na") ? "na" : e - b)
		}
		print out
	}' "$NB_WORK/$tag.marks" "$NB_WORK/$tag.log" 2>/dev/null > "$NB_WORK/$tag.data"
	while IFS= read -r l; do bed_mark "$l"; done < "$NB_WORK/$tag.data"
	st=$(sed -n 's/^@@NB status //p' "$NB_WORK/$tag.log" | tail -n1)
	grep -q '@@GUEST done' "$NB_WORK/$tag.log" && done=yes || done=no
	bed_mark "run vmm=$1 path=$2 status=${st:-none} guest_done=$done results=$(wc -l < "$NB_WORK/$tag.data")" \
		"$(sed -n 's/.*stats: //p' "$NB_WORK/$tag.log" | tail -n1)"
}

# nb_params: the run's settings, one line.
nb_params() {
	bed_mark "params n=$NB_N rate=$NB_RATE sizes=$NB_SIZES vmms=$(echo $NB_VMMS | tr ' ' ,)" \
		"paths=$(echo $NB_PATHS | tr ' ' ,) fars=$(echo $NB_FARS | tr ' ' ,) pf=$NB_PF vf0=$NB_VF0 vf1=$NB_VF1" \
		"kernel=$(basename "$NB_KERNEL") where=${NB_WHERE:-bed}"
}

# nb_all: every VMM over every path.
nb_all() {
	local v p
	nb_params
	for v in $NB_VMMS; do
		for p in $NB_PATHS; do
			nb_boot "$v" "$p"
			nb_emit "$v" "$p"
		done
	done
}
