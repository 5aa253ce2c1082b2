# tests/bed/l1/dvm.sh: helpers for driver-VM scenarios and benchmarks in L1 (after lib.sh).
# The supervisor serves br0 from VFs of the bed's igb PF; the consumer guest's console
# is /tmp/consumer.out, the supervisor's output /tmp/sup.out.
K=/bed/vmlinuz
pf=$(bed_pf)
pfif=$(bed_pf_netdev "$pf")
dev=/sys/bus/pci/devices
ST=/tmp/status
# Generous for a loaded TCG bed: hung after 40 x 50 ms without an answer.
SUP="sluice driver-vm run --device vf:$pfif --kernel $K --probe-period 50 --probe-misses 40 --boot-timeout 300"

status() { sluice driver-vm status br0 > $ST 2>&1; }
# up_count: driver VMs answering their probes; role_pid ROLE: that one's VMM pid.
up_count() { status; grep -c '^  dvm.* up ' $ST; }
role_pid() { status; sed -n "s/^  dvm[^ ]* *$1 .* VMM pid \([0-9]*\),.*/\1/p" $ST | head -n1; }
role_bdf() { status; sed -n "s/^  dvm[^ ]* *$1 *[a-z]* *\([0-9a-f:.]*\) .*/\1/p" $ST | head -n1; }
counter() { status; sed -n "s/.*, $1 \([0-9]*\).*/\1/p" $ST | head -n1; }
ifaces() { ls /sys/class/net | tr '\n' ' '; }
# The whole host as this scenario touches it, for "given back" comparisons.
host() { echo "numvfs=$(cat $dev/$pf/sriov_numvfs) ifs=$(ifaces) recs=$(find /run/sluice/devices /run/sluice/sriov -type f ! -name '*.lock' 2>/dev/null | wc -l)"; }

# dvm_host_lease: L1 takes a lease and its default route from the driver VM on br0.
dvm_host_lease() {
	cat > /tmp/dhcp.sh <<-'EOS'
	#!/bin/sh
	[ "$1" = bound ] || exit 0
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
	EOS
	chmod +x /tmp/dhcp.sh
	udhcpc -i br0 -n -q -f -t 10 -T 2 -s /tmp/dhcp.sh
}

# outage_since LINE: the consumer's longest silence (ms) after line LINE of its output; 30 when
# none was over its 30 ms threshold.
outage_since() {
	local g
	g=$(tail -n +"$(($1 + 1))" /tmp/consumer.out | sed -n 's/.*echoclock: gap ms=\([0-9]*\).*/\1/p' | sort -n | tail -n1)
	echo "${g:-30}"
}

# dvm_panic RESTARTS: ask the serving driver VM's control port (tests/bed/driver/control.sh)
# to panic until the supervisor counts more than RESTARTS. The port opens after "@@DVM ready",
# a little after the first ARP answer, and closes a moment between connections, so the ask
# is repeated. It runs in the background (the panicking end never closes its side), and its
# connect is bounded (nc -w 2): a connect left retrying could reach the restarted driver VM
# on the same address and panic it too. t0 is the last ask.
dvm_panic() {
	local n=0
	while [ $n -lt 40 ]; do
		t0=$(awk '{ printf "%d", $1 * 1000 }' /proc/uptime)
		(echo panic | nc -w 2 10.99.0.1 7777 >/dev/null 2>&1 &)
		wait_for 3 sh -c "sluice driver-vm status br0 | grep -q ', restarts $(($1 + 1)),'" && return 0
		n=$((n + 1))
	done
	return 1
}

# fault TAG KIND WANT_UP: inflict KIND (kill, panic, hang) on the serving driver VM while
# the consumer pings the wire; check the supervisor named it and counted it, failed over
# (WANT_UP 2: a spare was up) or restarted it cold (1), that the serving one is up again
# and the consumer's replies came back; print the outage and the detection time.
fault() {
	local tag=$1 kind=$2 want=$3 pid line rl f0 r0 t0 gap det named=$2
	wait_check $tag-ready 600 sh -c "[ \$(sluice driver-vm status br0 | grep -c '^  dvm.* up ') = $want ]"
	pid=$(role_pid primary)
	f0=$(counter failovers)
	r0=$(counter restarts)
	line=$(wc -l < /tmp/consumer.out)
	t0=$(awk '{ printf "%d", $1 * 1000 }' /proc/uptime)
	case $kind in
	kill) kill -KILL "$pid"; named=crash ;;
	panic) dvm_panic "$r0" ;;
	hang) kill -STOP "$pid" ;;
	esac
	wait_check $tag-counted 120 sh -c "sluice driver-vm status br0 | grep -q ', restarts $((r0 + 1)),'"
	check $tag-named sh -c "grep 'failed: ' /tmp/sup.out | tail -n1 | grep -q 'failed: $named '"
	if [ "$want" = 2 ]; then check_eq $tag-failed-over "$(counter failovers)" "$((f0 + 1))"
	else check_eq $tag-cold-restart "$(counter failovers)" "$f0"; fi
	wait_check $tag-serving-again 600 sh -c "sluice driver-vm status br0 | grep -q '^  dvm[^ ]* *primary *up '"
	rl=$(wc -l < /tmp/consumer.out)
	wait_check $tag-pings-resumed 120 sh -c "tail -n +$((rl + 1)) /tmp/consumer.out | grep -q 'echoclock: alive replies=[1-9]'"
	check $tag-old-vmm-gone test ! -e "/proc/$pid"
	gap=$(outage_since "$line")
	# Detection: from the fault to the supervisor's verdict (both on L1's monotonic clock).
	det=$(sluice driver-vm status --json br0 | sed -n 's/.*"at_ms": \([0-9]*\).*/\1/p' | head -n1)
	[ -n "$det" ] && det=$((det - t0))
	metric "outage-$tag" "$gap" ms
	metric "detect-$tag" "${det:-nan}" ms
	echo "$gap" >> "/tmp/outage-${tag%%[0-9]*}"
	echo "${det:-nan}" >> "/tmp/detect-${tag%%[0-9]*}"
	echo "$tag: outage $gap ms, detected in ${det:-?} ms; supervisor: $(tail -n 3 /tmp/sup.out | tr '\n' '|')"
}
