# guest: tools=sockperf
# Guest: the latency benchmark's client (tests/bed/l1/netbench.sh drives it).
# Its one NIC (igbvf on a VF, or virtio-net) gets sluice.ip=ADDR/LEN and the
# static neighbours sluice.neigh=IP@MAC,... (so no ARP reply from the other
# far end can steal an address). Then, for each far end of sluice.far=
# (kernel@IP: sockperf UDP against a sockperf server; dpdk@IP: echoclock ICMP
# against testpmd icmpecho), each size of sluice.sizes= and each mode (closed
# loop; open loop at sluice.rate= per second), sluice.n= samples after a
# warm-up: "@@GUEST mark begin KEY" and "@@GUEST mark end KEY" around the run
# (the host samples KVM's counters there), then "@@GUEST result KEY ...".
cmdline=" $(cat /proc/cmdline) "
arg() { echo "$cmdline" | sed -n "s/.* sluice\.$1=\([^ ]*\) .*/\1/p"; }
ip_len=$(arg ip); far=$(arg far); sizes=$(arg sizes); n=$(arg n); rate=$(arg rate)
: "${sizes:=64}" "${n:=1000}" "${rate:=200}"

k=0
while [ $k -lt 100 ] && ! ls /sys/class/net | grep -qv '^lo$'; do usleep 100000; k=$((k + 1)); done
nic=$(ls /sys/class/net | grep -v '^lo$' | head -n1)
echo "@@GUEST nic $nic driver=$(basename "$(readlink /sys/class/net/$nic/device/driver)") mac=$(cat /sys/class/net/$nic/address)"
ip addr add "$ip_len" dev "$nic"
ip link set "$nic" up
k=0
while [ $k -lt 100 ] && [ "$(cat /sys/class/net/$nic/carrier 2>/dev/null)" != 1 ]; do usleep 100000; k=$((k + 1)); done
for e in $(echo "$(arg neigh)" | tr , ' '); do
	arp -i "$nic" -s "${e%%@*}" "${e#*@}" || echo "@@GUEST neigh-failed $e"
done

# The NIC's interrupts: every /proc/interrupts line naming it (igbvf: NIC-rx-0,
# NIC-tx-0, NIC; virtio-net: virtioN-input.0, -output.0, -config).
drv=$(basename "$(readlink /sys/class/net/$nic/device/driver)")
pat=$nic
[ "$drv" = virtio_net ] && pat=$(basename "$(readlink /sys/class/net/$nic/device)")
irqs() { grep -E "$pat" /proc/interrupts | awk '{ for (k = 2; k <= NF && $k ~ /^[0-9]+$/; k++) t += $k } END { print t + 0 }'; }

# sockperf's summary as key=value: percentiles of the round trip (--full-rtt), us.
sp_summary() {
	awk '
	/\[Total Run\]/ { for (i = 1; i <= NF; i++) if ($i ~ /^SentMessages=/) { sub(/.*=/, "", $i); sub(/;/, "", $i); printf "requests=%s ", $i } }
	/\[Valid Duration\]/ { for (i = 1; i <= NF; i++) {
		if ($i ~ /^RunTime=/) { v = $i; sub(/.*=/, "", v); secs = v }
		if ($i ~ /^SentMessages=/) { v = $i; sub(/.*=/, "", v); sub(/;/, "", v); sent = v }
		if ($i ~ /^ReceivedMessages=/) { v = $i; sub(/.*=/, "", v); got = v } }
		printf "samples=%s answered=%s secs=%s ", sent, got, secs }
	/dropped messages/ { v = $0; sub(/.*dropped messages = /, "", v); sub(/;.*/, "", v); printf "lost=%s ", v }
	/<MAX> observation/ { printf "max=%s ", $NF }
	/<MIN> observation/ { printf "min=%s ", $NF }
	/---> percentile / { p = $4; sub(/0+$/, "", p); sub(/\.$/, "", p); printf "p%s=%s ", p, $NF }
	/avg-rtt=/ { v = $0; sub(/.*avg-rtt=/, "", v); sub(/ .*/, "", v); printf "avg=%s ", v }
	' "$1"
}

# one FAR ADDR SIZE MODE
one() {
	local f=$1 a=$2 s=$3 m=$4 key="far=$1 size=$3 mode=$4" i0 t out=/tmp/run.out res
	i0=$(irqs)
	echo "@@GUEST mark begin $key"
	if [ "$f" = kernel ]; then
		if [ "$m" = closed ]; then
			# sockperf counts a valid window of -t minus its 0.4 s warm-up.
			t=$(awk -v n=$n -v r=${probe:-500} 'BEGIN { t = int(n * 2 / r + 2.5); print (t < 3 ? 3 : (t > 180 ? 180 : t)) }')
			# --mps caps what sockperf preallocates for its samples (rate x time:
			# unbounded, it fails with ENOMEM in a small guest); 5x the probed rate
			# never paces a closed loop.
			sockperf ping-pong -i "$a" -m "$s" -t "$t" --mps=$((probe * 5)) --full-rtt > $out 2>&1
		else
			t=$(awk -v n=$n -v r=$rate 'BEGIN { print int(n * 1.1 / r + 1.5) }')
			sockperf under-load -i "$a" -m "$s" -t "$t" --mps="$rate" --reply-every=1 --full-rtt > $out 2>&1
		fi
		res="rc=$? $(sp_summary $out)"
	else
		w=$((n / 10 + 10))
		if [ "$m" = closed ]; then echoclock -s "$s" -n "$n" -w $w "$a" > $out 2>&1
		else echoclock -s "$s" -n "$n" -w $w -r "$rate" "$a" > $out 2>&1; fi
		res="rc=$? requests=$((n + w)) $(sed -n 's/^echoclock: //p' $out | sed 's/dst=[^ ]* size=[^ ]* mode=[^ ]* //')"
	fi
	echo "@@GUEST mark end $key"
	echo "@@GUEST result $key $res irqs=$(( $(irqs) - i0 ))"
	case "$res" in
	"rc=0 "*samples=*) ;;
	*) tail -n 5 $out | sed "s/^/@@GUEST tool $key: /" ;;
	esac
	# Let replies still in flight (an overloaded open loop) drain before the next run.
	sleep 1
}

for e in $(echo "$far" | tr , ' '); do
	f=${e%%@*}; a=${e#*@}
	k=0
	if [ "$f" = kernel ]; then
		while [ $k -lt 30 ] && ! ping -c 1 -W 1 "$a" >/dev/null 2>&1; do k=$((k + 1)); done
		# A probe for the closed loop's duration: enough time for n samples. 3 s,
		# since sockperf's start and warm-up eat most of a 1 s run under TCG
		# (a 1 s probe saw 4/s where the run then did 15/s, and ran 325 s).
		sockperf ping-pong -i "$a" -m 64 -t 3 --full-rtt > /tmp/probe.out 2>&1
		probe=$(sed -n 's/.*\[Valid Duration\].*RunTime=\([0-9.]*\).*ReceivedMessages=\([0-9]*\).*/\2 \1/p' /tmp/probe.out |
			awk '$2 > 0 { printf "%d", $1 / $2 }')
		[ "${probe:-0}" -gt 0 ] || probe=100
	else
		while [ $k -lt 30 ] && ! echoclock -n 1 -w 0 "$a" >/dev/null 2>&1; do k=$((k + 1)); done
	fi
	echo "@@GUEST far $f $a reachable-after=$k"
	for s in $(echo "$sizes" | tr , ' '); do
		for m in closed open; do one "$f" "$a" "$s" "$m"; done
	done
done
echo "@@GUEST done"
