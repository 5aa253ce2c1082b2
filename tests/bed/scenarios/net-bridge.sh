# net-bridge: --net bridge:BR. L1 makes br0 (10.0.5.1/24, up); a guest with
# --net bridge:br0 pings it through the TAP sluice created, brought up and
# made br0's port, with the userspace data path and with vhost-net. The TAP
# is in br0 and up while the guest runs, and gone (with its port) after exit
# and after SIGKILL of the monitor. A bridge that does not exist, or an
# interface that is no bridge, exits 2 with its message and creates no
# interface.
# bed: timeout=300
# bed: checks=23
# bed: guest=net

K=/bed/vmlinuz
I=/bed/guest/net.cpio
MAC=52:54:00:5b:00:01
seen() { grep -q "$1" /tmp/out; }
# bridged_tap: the TAP named in sluice's "net0 (tap TAP in br0)" line, or nothing.
bridged_tap() { sed -n 's/.*net0 (tap \([^ )]*\) in br0).*/\1/p' /tmp/out | head -n1; }
master_of() { basename "$(readlink "/sys/class/net/$1/master" 2>/dev/null)" 2>/dev/null; }
is_up() { [ $(($(cat "/sys/class/net/$1/flags") & 1)) = 1 ]; }	# IFF_UP
ifaces() { ls /sys/class/net | tr '\n' ' '; }

ip link add br0 type bridge
ip addr add 10.0.5.1/24 dev br0
ip link set br0 up

# A guest that pings L1 on br0 and powers off.
sluice run --kernel $K --initrd $I --memory 256M --net bridge:br0,mac=$MAC \
	--cmdline "console=ttyS0 panic=-1 sluice.pings=3 sluice.test=ping" </dev/null > /tmp/out 2>&1 &
pid=$!
( sleep 200; kill -9 $pid ) 2>/dev/null & dog=$!
wait_check bridge-says-tap-in-br0 30 grep -q 'net0 (tap sluice[0-9]* in br0): mac .*, created' /tmp/out
tap=$(bridged_tap)
check_eq bridge-tap-master-is-br0 "$(master_of "$tap")" br0
check bridge-tap-is-up is_up "$tap"
check bridge-guest-running kill -0 $pid
wait $pid; rc=$?
kill $dog 2>/dev/null
grep -aE '@@GUEST|sluice:|virtio' /tmp/out
check bridge-run-exit0 test "$rc" = 0
check bridge-guest-has-virtio-net seen "@@GUEST nic eth0 driver=virtio_net mac=$MAC"
check bridge-ping seen '@@GUEST ping ok'
check bridge-tap-gone-after-exit test -n "$tap" -a ! -e "/sys/class/net/$tap"
check bridge-no-port-left sh -c '[ -z "$(ls /sys/class/net/br0/brif)" ]'

# The same with vhost-net moving the frames.
sluice run --kernel $K --initrd $I --memory 256M --net bridge:br0,mac=$MAC,vhost=on \
	--cmdline "console=ttyS0 panic=-1 sluice.pings=3 sluice.test=ping" </dev/null > /tmp/out 2>&1
rc=$?
grep -aE '@@GUEST|sluice:' /tmp/out
check vhost-run-exit0 test "$rc" = 0
check vhost-says-tap-in-br0 seen 'net0 (tap sluice[0-9]* in br0): mac .*, created, vhost-net'
check vhost-ping seen '@@GUEST ping ok'

# SIGKILL of the monitor: the TAP is not persistent, so it and its port still go.
sluice run --kernel $K --initrd $I --memory 256M --net bridge:br0 </dev/null > /tmp/out 2>&1 &
pid=$!
wait_check sigkill-tap-in-br0 30 sh -c "t=\$(sed -n 's/.*net0 (tap \([^ )]*\) in br0).*/\1/p' /tmp/out); [ -n \"\$t\" ] && [ -e /sys/class/net/br0/brif/\$t ]"
tap=$(bridged_tap)
kill -KILL $pid; wait $pid; st=$?
check sigkill-exit-137 test "$st" = 137
check sigkill-tap-gone wait_for 10 test -n "$tap" -a ! -e "/sys/class/net/$tap"
check sigkill-no-port-left wait_for 10 sh -c '[ -z "$(ls /sys/class/net/br0/brif)" ]'

# Bad bridges: exit 2 naming net0 and what to do; no interface appears.
before=$(ifaces)
expect_status bad-bridge-absent 2 sluice run --kernel $K --net bridge:nosuch0
said bad-bridge-absent-says-create "net0: there is no interface nosuch0: create it (ip link add nosuch0 type bridge"
check_eq bad-bridge-absent-no-interface "$(ifaces)" "$before"
expect_status bad-bridge-not-a-bridge 2 sluice run --kernel $K --net bridge:lo
said bad-bridge-not-a-bridge-says-so "net0: lo is a network interface but not a bridge"
check_eq bad-bridge-not-a-bridge-no-interface "$(ifaces)" "$before"
check bridge-br0-untouched test -d /sys/class/net/br0/bridge
