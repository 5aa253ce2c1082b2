# bench-boot: sluice against QEMU -M microvm and -M q35 (Debian's, -enable-kvm,
# direct kernel boot), alternating run by run, the same kernel, initramfs,
# command line, 1 vCPU (L1 has one CPU) and 256M. Per VMM, medians over the
# runs that worked: start to the guest's /init and to its power-off exit, the
# guest's own uptime at /init, the VMM's RSS without guest memory, and KVM's
# per-VM counters of the whole run (exits and faults by kind, sampled from
# debugfs every 100 ms while the VM lives: tests/tools/bootclock.c). A sluice
# binary put in build/tools/ as sluice-base runs too, as "base" (before/after),
# and sluice --no-jail as "nojail": what the jail costs (sluice's RSS is the
# monitor's and the VMM's together).
# sluice runs with --stats: the tails printed last show its exits by device.
# A run that failed, timed out or could not be sampled adds no number; a VMM
# with no good run says so and prints none. In the test bed the guest runs
# under nested SVM emulated by TCG: read relative numbers, not hardware speed.
# bed: timeout=2400
# bed: guest=report
# bed: tools=qemu

runs=${BENCH_RUNS:-5}	# about 20 s a run in an idle bed, minutes in a loaded one
K=/bed/vmlinuz
I=/bed/guest/report.cpio
CMDLINE="console=ttyS0 panic=-1"
PAT='guest: init reached'
QEMU="-enable-kvm -cpu host -smp 1 -m 256M -L /usr/share/qemu -nodefaults -no-user-config
 -display none -serial stdio -no-reboot -kernel $K -initrd $I"
vmms="sluice nojail q35 microvm"
command -v sluice-base >/dev/null && vmms="sluice nojail base q35 microvm"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/debug/kvm ] || echo "bench-boot: no /sys/kernel/debug/kvm: KVM counters cannot be measured"

# boot VMM: one run under bootclock into $LOG, killed after 240 s.
boot() {
	case $1 in
	sluice) set -- sluice run --kernel $K --initrd $I --cpus 1 --memory 256M --cmdline "$CMDLINE" --stats ;;
	nojail) set -- sluice run --kernel $K --initrd $I --cpus 1 --memory 256M --cmdline "$CMDLINE" --stats --no-jail ;;
	base) set -- sluice-base run --kernel $K --initrd $I --cpus 1 --memory 256M --cmdline "$CMDLINE" --stats ;;
	microvm) set -- qemu-system-x86_64 -M microvm $QEMU -append "$CMDLINE" ;;
	q35) set -- qemu-system-x86_64 -M q35 $QEMU -append "$CMDLINE" ;;
	esac
	bootclock -t 240 "$PAT" "$@" </dev/null > "$LOG" 2>&1
}

# A run counts when bootclock saw the pattern and the VMM exited 0.
good() { [ "$(field status "$1")" = 0 ] && [ -n "$(field exit_ms "$1")" ] && [ "$(field pattern_ms "$1")" != -1.0 ]; }

for i in $(seq $runs); do
	for v in $vmms; do
		LOG=/tmp/boot-$v-$i.log
		boot $v
		echo "bench-boot: $v run $i: $(grep -a '^bootclock:' $LOG | tr '\n' ' ')"
		if good $LOG; then pass "boot-$v-run-$i"
		else fail "boot-$v-run-$i" "$(grep -v '^ *$' $LOG | tail -n 3 | tr '\n' ' ')"; fi
	done
done

# values V NAME: NAME from each good run of V, one per line; none from runs without it.
values() {
	local i f x
	for i in $(seq $runs); do
		f=/tmp/boot-$1-$i.log
		good $f || continue
		case $2 in
		uptime) x=$(sed -n 's/.*init reached after \([0-9.]*\) s.*/\1/p' $f | tr -d '\r' | head -n1) ;;
		*) x=$(field $2 $f) ;;
		esac
		case $x in ''|none|-1|-1.0) ;; *) echo "$x" ;; esac
	done
}
# report V NAME METRIC UNIT: the median, or a line saying it could not be measured.
report() {
	local n m
	n=$(values $1 $2 | wc -l)
	if [ "$n" -gt 0 ]; then
		m=$(values $1 $2 | median); metric "$1_$3" "$m" "$4"; echo "$m" > /tmp/med-$1-$3
	else
		echo "bench-boot: $1: $3 not measured (no good run had it)"; rm -f /tmp/med-$1-$3
	fi
}

for v in $vmms; do
	n=$(values $v exit_ms | wc -l)
	echo "bench-boot: $v: $n of $runs runs good"
	[ "$n" -gt 0 ] || { echo "bench-boot: $v: no number (no run reached /init and exited 0; see the tails below)"; continue; }
	report $v pattern_ms start_to_init_ms ms
	report $v exit_ms start_to_exit_ms ms
	report $v uptime guest_uptime_at_init_s s
	report $v rss_kib vmm_rss_kib KiB
	report $v ram_rss_kib guest_ram_touched_kib KiB
	report $v ram_thp_kib guest_ram_thp_kib KiB
	for k in exits io_exits mmio_exits halt_exits irq_exits irq_window_exits insn_emulation \
		irq_injections hypercalls pf_taken pf_fixed pf_emulate pf_spurious pf_mmio_spte_created \
		pages_4k pages_2m; do
		report $v kvm_$k kvm_$k count
	done
done

# The ratio sluice/peer of the start-to-exit medians, and against the fastest peer.
best=
for p in microvm q35; do
	[ -f /tmp/med-sluice-start_to_exit_ms ] && [ -f /tmp/med-$p-start_to_exit_ms ] || {
		echo "bench-boot: no ratio sluice/$p: one of them has no good run"; continue; }
	s=$(cat /tmp/med-sluice-start_to_exit_ms); q=$(cat /tmp/med-$p-start_to_exit_ms)
	metric ratio_sluice_to_$p "$(awk -v s=$s -v q=$q 'BEGIN { printf "%.2f", s / q }')" x
	[ -z "$best" ] || awk -v q=$q -v b=$best 'BEGIN { exit !(q < b) }' && best=$q
done
# What the jail costs: start to exit and RSS, jailed over --no-jail.
for k in start_to_exit_ms vmm_rss_kib; do
	[ -f /tmp/med-sluice-$k ] && [ -f /tmp/med-nojail-$k ] || { echo "bench-boot: no jail ratio for $k"; continue; }
	metric ratio_jailed_to_nojail_$k "$(awk -v a=$(cat /tmp/med-sluice-$k) -v b=$(cat /tmp/med-nojail-$k) \
		'BEGIN { printf "%.2f", a / b }')" x
done
[ -n "$best" ] && metric ratio_sluice_to_fastest_peer "$(awk -v s=$s -v b=$best 'BEGIN { printf "%.2f", s / b }')" x
for f in /tmp/boot-*-1.log; do echo "--- $f (tail)"; tail -n 4 $f; done
