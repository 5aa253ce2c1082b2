# bench-boot: time from `sluice run` to the guest's /init, time to power-off
# exit, and sluice's own resident memory (RSS minus the guest RAM mapping),
# median of 5 runs, 1 vCPU, 256M. In the test bed the guest runs under nested
# SVM emulated by TCG: read these as relative numbers, not as hardware speed.
# bed: timeout=600
# bed: guest=report

runs=5
for i in $(seq $runs); do
	bootclock 'guest: init reached' sluice run --kernel /bed/vmlinuz \
		--initrd /bed/guest/report.cpio --memory 256M </dev/null > /tmp/b$i.log 2>&1
	[ "$(field status /tmp/b$i.log)" = 0 ] && pass "boot-run-$i" || fail "boot-run-$i" "$(tail -n 2 /tmp/b$i.log)"
done
for k in pattern_ms exit_ms rss_kib ram_rss_kib; do
	for i in $(seq $runs); do field $k /tmp/b$i.log; done > /tmp/$k
done
metric start_to_init_ms "$(median < /tmp/pattern_ms)" ms
metric start_to_exit_ms "$(median < /tmp/exit_ms)" ms
metric sluice_rss_kib "$(median < /tmp/rss_kib)" KiB
metric guest_ram_touched_kib "$(median < /tmp/ram_rss_kib)" KiB
metric guest_kernel_uptime_at_init_s "$(sed -n 's/.*init reached after \([0-9.]*\) s.*/\1/p' /tmp/b*.log | median)" s
