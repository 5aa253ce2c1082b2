# tests/bed/l1/netbench-bed.sh: netbench.sh's settings in the test bed (sourced by
# the bench-net benchmark and the net-latency scenario), then the per-boot checks.
. /bed/netbench.sh
NB_PF=$(bed_pf)
NB_KERNEL=/bed/vmlinuz
NB_INITRD=/bed/guest/lat.cpio
NB_VMMS=${NB_VMMS:-"sluice qemu"}
NB_PATHS=${NB_PATHS:-"vf virtio vhost"}
NB_FARS=${NB_FARS:-"kernel dpdk"}
NB_QEMU_L=/usr/share/qemu
# L1 has 2 CPUs: testpmd busy-polls one, the VMM and the kernel far end get the other.
NB_VMM_CPU=0
NB_DPDK_CPU=1
NB_WHERE=bed_nested_under_TCG

# nb_bed_checks: each boot ran, finished, and every counted sample was answered.
nb_bed_checks() {
	local v p tag want got bad
	want=$(( $(echo $NB_FARS | wc -w) * $(echo $NB_SIZES | tr , ' ' | wc -w) * 2 ))
	for v in $NB_VMMS; do
		for p in $NB_PATHS; do
			tag=$v-$p
			if grep -q '^@@NB status 0$' "$NB_WORK/$tag.log" && grep -q '@@GUEST done' "$NB_WORK/$tag.log"; then
				pass "$tag-ran"
			else
				fail "$tag-ran" "$(grep -a -e '@@GUEST' -e '@@NB' -e 'sluice:' -e 'qemu' "$NB_WORK/$tag.log" | tail -n 4 | tr '\n' ' ')"
			fi
			got=$(grep -c '^data ' "$NB_WORK/$tag.data" 2>/dev/null)
			[ "${got:-0}" = "$want" ] && pass "$tag-all-measured" || fail "$tag-all-measured" "${got:-0} of $want measurements"
			bad=$(awk -v n=$NB_N '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
				if (f["rc"] != 0 || f["samples"] < n || f["answered"] != f["samples"] || f["lost"] != 0)
					print f["far"], f["size"], f["mode"], "rc=" f["rc"], "samples=" f["samples"], "answered=" f["answered"], "lost=" f["lost"] }' \
				"$NB_WORK/$tag.data" 2>/dev/null)
			[ -z "$bad" ] && [ "${got:-0}" -gt 0 ] && pass "$tag-every-sample-answered" || fail "$tag-every-sample-answered" "$bad"
		done
	done
}

# nb_bed_main: set up (checked), every boot, the checks, teardown.
nb_bed_main() {
	if nb_setup > /tmp/nb-setup.out 2>&1; then
		pass net-bench-setup
		nb_all
		nb_bed_checks
	else
		fail net-bench-setup "$(tail -n 6 /tmp/nb-setup.out | tr '\n' ' ')"
	fi
	nb_teardown
}
