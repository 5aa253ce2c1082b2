# tests/bed/l1/lib.sh: check helpers for scenarios running inside L1 (busybox sh).
# Every check prints one marker line to the console and to the results channel:
#   @@SLUICE check PASS <name>
#   @@SLUICE check FAIL <name> <why>
# The host (scripts/testbed) parses the results channel.

: "${res:=/dev/ttyS1}"

bed_mark() {
	echo "@@SLUICE $*"
	echo "@@SLUICE $*" > "$res"
}
bed_begin() { bed_mark "begin $1"; BED_T0=$(cut -d' ' -f1 /proc/uptime); }
bed_end() { bed_mark "end"; }
pass() { bed_mark "check PASS $1"; }
fail() { bed_mark "check FAIL $1 ${2:-}"; }
# A number the host prints with the results: metric NAME VALUE UNIT
metric() { bed_mark "metric $1 $2 ${3:-}"; }

# check NAME CMD...: pass when CMD exits 0; on failure its output is shown.
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then pass "$name"
	elif [ -n "$out" ]; then fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
	else fail "$name" "'$*' failed"; fi
}

# check_not NAME CMD...: pass when CMD fails.
check_not() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then fail "$name" "'$*' succeeded"; else pass "$name"; fi
}

# expect_status NAME WANT CMD...: pass when CMD exits with status WANT.
expect_status() {
	local name=$1 want=$2 rc; shift 2
	"$@" > /tmp/expect.out 2>&1; rc=$?
	if [ "$rc" = "$want" ]; then pass "$name"
	else fail "$name" "exit $rc, want $want: $(tail -n 3 /tmp/expect.out | tr '\n' ' ')"; fi
}

# said NAME TEXT: pass when the output of the last expect_status command has TEXT
# (a grep pattern): a refusal must name its reason, not only exit 2.
said() {
	if grep -q -- "$2" /tmp/expect.out; then pass "$1"
	else fail "$1" "no '$2' in: $(tail -n 3 /tmp/expect.out | tr '\n' ' ')"; fi
}

# same A B: true when A equals B and neither is empty. Two computed values
# that both failed to compute (an unwritten file's hash, a missing driver) are
# "" and "": equal, but no evidence of anything.
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }

# check_eq NAME GOT WANT: pass when GOT equals WANT and neither is empty. Every
# comparison of two computed values goes through it (or through same).
check_eq() {
	if same "$2" "$3"; then pass "$1"
	elif [ -z "$2" ] || [ -z "$3" ]; then fail "$1" "an empty side: got '$2', want '$3'"
	else fail "$1" "got '$2', want '$3'"; fi
}

# wait_for SECONDS CMD...: poll until CMD succeeds; non-zero on timeout.
# Only for a wait whose expiry a later check catches; when a step depends on
# the wait (a guest that must be up before it is poked), use wait_check.
wait_for() {
	local n=$(($1 * 10)); shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		usleep 100000; n=$((n - 1))
	done
	return 1
}

# differ A B: both are set and not equal (an empty side, a lookup that found
# nothing, is not a different value).
differ() { [ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]; }

# wait_check NAME SECONDS CMD...: a check that CMD succeeds within SECONDS;
# its status is the verdict, so a step can also be skipped on expiry.
wait_check() {
	local name=$1 secs=$2; shift 2
	if wait_for "$secs" "$@"; then pass "$name"; return 0; fi
	fail "$name" "'$*' did not succeed within $secs s"
	return 1
}

# sysfs helpers for the igb PF (the test bed's SR-IOV NIC).
bed_pf() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10c9 ] && { basename "$d"; return 0; }
	done
	return 1
}
bed_pf_netdev() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n1; }
bed_driver() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
bed_group() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

dmesg_has() { dmesg | grep -q "$1"; }

# vmm_pid PID: the VMM (comm sluice-vmm) that the sluice monitor PID spawned; fails if none.
vmm_pid() {
	local c
	for c in $(cat /proc/$1/task/*/children 2>/dev/null); do
		[ "$(cat /proc/$c/comm 2>/dev/null)" = sluice-vmm ] && { echo "$c"; return 0; }
	done
	return 1
}

# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# field NAME FILE: the value of NAME=VALUE on the last bootclock line of FILE.
field() { sed -n "s/.*bootclock:.* $1=\([^ ]*\).*/\1/p" "$2" | tail -n 1; }

# canary_start: a canary page of L1's memory above 512 MiB (tests/tools/canary), outside every
# IOVA a 256 MiB guest may use, held through a FIFO on fd 4 until canary_stop; sets $target
# (its physical address) and $canary_pid. Start guests in the background with 4>&-: a FIFO
# writer left in them would keep the canary from ending.
canary_start() {
	rm -f /tmp/cin; mkfifo /tmp/cin
	canary 0x20000000 < /tmp/cin > /tmp/canary &
	canary_pid=$!
	exec 4> /tmp/cin
	wait_for 10 grep -q 'canary phys=' /tmp/canary
	target=$(sed -n 's/canary phys=\(0x[0-9a-f]*\)/\1/p' /tmp/canary)
}

# canary_stop: let the canary check its page (bounded: 30 s); its status, 0 when intact.
canary_stop() {
	local dog st
	exec 4>&-
	( sleep 30; kill $canary_pid ) 2>/dev/null & dog=$!
	wait $canary_pid; st=$?
	kill $dog 2>/dev/null
	cat /tmp/canary
	return $st
}
