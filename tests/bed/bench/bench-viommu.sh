# bench-viommu: what the guest IOMMU buys on the VF path (issue 14's last item).
# The guest is the far end, L1 the client: tests/tools/echoclock pings the
# guest's VF from the PF's address (the NIC switches the frames), closed loop,
# 64 B, BV_N samples after BV_W warm-up requests, with the same image, command
# line and VF each time (tests/bed/l1/vfecho.sh, as the viommu-dpdk scenario):
#   plain        the kernel's igbvf answers, VF assigned plainly (no --viommu)
#   viommu       the kernel's igbvf answers, VF behind --viommu
#   viommu-dpdk  DPDK testpmd (icmpecho) on the VF on vfio-pci, behind --viommu
# Per path: echoclock's percentiles; KVM's exits per request from debugfs
# (/sys/kernel/debug/kvm/PID-FD of the jailed VMM, netbench.sh's nb_sample)
# across the run, and the same counters over BV_IDLE s idle before it, so what
# the packets add shows apart from timer ticks; the VMM's CPU (utime+stime,
# vCPU threads included) per request. Counters and CPU cover the warm-up too:
# per request means per request sent. sluice is pinned to L1's CPU 0, echoclock
# to CPU 1; each guest ends by SIGTERM to sluice once measured. No pass/fail
# on speed: the checks say each path ran as named and gave the host back.
# Nested TCG: the times are emulation-bound; the exits per request are the point.
# bed: timeout=1500
# bed: checks=9
# bed: guest=viommu-dpdk
# bed: smp=2
# bed: host=sed -n s/^@@SLUICE.table.//p

. /bed/netbench.sh
. /bed/vfecho.sh
N=${BV_N:-1000} W=${BV_W:-100} IDLE=${BV_IDLE:-5}
VFE_CPU=0
vfe_setup

# bv_numbers TAG ECHOCLOCK_LINE IDLE_BEGIN RUN_BEGIN RUN_END: metric and table
# lines (nb_sample's key=value samples; "na" where a counter was not readable).
bv_numbers() {
	awk -v tag="$1" -v ec="$2" -v a="$3" -v b="$4" -v c="$5" -v req=$((N + W)) '
	function get(s, k,   t, kv, i, n) {
		n = split(s, t, " ")
		for (i = 1; i <= n; i++) { split(t[i], kv, "="); if (kv[1] == k) return kv[2] }
		return "na"
	}
	function d(x, y, k) { return (get(x, k) == "na" || get(y, k) == "na") ? "na" : get(y, k) - get(x, k) }
	function per(v, q, f) { return v == "na" ? "na" : sprintf(f, v / q) }
	BEGIN {
		idle_s = d(a, b, "up"); run_s = d(b, c, "up")
		ex = d(b, c, "exits"); ie = d(a, b, "exits")
		io = d(b, c, "io_exits"); mm = d(b, c, "mmio_exits")
		pm = (io == "na" || mm == "na") ? "na" : io + mm
		cpu = (d(b, c, "utime") == "na") ? "na" : (d(b, c, "utime") + d(b, c, "stime")) * 10000
		icpu = (d(a, b, "utime") == "na") ? "na" : d(a, b, "utime") + d(a, b, "stime")
		extra = (ex == "na" || ie == "na" || idle_s <= 0) ? "na" : ex - ie / idle_s * run_s
		split("p50 p90 p99 p99.9 max", ps, " ")
		row = tag
		for (i = 1; i <= 5; i++) {
			v = get(ec, ps[i])
			print "metric", tag "-" ps[i], v, "us"
			row = row " | " (v == "na" ? "na" : sprintf("%.2f", v / 1000))
		}
		print "metric", tag "-exits-per-request", per(ex, req, "%.2f"), "exits"
		print "metric", tag "-extra-exits-per-request", per(extra, req, "%.2f"), "exits"
		print "metric", tag "-pio-mmio-exits-per-request", per(pm, req, "%.3f"), "exits"
		print "metric", tag "-halt-exits-per-request", per(d(b, c, "halt_exits"), req, "%.2f"), "exits"
		print "metric", tag "-irq-injections-per-request", per(d(b, c, "irq_injections"), req, "%.2f"), "irqs"
		print "metric", tag "-idle-exits-per-s", per(ie, idle_s, "%.0f"), "exits/s"
		print "metric", tag "-vmm-cpu-per-request", per(cpu, req, "%.0f"), "us"
		print "metric", tag "-vmm-cpu-idle", per(icpu, idle_s, "%.0f"), "%"
		print "metric", tag "-rps", get(ec, "rps"), "req/s"
		print "table | " row " | " get(ec, "rps") " | " per(ex, req, "%.2f") " | " per(extra, req, "%.2f") \
			" | " per(pm, req, "%.3f") " | " per(d(b, c, "irq_injections"), req, "%.2f") \
			" | " per(ie, idle_s, "%.0f") " | " per(cpu, req, "%.0f") " | " per(icpu, idle_s, "%.0f") " |"
	}'
}

# bv_path TAG ECHO [RUN OPTION...]: one boot, measured; three checks.
bv_path() {
	local tag=$1 echo=$2 out=/tmp/bv-$1.out ec=/tmp/bv-$1.ec mon vmm k a b c rc=1 st l
	shift 2
	vfe_start $out $echo 1200 "$@"
	mon=$VFE_MON
	: > $ec
	if wait_for 400 sh -c "grep -q '$(vfe_ready $echo)' $out || ! kill -0 $mon" && grep -q "$(vfe_ready $echo)" $out; then
		k=$(vfe_first_reply)
		metric "$tag-first-reply-after" "$k" tries
		vmm=$(vmm_pid $mon)
		a=$(nb_sample "$vmm"); sleep "$IDLE"; b=$(nb_sample "$vmm")
		taskset -c 1 echoclock -s 64 -n "$N" -w "$W" $VFE_GUEST > $ec 2>&1; rc=$?
		c=$(nb_sample "$vmm")
		echo "bench-viommu: $tag: $(cat $ec)"
		echo "bench-viommu: $tag: idle $a / run $b / end $c"
		bv_numbers "$tag" "$(sed -n 's/^echoclock: //p' $ec)" "$a" "$b" "$c" > /tmp/bv-$tag.lines
		while IFS= read -r l; do
			case $l in metric*) metric ${l#metric } ;; *) bed_mark "$l" ;; esac
		done < /tmp/bv-$tag.lines
	fi
	kill -TERM $mon 2>/dev/null
	wait $mon; st=$?
	grep -a '@@GUEST\|sluice:' $out | head -n 20
	check "$tag-answered" sh -c "[ $rc = 0 ] && grep -q 'samples=$N answered=$N lost=0' $ec || { tail -n 3 $ec; exit 1; }"
	case $tag in
	plain) check "$tag-igbvf-no-viommu" sh -c "grep -q '@@GUEST driver .* igbvf' $out && ! grep -q 'behind the virtio-iommu' $out" ;;
	viommu) check "$tag-igbvf-behind-viommu" sh -c "grep -q '@@GUEST driver .* igbvf' $out && grep -q 'behind the virtio-iommu' $out" ;;
	*) check "$tag-vfio-pci-behind-viommu" sh -c "grep -q '@@GUEST driver .* vfio-pci' $out && grep -q 'behind the virtio-iommu' $out" ;;
	esac
	# 143: our SIGTERM; sluice gave the VF and its count back.
	check "$tag-given-back" sh -c "[ $st = 143 ] && [ \$(cat /sys/bus/pci/devices/$VFE_PF/sriov_numvfs) = 0 ] || { echo status $st; exit 1; }"
}

bed_mark "table | path | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | req/s | KVM exits / req | exits / req over idle | PIO+MMIO exits / req | irq injections / req | idle exits / s | VMM CPU us / req | VMM CPU idle % |"
bed_mark "table | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
bv_path plain kernel
bv_path viommu kernel --viommu
bv_path viommu-dpdk dpdk --viommu
