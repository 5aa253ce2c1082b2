# driver-vm: the igb VF's driver runs in a supervised, jailed driver VM that
# serves bridge br0 (DHCP, NAT to the igb's wire). L1 (the host) and a consumer
# guest on br0 (--net bridge:br0) get leases from it and reach the wire's
# gateway through it; L1 never binds igbvf to the driver VM's VF. Faults while
# the consumer pings the gateway 100 times a second: the driver VM's VMM
# SIGKILLed, its kernel panicking, its VMM SIGSTOPped (a hang), first with a
# warm spare (failover), then without (cold restart). The supervisor names each
# failure; the consumer's pings resume and its longest silence is printed; the
# consumer is never restarted. A driver that always panics stops at the
# restart limit with everything given back. SIGTERM to a supervisor gives
# everything back. Bad input exits 2 with nothing taken.
# bed: timeout=1800
# bed: smp=2
# bed: checks=69
# bed: guest=consumer
# bed: driver=control crashloop

K=/bed/vmlinuz
D=/bed/driver/control.cpio
pf=$(bed_pf)
pfif=$(bed_pf_netdev "$pf")
dev=/sys/bus/pci/devices
ST=/tmp/status
# Generous for a loaded TCG bed: hung after 40 x 50 ms without an answer.
SUP="sluice driver-vm run --device vf:$pfif --bridge br0 --kernel $K --probe-period 50 --probe-misses 40 --boot-timeout 300"

status() { sluice driver-vm status br0 > $ST 2>&1; }
# up_count: driver VMs answering their probes; role_pid ROLE: that one's VMM pid.
up_count() { status; grep -c '^  dvm.* up ' $ST; }
role_pid() { status; sed -n "s/^  dvm[^ ]* *$1 .* VMM pid \([0-9]*\),.*/\1/p" $ST | head -n1; }
role_bdf() { status; sed -n "s/^  dvm[^ ]* *$1 *[a-z]* *\([0-9a-f:.]*\) .*/\1/p" $ST | head -n1; }
counter() { status; sed -n "s/.*, $1 \([0-9]*\).*/\1/p" $ST | head -n1; }
ifaces() { ls /sys/class/net | tr '\n' ' '; }
# gap_since LINE: the consumer's first outage line after line LINE of its output, in ms.
gap_since() { tail -n +"$(($1 + 1))" /tmp/consumer.out | sed -n 's/.*echoclock: gap ms=\([0-9]*\).*/\1/p' | head -n1; }
# The whole host as this scenario touches it, for "given back" comparisons.
host() { echo "numvfs=$(cat $dev/$pf/sriov_numvfs) ifs=$(ifaces) recs=$(find /run/sluice/devices /run/sluice/sriov -type f ! -name '*.lock' 2>/dev/null | wc -l)"; }

ip link add br0 type bridge && ip link set br0 up
check bridge-made test -d /sys/class/net/br0/bridge
h0=$(host)

# --- bad input: exit 2, nothing taken ------------------------------------------
expect_status bad-not-a-bridge 2 $SUP --initrd $D --bridge lo
said bad-not-a-bridge-says "lo is a network interface but not a bridge"
expect_status bad-no-image 2 $SUP --initrd /nonexistent.cpio
said bad-no-image-says "initrd /nonexistent.cpio"
expect_status bad-device 2 sluice driver-vm run --device 0000:00:00.0 --bridge br0 --kernel $K --initrd $D
said bad-device-says "0000:00:00.0"
check_eq bad-inputs-left-host "$(host)" "$h0"

# --- a driver VM and a warm spare ------------------------------------------------
$SUP --initrd $D --spare vf:$pfif --restart-limit 3 > /tmp/sup.out 2>&1 &
sup=$!
wait_check both-up 600 sh -c "[ \$(sluice driver-vm status br0 | grep -c '^  dvm.* up ') = 2 ]"
expect_status second-supervisor-refused 2 $SUP --initrd $D
said second-supervisor-says "already served by another driver-VM supervisor"
vf1=$(role_bdf primary)
vf2=$(role_bdf spare)
check_eq primary-vf-on-vfio-pci "$(bed_driver "$vf1")" vfio-pci
check_eq spare-vf-on-vfio-pci "$(bed_driver "$vf2")" vfio-pci
check primary-vf-no-l1-netdev test ! -e "$dev/$vf1/net"
check status-json-parses sh -c "sluice driver-vm status --json | grep -q '\"running\": true'"
# L1, the host, on br0 through the driver VM.
cat > /tmp/dhcp.sh <<'EOS'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
EOS
chmod +x /tmp/dhcp.sh
check host-lease udhcpc -i br0 -n -q -f -t 10 -T 2 -s /tmp/dhcp.sh
check host-lease-in-downlink sh -c "ip -4 addr show br0 | grep -q 'inet 10.99.0.'"
wait_check host-pings-wire 60 ping -c 1 -W 2 10.0.2.2
grep '@@DVM' /run/sluice/driver-vm/dvm1-br0.console | head -n 5
check driver-vm-uplink-igbvf grep -q '@@DVM uplink .*driver=igbvf addr=10.0.2.' /run/sluice/driver-vm/dvm1-br0.console

# The consumer: never restarted from here to the end.
sluice run --kernel $K --initrd /bed/guest/consumer.cpio --net bridge:br0 > /tmp/consumer.out 2>&1 &
con=$!
wait_check consumer-watching 300 grep -q '@@GUEST watching' /tmp/consumer.out
check consumer-lease grep -q '@@GUEST lease eth0 10.99.0.' /tmp/consumer.out
check consumer-wire grep -q '@@GUEST wire ok' /tmp/consumer.out

# fault TAG KIND WANT_UP: inflict KIND on the primary while the consumer pings,
# then check the supervisor saw it, pings resumed, and WANT_UP driver VMs run again.
fault() {
	local tag=$1 kind=$2 want=$3 pid line f0 r0 gap named=$2
	wait_check $tag-ready 600 sh -c "[ \$(sluice driver-vm status br0 | grep -c '^  dvm.* up ') = $want ]"
	pid=$(role_pid primary)
	f0=$(counter failovers)
	r0=$(counter restarts)
	line=$(wc -l < /tmp/consumer.out)
	sleep 2
	case $kind in
	kill) kill -KILL "$pid"; named=crash ;;
	panic) echo panic | nc -w 2 10.99.0.1 7777 ;;
	hang) kill -STOP "$pid" ;;
	esac
	wait_check $tag-pings-resumed 600 sh -c "tail -n +$((line + 1)) /tmp/consumer.out | grep -q 'echoclock: gap'"
	wait_check $tag-reported 60 grep -q "failed: $named" /tmp/sup.out
	check_eq $tag-counted "$(counter restarts)" "$((r0 + 1))"
	if [ "$want" = 2 ]; then check_eq $tag-failed-over "$(counter failovers)" "$((f0 + 1))"
	else check_eq $tag-cold-restart "$(counter failovers)" "$f0"; fi
	check $tag-old-vmm-gone test ! -e "/proc/$pid"
	gap=$(gap_since "$line")
	metric "outage-$tag" "${gap:-nan}" ms
	metric "detect-$tag" "$(sed -n 's/.*failed: .*; \([0-9]*\) ms since.*/\1/p' /tmp/sup.out | tail -n1)" ms
	echo "$tag: $(grep "failed: $named" /tmp/sup.out | tail -n1)"
}
fault spare-kill kill 2
fault spare-panic panic 2
fault spare-hang hang 2
wait_check spare-back 600 sh -c "[ \$(sluice driver-vm status br0 | grep -c '^  dvm.* up ') = 2 ]"
cat $ST
kill -TERM $sup; wait $sup; rc=$?
check_eq sigterm-exit0 "$rc" 0
# The VFs were made for the driver VMs: the last one out destroys them again.
check_eq sigterm-numvfs-back "numvfs=$(cat $dev/$pf/sriov_numvfs)" "${h0%% *}"
check sigterm-state-gone test ! -e /run/sluice/driver-vm/br0.json
check sigterm-no-records test "$(find /run/sluice/devices /run/sluice/sriov -type f ! -name '*.lock' 2>/dev/null | wc -l)" = 0
check consumer-still-running kill -0 $con

# --- no spare: cold restarts ---------------------------------------------------------
$SUP --initrd $D --restart-limit 3 > /tmp/sup.out 2>&1 &
sup=$!
fault cold-kill kill 1
fault cold-panic panic 1
fault cold-hang hang 1
wait_check cold-back 600 sh -c "[ \$(sluice driver-vm status br0 | grep -c '^  dvm.* up ') = 1 ]"
check_eq consumer-never-restarted "$(grep -c 'guest: init reached' /tmp/consumer.out)" 1
check consumer-still-alive kill -0 $con
kill -INT $sup; wait $sup; rc=$?
check_eq sigint-exit0 "$rc" 0
kill -TERM $con; wait $con
grep 'echoclock: gap' /tmp/consumer.out

# --- a driver that always panics: the restart limit ------------------------------
ip addr flush dev br0
ip route del default 2>/dev/null
$SUP --initrd /bed/driver/crashloop.cpio --restart-limit 2 > /tmp/sup.out 2>&1 &
sup=$!
( sleep 900; kill -9 $sup ) 2>/dev/null & dog=$!
wait $sup; rc=$?
kill $dog 2>/dev/null
tail -n 4 /tmp/sup.out
check_eq crashloop-exit1 "$rc" 1
check crashloop-three-panics test "$(grep -c 'failed: panic' /tmp/sup.out)" = 3
check crashloop-says-limit grep -q 'failed 3 times in a row (last: panic): the restart limit is 2' /tmp/sup.out
check_eq crashloop-host-given-back "$(host)" "$h0"
check crashloop-state-gone test ! -e /run/sluice/driver-vm/br0.json
check bridge-still-there test -d /sys/class/net/br0/bridge
