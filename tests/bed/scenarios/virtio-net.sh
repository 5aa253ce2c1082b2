# virtio-net: a guest with --net tap:NAME and L1 at 10.0.5.1 on the TAP's
# other end: ping, then 64 MiB each way over TCP (busybox nc) checked by
# sha256, with the userspace backend and with vhost-net. The TAP sluice
# created is gone after exit (also after SIGKILL); an existing TAP stays; one
# deleted under a running guest is reported once and not spun on. Bad --net
# input (the same mac= twice included) exits 2 and leaves nothing.
# bed: timeout=600
# bed: checks=58
# bed: guest=net

K=/bed/vmlinuz
I=/bed/guest/net.cpio
MAC=52:54:00:5a:00:01
seen() { grep -q "$1" /tmp/out; }
val() { sed -n "s/.*@@GUEST $1\([^ ]*\).*/\1/p" /tmp/out | tr -d '\r' | head -n1; }
# feature N: the guest's negotiated feature bit N (0/1) from its sysfs string.
feature() { sed -n 's/.*@@GUEST features \([01]*\).*/\1/p' /tmp/out | cut -c$(($1 + 1)); }
stat() { sed -n "s/.*stats:.* $1=\([0-9]*\).*/\1/p" /tmp/out | head -n1; }

dd if=/dev/urandom of=/tmp/src.bin bs=1M count=64 2>/dev/null
src_sha=$(sha256sum /tmp/src.bin | cut -d' ' -f1)

# net_run TAP NETOPTS TEST: boot the guest with --net tap[:TAP]NETOPTS while L1
# listens on 5001 (receives) and 5002 (sends /tmp/src.bin). TAP "" lets sluice
# name it; $tap is the name it got. Output in /tmp/out, status in $rc.
net_run() {
	local want=$1 opts=$2 test=$3 pid dog up down t0
	rm -f /tmp/up.bin /tmp/hold1 /tmp/threads
	: > /tmp/out	# not the last run's output while this one starts
	mkfifo /tmp/hold1
	nc -l -p 5001 < /tmp/hold1 > /tmp/up.bin & up=$!
	exec 8> /tmp/hold1
	nc -l -p 5002 < /tmp/src.bin > /dev/null & down=$!
	sluice run --kernel $K --initrd $I --memory 512M --stats --net "tap${want:+:$want}$opts" \
		--cmdline "console=ttyS0 panic=-1 sluice.test=$test" </dev/null > /tmp/out 2>&1 &
	pid=$!
	( sleep 800; kill -9 $pid ) 2>/dev/null & dog=$!
	tap=$want
	[ -n "$tap" ] || { wait_for 30 grep -q 'net0 (tap ' /tmp/out; tap=$(sed -n 's/.*net0 (tap \([^)]*\)).*/\1/p' /tmp/out | head -n1); }
	if wait_for 30 test -e "/sys/class/net/$tap"; then
		ip addr add 10.0.5.1/24 dev "$tap"
		ip link set "$tap" up
	fi
	wait_for 300 grep -q '@@GUEST ping' /tmp/out
	cat /proc/$(vmm_pid $pid)/task/*/comm > /tmp/threads 2>/dev/null	# the VMM's threads
	wait $pid; rc=$?
	kill $dog 2>/dev/null
	exec 8>&-
	kill $up $down 2>/dev/null
	wait $up $down 2>/dev/null
	grep -aE '@@GUEST|sluice:|virtio' /tmp/out
	echo "threads: $(tr '\n' ' ' < /tmp/threads)"
}

# xfer_checks TAG: the checks of one transfer run.
xfer_checks() {
	local t=$1
	check $t-run-exit0 test "$rc" = 0
	check $t-guest-has-virtio-net seen "@@GUEST nic eth0 driver=virtio_net mac=$MAC"
	check $t-offloads-negotiated test "$(feature 0)$(feature 1)$(feature 7)$(feature 11)$(feature 15)" = 11111
	check $t-ping seen '@@GUEST ping ok'
	check $t-up-rc0 seen '@@GUEST up done rc=0'
	check_eq $t-up-64MiB-bytes "$(wc -c < /tmp/up.bin)" 67108864
	check_eq $t-up-64MiB-intact "$(sha256sum /tmp/up.bin | cut -d' ' -f1)" "$(val 'up sha=')"
	check $t-down-rc0 seen '@@GUEST down done rc=0 .*bytes=67108864'
	check_eq $t-down-64MiB-intact "$(val 'down sha=')" "$src_sha"
	check $t-tap-gone-after-exit test ! -e "/sys/class/net/$tap"
	# 64 MiB is over 46000 segments of 1448 bytes; with TSO both ways (the
	# guest's, and the TAP's after TUNSETOFFLOAD) it travels in 64 KiB frames.
	check $t-tx-in-tso-frames test "$(val 'packets rx=[0-9]* tx=')" -lt 16000
	check $t-rx-in-gso-frames test "$(val 'packets rx=')" -lt 16000
	echo "$t: up $(val 'up done rc=0 secs=') s, down $(val 'down done rc=0 secs=') s," \
		"ping $(sed -n 's/.*@@GUEST ping ok min\/avg\/max = \([0-9.\/]*\).*/\1/p' /tmp/out) ms"
}

# Userspace backend, a TAP sluice creates under the name given.
net_run l2tap0 ",mac=$MAC" xfer
xfer_checks user
check user-worker-thread grep -q '^sluice-virtio' /tmp/threads

# vhost-net, and a TAP sluice names itself (sluiceN).
net_run "" ",mac=$MAC,vhost=on" xfer
xfer_checks vhost
check vhost-named-sluiceN expr "$tap" : 'sluice[0-9]' >/dev/null
check vhost-kernel-worker grep -q "^vhost-" /tmp/threads
check vhost-no-sluice-worker sh -c "test -s /tmp/threads && ! grep -q '^sluice-virtio' /tmp/threads"

# An existing TAP is used and left in place.
tunctl -t l1tap0 >/dev/null
net_run l1tap0 ",mac=$MAC" ping
check existing-run-exit0 test "$rc" = 0
check existing-says-existing seen 'net0 (tap l1tap0): mac .*, existing'
check existing-ping seen '@@GUEST ping ok'
check existing-tap-stays test -e /sys/class/net/l1tap0
tunctl -d l1tap0 >/dev/null

# SIGKILL: the TAP sluice created still goes (it is not persistent).
sluice run --kernel $K --initrd $I --net tap:killtap0 </dev/null > /tmp/out 2>&1 &
pid=$!
wait_check sigkill-tap-was-there 30 test -e /sys/class/net/killtap0
kill -KILL $pid; wait $pid; st=$?
check sigkill-exit-137 test "$st" = 137
check sigkill-tap-gone wait_for 10 test ! -e /sys/class/net/killtap0

# The TAP deleted under a running device: one message, NEEDS_RESET, and the
# worker stops watching it (EPOLLERR/HUP for ever) instead of spinning.
# worker_ticks PID: utime + stime of PID's sluice-virtio thread; nothing
# (and non-zero) when PID has no such thread: not found is not idle.
worker_ticks() {
	local t
	for t in /proc/$1/task/*; do
		[ "$(cat $t/comm 2>/dev/null)" = sluice-virtio ] && awk '{ print $14 + $15 }' $t/stat && return
	done
	return 1
}
# worker_idle T0 T1: the worker was found both times and used under 30 ticks between.
worker_idle() {
	[ -n "$1" ] && [ -n "$2" ] || { echo "no thread named sluice-virtio in sluice (pid $pid)"; return 1; }
	[ $(($2 - $1)) -lt 30 ] || { echo "the worker used $(($2 - $1)) ticks in 3 s"; return 1; }
}
sluice run --kernel $K --initrd $I --memory 256M --net tap:deltap0 \
	--cmdline "console=ttyS0 panic=-1 sluice.pings=1 sluice.test=hold" </dev/null > /tmp/out 2>&1 &
pid=$!
if wait_for 30 test -e /sys/class/net/deltap0; then
	ip addr add 10.0.5.1/24 dev deltap0
	ip link set deltap0 up
fi
wait_check tapdel-guest-up 300 grep -q '@@GUEST holding' /tmp/out
check tapdel-guest-pinged seen '@@GUEST ping ok'
ip link delete deltap0
check tapdel-says-gone wait_for 30 grep -q 'net0 (tap deltap0): the TAP is gone' /tmp/out
vmm=$(vmm_pid $pid)
t0=$(worker_ticks $vmm); sleep 3; t1=$(worker_ticks $vmm)
echo "tapdel: worker ${t0:-not found} -> ${t1:-not found} ticks in 3 s"
check tapdel-worker-idle worker_idle "$t0" "$t1"
check tapdel-said-once test "$(grep -c 'the TAP is gone' /tmp/out)" = 1
check tapdel-still-running kill -0 $pid
kill -TERM $pid; wait $pid; rc=$?
check tapdel-sigterm-exit test "$rc" = 143

# Bad input: exit 2, a message naming the device, nothing left behind.
expect_status bad-net-not-a-tap 2 sluice run --kernel $K --net tap:lo
check bad-net-not-a-tap-says-so grep -q 'net0: lo is a network interface but not a TAP' /tmp/expect.out
expect_status bad-net-multicast-mac 2 sluice run --kernel $K --net tap,mac=01:00:5e:00:00:01
said bad-net-multicast-mac-says-why "bad mac '01:00:5e:00:00:01': .*not a multicast"
expect_status bad-net-short-mac 2 sluice run --kernel $K --net tap,mac=52:54:00:12:34
said bad-net-short-mac-says-why "bad mac '52:54:00:12:34': give six hex octets"
expect_status bad-net-backend 2 sluice run --kernel $K --net user
said bad-net-backend-says-why "--net user: the backend is a TAP device"
expect_status bad-net-option 2 sluice run --kernel $K --net tap,queues=4
said bad-net-option-says-why "unknown option 'queues=4': use mac=MAC or vhost=on|off"
expect_status bad-net-same-mac 2 sluice run --kernel $K --net tap,mac=$MAC --net tap,mac=$MAC
said bad-net-same-mac-says-so "mac $MAC is already net0's"
mv /dev/vhost-net /dev/vhost-net.hidden
expect_status bad-net-no-vhost 2 sluice run --kernel $K --net tap:nv0,vhost=on
check bad-net-no-vhost-says-so grep -q 'net0: vhost=on but there is no /dev/vhost-net' /tmp/expect.out
mv /dev/vhost-net.hidden /dev/vhost-net
check bad-net-no-vhost-no-tap test ! -e /sys/class/net/nv0
check no-tap-left sh -c "! ls /sys/class/net | grep -qE '^(sluice|l2tap|killtap|deltap|nv)'"
