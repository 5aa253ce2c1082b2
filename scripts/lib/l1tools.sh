# scripts/lib/l1tools.sh: Debian programs a scenario asks for in L1 (sourced by scripts/testbed).
# A scenario names them in its header, `# bed: tools=NAME...`; each NAME is a function
# l1_tool_NAME TREE that copies the program, its shared libraries and data into TREE.
# Add one function per tool here; a name with no function fails the scenario's image.

# l1_tools TREE NAME...: add each tool, or fail naming the first unknown or missing one.
l1_tools() {
	local tree=$1 t; shift
	for t in "$@"; do
		if ! declare -F "l1_tool_$t" >/dev/null; then
			echo "scripts/testbed: no L1 tool '$t' (define l1_tool_$t in scripts/lib/l1tools.sh)" >&2
			return 1
		fi
		"l1_tool_$t" "$tree" || { echo "scripts/testbed: L1 tool '$t': not installed? run scripts/setup" >&2; return 1; }
	done
}

# iproute2's ip (BusyBox's cannot set VF attributes), as /usr/sbin/ip-full.
l1_tool_iproute2() {
	[ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || return 1
	initramfs_add_binary "$1" "$(command -v ip || echo /sbin/ip)" /usr/sbin/ip-full
}

# sockperf (Debian's sockperf): the UDP latency client and server.
l1_tool_sockperf() {
	[ -x /usr/bin/sockperf ] || return 1
	initramfs_add_binary "$1" /usr/bin/sockperf /usr/bin/sockperf
}

# dpdk-testpmd (Debian's dpdk-dev) with only the plugins the bed uses, as files to
# load with -d (TESTBED.md): the igb/igbvf PMD, the TAP's af_packet PMD and the
# ring mempool; /usr/lib/dpdk-pmds/ in L1.
l1_tool_dpdk() {
	local pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0 p
	[ -x /usr/bin/dpdk-testpmd ] || return 1
	initramfs_add_binary "$1" /usr/bin/dpdk-testpmd /usr/bin/dpdk-testpmd
	mkdir -p "$1/usr/lib/dpdk-pmds"
	for p in librte_net_e1000 librte_net_af_packet librte_mempool_ring; do
		[ -f "$pmds/$p.so.23.0" ] || return 1
		initramfs_add_binary "$1" "$pmds/$p.so.23.0" "/usr/lib/dpdk-pmds/$p.so"
	done
}

# Debian's QEMU (a peer VMM for benchmarks) with its shared libraries, and the
# firmware it loads for direct kernel boot in /usr/share/qemu (its default -L
# folder): SeaBIOS and its option ROMs for -M q35, and SeaBIOS's microvm build
# for -M microvm (its default firmware in QEMU 10; without it QEMU stops with
# "could not load PC BIOS 'bios-microvm.bin'", which is why microvm once
# seemed to print nothing).
l1_tool_qemu() {
	local q f d=/usr/share/qemu
	q=$(command -v qemu-system-x86_64) || return 1
	initramfs_add_binary "$1" "$q" /usr/bin/qemu-system-x86_64
	mkdir -p "$1$d"
	for f in /usr/share/seabios/bios-256k.bin $d/linuxboot_dma.bin $d/kvmvapic.bin \
		/usr/share/seabios/bios-microvm.bin; do
		cp -L "$f" "$1$d/" || return 1
	done
}
