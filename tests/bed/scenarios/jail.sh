# jail: every run is a privileged monitor and a jailed VMM. While a guest uses
# a VF, a TAP and a disk, the VMM has a seccomp filter, no_new_privs, no
# capabilities, an unprivileged uid, namespaces of its own, an empty root and
# only the fds it needs; the monitor holds no VFIO fd. A VMM that crashes
# (SIGSEGV) or is killed (SIGKILL) leaves the monitor to give the VF and the
# TAP back and exit with 128+N; a SIGKILLed monitor takes its VMM along. Refusals (a bad --jail-user, a jail directory
# that cannot be made, a refused device next to an existing TAP) exit 2 with
# the host unchanged; --no-jail says so.
# bed: timeout=400
# bed: checks=55
# bed: guest=jail
# bed: tools=iproute2

K=/bed/vmlinuz
I=/bed/guest/jail.cpio
pf=$(bed_pf)
pfif=$(bed_pf_netdev "$pf")
ip link set "$pfif" up
echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf0=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
wait_for 10 test -e /sys/bus/pci/devices/$vf0/driver
drv0=$(bed_driver $vf0)
check vf-starts-on-igbvf test "$drv0" = igbvf
dd if=/dev/zero of=/tmp/jail.img bs=1M count=4 2>/dev/null
# The dedicated system user: the default when it exists.
echo 'sluice:x:990:990:sluice VMM:/nonexistent:/bin/false' >> /etc/passwd
echo 'sluice:x:990:' >> /etc/group
no_records() { [ -z "$(ls /run/sluice/devices 2>/dev/null)" ]; }
state() { echo "$(bed_driver $vf0) $(cat /sys/bus/pci/devices/$pf/sriov_numvfs) $(ls /run/sluice/devices 2>/dev/null) $(ls /sys/class/net | tr '\n' ' ')"; }

# start NAME OPTS...: boot the guest with the VF, a created TAP jtap0 (L1 at
# 10.0.5.1) and the disk; $mon is the monitor, $vmm its VMM, output in /tmp/j.
start() {
	local name=$1
	shift
	: > /tmp/j
	sluice run --kernel $K --initrd $I --memory 256M --name "$name" --assign $vf0 \
		--net tap:jtap0 --disk /tmp/jail.img "$@" </dev/null > /tmp/j 2>&1 &
	mon=$!
	if wait_for 60 test -e /sys/class/net/jtap0; then
		ip addr add 10.0.5.1/24 dev jtap0
		ip link set jtap0 up
	fi
	wait_for 240 grep -q '@@GUEST holding' /tmp/j
	vmm=$(vmm_pid $mon)
}
# stop_by SIG: kill the VMM with SIG; $rc is the monitor's status.
stop_by() { kill -"$1" "$vmm"; wait $mon; rc=$?; grep -a 'sluice' /tmp/j | tail -n 3; }
given_back() { [ "$(bed_driver $vf0)" = "$drv0" ] && no_records && [ ! -e /sys/class/net/jtap0 ]; }

start jailed
grep -a '@@GUEST\|sluice:' /tmp/j | head -n 20
check vmm-process-found test -n "$vmm"
check guest-dhcp-over-vf grep -q '@@GUEST lease eth[0-9] 10.0.2.' /tmp/j
check guest-ping-over-tap grep -q '@@GUEST tap-ping ok' /tmp/j
check guest-disk-written grep -q '@@GUEST disk ok' /tmp/j
st=/proc/$vmm/status
cat $st | grep -E 'Uid|Gid|Cap|NoNewPrivs|Seccomp'
check vmm-seccomp-filter grep -Eq '^Seccomp:[[:space:]]+2$' $st
check vmm-no-new-privs grep -Eq '^NoNewPrivs:[[:space:]]+1$' $st
check vmm-no-effective-caps grep -Eq '^CapEff:[[:space:]]+0000000000000000$' $st
check vmm-no-permitted-caps grep -Eq '^CapPrm:[[:space:]]+0000000000000000$' $st
check vmm-empty-bounding-set grep -Eq '^CapBnd:[[:space:]]+0000000000000000$' $st
check vmm-runs-as-sluice-user awk '/^Uid:/ { ok = $2 == 990 && $3 == 990 && $4 == 990 } END { exit !ok }' $st
check vmm-gid-sluice awk '/^Gid:/ { ok = $2 == 990 && $3 == 990 } END { exit !ok }' $st
# Per thread: the virtio worker started before the jail, the vCPUs after it.
unconfined_threads() {
	local t
	for t in /proc/$vmm/task/*; do
		grep -Eq '^Seccomp:[[:space:]]+2$' $t/status && grep -Eq '^CapBnd:[[:space:]]+0+$' $t/status &&
			grep -Eq '^CapEff:[[:space:]]+0+$' $t/status || cat $t/comm
	done
}
check vmm-threads-counted test "$(ls /proc/$vmm/task | wc -l)" -ge 3
check vmm-every-thread-confined test -z "$(unconfined_threads)"
for ns in pid mnt net ipc uts; do
	check vmm-own-$ns-namespace test "$(readlink /proc/$vmm/ns/$ns)" != "$(readlink /proc/self/ns/$ns)"
done
ls -la /proc/$vmm/root/
check vmm-root-is-empty test -z "$(ls -A /proc/$vmm/root/ 2>&1)"
# Every fd the VMM holds is one it needs: the console, KVM, VFIO, the TAP, the
# image, and what it made itself (eventfds, epoll, signalfd, guest RAM, pipes).
fds=$(for f in /proc/$vmm/fd/*; do readlink "$f"; done | sort | uniq -c)
echo "$fds"
odd=$(for f in /proc/$vmm/fd/*; do readlink "$f"; done | grep -vE \
	'^(/dev/null|/tmp/j|/dev/kvm|/dev/vfio/vfio|/dev/vfio/[0-9]+|/dev/net/tun|/tmp/jail.img|anon_inode:(kvm-vm|kvm-vcpu:[0-9]+|\[eventfd\]|\[eventpoll\]|\[signalfd\]|\[vfio-device\]|vfio-device)|pipe:\[[0-9]+\]|/memfd:.*)$')
check vmm-fds-only-needed test -z "$odd"
check vmm-fds-hold-vfio-device sh -c "echo '$fds' | grep -q vfio-device"
check vmm-fds-no-vhost-unasked sh -c "! echo '$fds' | grep -q vhost"
mfds=$(for f in /proc/$mon/fd/*; do readlink "$f"; done)
check monitor-holds-no-vfio-fd sh -c "! echo '$mfds' | grep -q vfio"
check monitor-stays-root awk '/^Uid:/ { exit $2 != 0 }' /proc/$mon/status
check monitor-holds-the-tap sh -c "echo '$mfds' | grep -q /dev/net/tun"
stop_by SEGV
check segv-monitor-exit-139 test "$rc" = 139
check segv-says-crashed grep -q "jailed: the VMM (pid $vmm) crashed: signal 11" /tmp/j
check segv-host-given-back wait_for 10 given_back
check segv-vmm-gone test ! -e /proc/$vmm

# This time the TAP exists before the run: after the VMM is SIGKILLed, the
# monitor gives it back as it found it (flags included) and leaves it in place.
ip-full tuntap add jtap0 mode tap
f0=$(cat /sys/class/net/jtap0/tun_flags)
start killed
check kill-vmm-found test -n "$vmm"
check kill-tap-attached grep -q 'net0 (tap jtap0): .*existing' /tmp/j
stop_by KILL
check kill-monitor-exit-137 test "$rc" = 137
check kill-says-killed grep -q "killed: the VMM (pid $vmm) was killed by signal 9" /tmp/j
check kill-existing-tap-stays test -e /sys/class/net/jtap0
check kill-existing-tap-flags-back test "$(cat /sys/class/net/jtap0/tun_flags)" = "$f0"
ip-full tuntap del jtap0 mode tap
check kill-host-given-back wait_for 10 given_back

# --no-jail runs, warns, and the VMM is not confined. Then the monitor itself is
# SIGKILLed: its VMM dies with it (PR_SET_PDEATHSIG, jailed or not), the record
# stays for `sluice release`, and the created TAP goes with the last fd.
start unjailed --no-jail
check nojail-warns grep -q 'no-jail: the VMM runs as root' /tmp/j
check nojail-guest-dhcp grep -q '@@GUEST lease eth[0-9] 10.0.2.' /tmp/j
check nojail-no-filter grep -Eq '^Seccomp:[[:space:]]+0$' /proc/$vmm/status
kill -KILL $mon; wait $mon
check orphan-vmm-dies wait_for 10 test ! -e /proc/$vmm
check orphan-record-stays test -n "$(ls /run/sluice/devices 2>/dev/null)"
check orphan-tap-gone wait_for 10 test ! -e /sys/class/net/jtap0
sluice release
check orphan-release-gives-back wait_for 10 given_back

# Refusals: exit 2, the host unchanged.
s0=$(state)
expect_status bad-jail-user 2 sluice run --kernel $K --initrd $I --assign $vf0 --jail-user nosuchuser
said bad-jail-user-says-why 'nosuchuser'
expect_status root-jail-user 2 sluice run --kernel $K --initrd $I --assign $vf0 --jail-user root
said root-jail-user-says-why 'root'
mv /run/sluice/jail /run/sluice/jail.aside 2>/dev/null
: > /run/sluice/jail
expect_status jail-dir-not-a-dir 2 sluice run --kernel $K --initrd $I --assign $vf0
said jail-dir-not-a-dir-says-why '/run/sluice/jail'
rm -f /run/sluice/jail
mv /run/sluice/jail.aside /run/sluice/jail 2>/dev/null
check jail-refusals-left-host-unchanged test "$(state)" = "$s0"
# A refused device next to an existing TAP: the TAP is not even opened (phase 2
# refuses before phase 3 takes anything), so its flags stay as they were.
ip-full tuntap add jtap9 mode tap
f0=$(cat /sys/class/net/jtap9/tun_flags)
bridge=$(basename "$(dirname "$(readlink -f /sys/bus/pci/devices/$pf)")")
expect_status refused-assign-existing-tap 2 sluice run --kernel $K --initrd $I --net tap:jtap9 --assign "$bridge"
said refused-assign-says-why "$bridge is a bridge"
check refused-assign-tap-flags-unchanged test "$(cat /sys/class/net/jtap9/tun_flags)" = "$f0"
ip-full tuntap del jtap9 mode tap
check refusals-host-unchanged test "$(state)" = "$s0"
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
