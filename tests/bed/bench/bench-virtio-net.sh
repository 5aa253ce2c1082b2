# bench-virtio-net: virtio-net between the guest and L1 over a TAP, the
# userspace backend against vhost-net: ping-pong latency (ICMP echo, 20 at
# 0.2 s intervals, from the guest) and TCP throughput of 64 MiB each way
# (busybox nc, timed in the guest), median of 3 boots each, 1 vCPU, 512M.
# Under TCG with nested SVM both paths are dominated by emulation: read the
# numbers as relative. Checks only say that each run worked, never how fast.
# bed: timeout=900
# bed: guest=net

K=/bed/vmlinuz
I=/bed/guest/net.cpio
runs=3
val() { sed -n "s/.*@@GUEST $1\([^ ]*\).*/\1/p" "$2" | tr -d '\r' | head -n1; }

dd if=/dev/urandom of=/tmp/src.bin bs=1M count=64 2>/dev/null

# one MODE N: a boot with --net tap:bench0[,vhost=on]; output in /tmp/MODE.N.
one() {
	local mode=$1 n=$2 opt="" pid dog up down out=/tmp/$1.$2
	[ "$mode" = vhost ] && opt=",vhost=on"
	rm -f /tmp/hold1 /tmp/up.bin
	: > "$out"
	mkfifo /tmp/hold1
	nc -l -p 5001 < /tmp/hold1 > /tmp/up.bin & up=$!
	exec 8> /tmp/hold1
	nc -l -p 5002 < /tmp/src.bin > /dev/null & down=$!
	sluice run --kernel $K --initrd $I --memory 512M --net "tap:bench0$opt" \
		--cmdline "console=ttyS0 panic=-1 sluice.test=xfer sluice.pings=20" </dev/null > "$out" 2>&1 &
	pid=$!
	( sleep 600; kill -9 $pid ) 2>/dev/null & dog=$!
	if wait_for 30 test -e /sys/class/net/bench0; then
		ip addr add 10.0.5.1/24 dev bench0
		ip link set bench0 up
	fi
	wait $pid; st=$?
	kill $dog 2>/dev/null
	exec 8>&-
	kill $up $down 2>/dev/null
	wait $up $down 2>/dev/null
	if [ "$st" = 0 ] && grep -q '@@GUEST up done rc=0' "$out" && grep -q '@@GUEST down done rc=0 .*bytes=67108864' "$out" &&
	   grep -q '@@GUEST ping ok' "$out"; then
		pass "bench-$mode-run-$n"
	else
		fail "bench-$mode-run-$n" "exit $st: $(grep -a '@@GUEST' "$out" | tail -n 3 | tr '\r\n' '  ')"
	fi
}

for mode in user vhost; do
	for n in $(seq $runs); do one $mode $n; done
	for n in $(seq $runs); do
		f=/tmp/$mode.$n
		sed -n 's/.*@@GUEST ping ok min\/avg\/max = [0-9.]*\/\([0-9.]*\)\/.*/\1/p' $f | tr -d '\r'
	done | median > /tmp/rtt
	for n in $(seq $runs); do s=$(val 'up done rc=0 secs=' /tmp/$mode.$n); [ -n "$s" ] && echo "64 / $s" | bc -l; done | median > /tmp/tx
	for n in $(seq $runs); do s=$(val 'down done rc=0 secs=' /tmp/$mode.$n); [ -n "$s" ] && echo "64 / $s" | bc -l; done | median > /tmp/rx
	metric net_${mode}_ping_rtt_avg_ms "$(cat /tmp/rtt)" ms
	metric net_${mode}_tcp_guest_to_l1_MiBps "$(printf '%.1f' "$(cat /tmp/tx)")" MiB/s
	metric net_${mode}_tcp_l1_to_guest_MiBps "$(printf '%.1f' "$(cat /tmp/rx)")" MiB/s
done
