# bench-dvm: driver-VM recovery in numbers (issue 10). While a consumer on br0
# pings the wire's gateway through the driver VM 100 times a second: its outage
# (the longest silence between replies) over 5 warm-spare failovers and 5 cold
# restarts after SIGKILL of the driver VM's VMM, and the supervisor's detection
# time of 5 hangs (SIGSTOP; bounded by probe period x misses). Also the round
# trips to the gateway (echoclock, closed loop, 1000 samples) from the consumer
# through the driver VM and from a guest with a VF of its own. Median and max
# of each; numbers only, no pass/fail on speed. Emulation-bound: read ratios.
# bed: timeout=5400
# bed: smp=2
# bed: guest=consumer
# bed: driver=control

. /bed/dvm.sh
N=${N:-5}
ip link add br0 type bridge && ip link set br0 up
$SUP --bridge br0 --initrd /bed/driver/control.cpio --spare vf:$pfif --restart-limit 50 > /tmp/sup.out 2>&1 &
sup=$!
wait_check both-up 900 sh -c "[ \$(sluice driver-vm status br0 | grep -c '^  dvm.* up ') = 2 ]"
dvm_host_lease >/dev/null
# A guest with a VF of its own (igbvf, its lease from the wire), the same image, first.
sluice run --kernel $K --initrd /bed/guest/consumer.cpio --net vf:$pfif \
	--cmdline "console=ttyS0 panic=-1 sluice.lat=1" > /tmp/direct.out 2>&1 &
dir=$!
wait_check direct-watching 900 grep -q '@@GUEST watching' /tmp/direct.out
kill -TERM $dir; wait $dir
sluice run --kernel $K --initrd /bed/guest/consumer.cpio --net bridge:br0 \
	--cmdline "console=ttyS0 panic=-1 sluice.lat=1" > /tmp/consumer.out 2>&1 &
con=$!
wait_check consumer-watching 900 grep -q '@@GUEST watching' /tmp/consumer.out
for who in consumer direct; do
	l=$(grep '@@GUEST lat echoclock' /tmp/$who.out | head -n1)
	echo "$who: $l"
	for p in p50 p99 max; do
		metric "rtt-$who-$p" "$(echo "$l" | sed -n "s/.* $p=\([0-9.]*\).*/\1/p")" us
	done
done

i=0; while [ $i -lt "$N" ]; do i=$((i + 1)); fault warm$i kill 2; done
i=0; while [ $i -lt "$N" ]; do i=$((i + 1)); fault hang$i hang 2; done
kill -TERM $sup; wait $sup
$SUP --bridge br0 --initrd /bed/driver/control.cpio --restart-limit 50 > /tmp/sup.out 2>&1 &
sup=$!
i=0; while [ $i -lt "$N" ]; do i=$((i + 1)); fault cold$i kill 1; done
kill -TERM $sup; wait $sup
check consumer-ran-throughout kill -0 $con
tail -n 5 /tmp/consumer.out
kill -TERM $con; wait $con

# The numbers: median and max of each kind over its N faults.
for k in warm hang cold; do
	for f in outage detect; do
		[ -s /tmp/$f-$k ] || continue
		metric "$f-$k-median" "$(median < /tmp/$f-$k)" ms
		metric "$f-$k-max" "$(sort -n /tmp/$f-$k | tail -n1)" ms
		echo "$f $k: $(tr '\n' ' ' < /tmp/$f-$k)"
	done
done
