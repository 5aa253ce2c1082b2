# driver-image: the driver-VM image (scripts/driver-image) as a driver VM under
# plain `sluice run`: it owns a VF of the igb (igbvf inside, DHCP from QEMU's
# slirp on the igb's wire), serves DHCP on its virtio-net downlink, a TAP that
# L1 puts in its bridge br0, and NATs the downlink out of the VF. L1 gets a
# lease on br0 from it and pings the wire's gateway through it. While it runs
# the VF is on vfio-pci with no L1 netdev; SIGTERM gives everything back.
# Then a bad sluice.dvm.addr: the init says so and stays up.
# The image is the control-hook one (tests/bed/driver/control.sh): its port
# answers through the bridge too.
# bed: timeout=600
# bed: checks=19
# bed: driver=control

pf=$(bed_pf)
pfif=$(bed_pf_netdev "$pf")
ip link add br0 type bridge
ip link set br0 up
ip link set "$pfif" up		# igbvf in the driver VM needs the PF out of reset
# One VF made here, so sluice leaves the count alone and the VF outlives the run.
echo 1 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
wait_for 10 test -e /sys/bus/pci/devices/$vf/driver
drv=$(bed_driver $vf)
echo "pf $pf ($pfif), vf $vf ($drv)"
check vf-starts-on-igbvf test "$drv" = igbvf

seen() { grep -aq "$1" /tmp/dvm.out; }
t0=$(cut -d' ' -f1 /proc/uptime)
sluice run --kernel /bed/vmlinuz --initrd /bed/driver/control.cpio --memory 256M --cpus 1 \
	--net "vf:$pfif" --net tap:dvm0,vhost=on,mac=52:54:00:d0:00:01 \
	--cmdline "console=ttyS0 panic=-1 oops=panic panic_on_oops=1 softlockup_panic=1 sluice.dvm.addr=10.99.0.1/24" \
	</dev/null > /tmp/dvm.out 2>&1 &
spid=$!
# The host enslaves the TAP (the supervisor's job): as soon as it exists.
wait_check dvm0-appears 60 test -e /sys/class/net/dvm0 && ip link set dvm0 master br0 up
if wait_check dvm-ready 300 seen '@@DVM ready'; then
	t1=$(cut -d' ' -f1 /proc/uptime)
	metric dvm-start-to-ready "$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')" s
	metric dvm-uptime-at-init "$(sed -n 's/.*dvm: ready after .*(init at \([0-9.]*\) s.*/\1/p' /tmp/dvm.out | head -n1)" s
	metric dvm-uptime-at-ready "$(sed -n 's/.*dvm: ready after \([0-9.]*\) s.*/\1/p' /tmp/dvm.out | head -n1)" s
fi
grep -a -e '@@DVM' -e 'dvm:' -e 'sluice:' -e 'insmod' /tmp/dvm.out
check dvm-took-the-vf seen "$vf: assigned to VM"
check dvm-downlink-marker seen '@@DVM downlink eth[0-9]* addr=10\.99\.0\.1[^0-9]*$'
check dvm-uplink-igbvf-lease seen '@@DVM uplink eth[0-9]* driver=igbvf addr=10\.0\.2\.'
check dvm-no-error sh -c "! grep -a '@@DVM error' /tmp/dvm.out"
check_eq vf-on-vfio-pci-while-running "$(bed_driver $vf)" vfio-pci
check vf-no-l1-netdev-while-running sh -c "! ls /sys/bus/pci/devices/$vf/net 2>/dev/null | grep -q ."
check dvm0-in-br0 test "$(basename "$(readlink /sys/class/net/dvm0/master)")" = br0

# L1 is a consumer on br0: DHCP from the driver VM, then the wire through its NAT.
cat > /tmp/br0.sh <<'EOS'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
ip route add default via "$router" dev "$interface"
echo "$ip via $router" > /tmp/br0.lease
EOS
chmod +x /tmp/br0.sh
udhcpc -i br0 -n -q -f -t 10 -T 2 -s /tmp/br0.sh >/dev/null 2>&1
cat /tmp/br0.lease
check l1-lease-from-dvm grep -q '^10\.99\.0\.1[0-9][0-9] via 10\.99\.0\.1$' /tmp/br0.lease
check l1-pings-wire-through-dvm ping -c 3 -W 5 10.0.2.2
check control-port-answers sh -c "echo ping | timeout 20 nc 10.99.0.1 7777 | grep -q pong"

kill -TERM $spid
wait $spid; st=$?
tail -n 5 /tmp/dvm.out
check sigterm-exit-143 test "$st" = 143
vf_back() { same "$(bed_driver $vf)" "$drv"; }
wait_check vf-back-on-igbvf 10 vf_back
check dvm0-gone test ! -e /sys/class/net/dvm0
check no-record-left sh -c "! ls /run/sluice/devices/$vf 2>/dev/null"

# A bad command line (an address without its prefix length): the init says so
# before it starts anything and stays up (a driver VM never powers off).
sluice run --kernel /bed/vmlinuz --initrd /bed/driver/control.cpio --memory 256M \
	--cmdline "console=ttyS0 panic=-1 sluice.dvm.addr=10.99.0.1" </dev/null > /tmp/dvm.out 2>&1 &
spid=$!
wait_check bad-addr-says-why 120 seen "@@DVM error sluice.dvm.addr='10.99.0.1' has no prefix length"
sleep 5		# an init that exited would have panicked the guest (sluice exits 4) by now
check bad-addr-stays-up kill -0 $spid
kill -TERM $spid; wait $spid

# Cleanup: L1's own changes.
ip route del default 2>/dev/null
ip addr flush dev br0
ip link del br0
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
