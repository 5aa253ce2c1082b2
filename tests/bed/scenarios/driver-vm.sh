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
# bed: checks=81
# bed: guest=consumer
# bed: driver=control crashloop

. /bed/dvm.sh
D=/bed/driver/control.cpio
ip link add br0 type bridge && ip link set br0 up
check bridge-made test -d /sys/class/net/br0/bridge
h0=$(host)

# --- bad input: exit 2, nothing taken ------------------------------------------
expect_status bad-not-a-bridge 2 $SUP --initrd $D --bridge lo
said bad-not-a-bridge-says "lo is a network interface but not a bridge"
expect_status bad-no-image 2 $SUP --bridge br0 --initrd /nonexistent.cpio
said bad-no-image-says "initrd /nonexistent.cpio"
expect_status bad-device 2 sluice driver-vm run --device 0000:00:00.0 --bridge br0 --kernel $K --initrd $D
said bad-device-says "0000:00:00.0"
check_eq bad-inputs-left-host "$(host)" "$h0"

# --- a driver VM and a warm spare ------------------------------------------------
$SUP --bridge br0 --initrd $D --spare vf:$pfif --restart-limit 3 > /tmp/sup.out 2>&1 &
sup=$!
wait_check both-up 600 sh -c "[ \$(sluice driver-vm status br0 | grep -c '^  dvm.* up ') = 2 ]"
expect_status second-supervisor-refused 2 $SUP --bridge br0 --initrd $D
said second-supervisor-says "already served by another driver-VM supervisor"
vf1=$(role_bdf primary)
vf2=$(role_bdf spare)
check_eq primary-vf-on-vfio-pci "$(bed_driver "$vf1")" vfio-pci
check_eq spare-vf-on-vfio-pci "$(bed_driver "$vf2")" vfio-pci
check primary-vf-no-l1-netdev test ! -e "$dev/$vf1/net"
check status-json-parses sh -c "sluice driver-vm status --json | grep -q '\"running\": true'"
# L1, the host, on br0 through the driver VM.
check host-lease dvm_host_lease
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
check sigterm-no-records sh -c "! find /run/sluice/devices /run/sluice/sriov -type f ! -name '*.lock' 2>/dev/null | grep ."
check consumer-still-running kill -0 $con

# --- no spare: cold restarts ---------------------------------------------------------
l0=$(wc -l < /tmp/consumer.out)
$SUP --bridge br0 --initrd $D --restart-limit 3 > /tmp/sup.out 2>&1 &
sup=$!
# A new supervisor of the same bridge serves with the same MAC and address: the consumer,
# which kept its TAP, lease and ARP entry, is served again with no action of its own.
wait_check consumer-served-by-new-supervisor 600 sh -c "tail -n +$((l0 + 1)) /tmp/consumer.out | grep -q 'echoclock: alive replies=[1-9]'"
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
$SUP --bridge br0 --initrd /bed/driver/crashloop.cpio --restart-limit 2 > /tmp/sup.out 2>&1 &
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
