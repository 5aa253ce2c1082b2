# Guest: virtio-net against L1 at 10.0.5.1 on the TAP's other end. Reports
# the NIC, pings (sluice.pings=N times, default 5), then (sluice.test=xfer)
# sends 64 MiB to L1 and receives 64 MiB from it with busybox nc, printing
# checksums and times; (sluice.test=hold) stays up after the pings. "@@GUEST"
# lines only.
L1=10.0.5.1
cmdline=" $(cat /proc/cmdline) "
n=0
while [ $n -lt 100 ] && [ ! -e /sys/class/net/eth0 ]; do usleep 100000; n=$((n + 1)); done
i=eth0
echo "@@GUEST nic $i driver=$(basename "$(readlink /sys/class/net/$i/device/driver)") mac=$(cat /sys/class/net/$i/address)"
echo "@@GUEST features $(cat /sys/class/net/$i/device/features)"
ip addr add 10.0.5.2/24 dev $i
ip link set $i up
n=0
while [ $n -lt 120 ] && ! ping -c 1 -W 1 $L1 >/dev/null 2>&1; do n=$((n + 1)); done
count=5
case "$cmdline" in *" sluice.pings="*) count=$(echo "$cmdline" | sed 's/.* sluice.pings=\([0-9]*\) .*/\1/') ;; esac
if ping -c $count -i 0.2 $L1 > /tmp/ping.out 2>&1; then
	echo "@@GUEST ping ok $(grep -o 'min/avg/max = [0-9./]*' /tmp/ping.out)"
else
	echo "@@GUEST ping failed"; cat /tmp/ping.out
fi
now() { cut -d' ' -f1 /proc/uptime; }
case "$cmdline" in
*" sluice.test=xfer "*)
	dd if=/dev/urandom of=/tmp/up.bin bs=1M count=64 2>/dev/null
	echo "@@GUEST up sha=$(sha256sum /tmp/up.bin | cut -d' ' -f1)"
	t0=$(now)
	nc $L1 5001 < /tmp/up.bin
	echo "@@GUEST up done rc=$? secs=$(echo "$(now) - $t0" | bc)"
	rm -f /tmp/up.bin
	# Receiving: nc's stdin must stay open, or it half-closes and L1 stops sending.
	mkfifo /tmp/hold
	t0=$(now)
	nc $L1 5002 < /tmp/hold > /tmp/down.bin &
	pid=$!
	exec 9> /tmp/hold
	wait $pid
	echo "@@GUEST down done rc=$? secs=$(echo "$(now) - $t0" | bc) bytes=$(wc -c < /tmp/down.bin)"
	exec 9>&-
	echo "@@GUEST down sha=$(sha256sum /tmp/down.bin | cut -d' ' -f1)"
	;;
*" sluice.test=hold "*)
	# L1 pulls the TAP from under the device; the guest just stays up.
	echo "@@GUEST holding"
	sleep 600
	;;
esac
echo "@@GUEST packets rx=$(cat /sys/class/net/$i/statistics/rx_packets) tx=$(cat /sys/class/net/$i/statistics/tx_packets)"
grep virtio /proc/interrupts
