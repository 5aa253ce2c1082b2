# vmm-boot: sluice boots the default guest with one command; power off, reboot
# and panic end the run with their documented statuses; bad input exits 2.
# bed: timeout=400
# bed: checks=60
# bed: guest=report
# bed: smp=2
# (two L1 CPUs: a 2-vCPU guest on a 1-CPU L1 livelocked under TCG twice; the runner retries a timeout once anyway)

K=/bed/vmlinuz
I=/bed/guest/report.cpio
run() { sluice run --kernel $K --initrd $I "$@" </dev/null > /tmp/out 2>&1; echo $? > /tmp/rc; }
rc() { cat /tmp/rc; }
seen() { grep -q "$1" /tmp/out; }

run --cpus 1 --memory 256M
check boot-1cpu-poweroff-exit0 test "$(rc)" = 0
check boot-1cpu-sees-1cpu seen '@@GUEST cpus=1'
memkb=$(sed -n 's/.*@@GUEST memkb=\([0-9]*\).*/\1/p' /tmp/out | tr -d '\r')
check boot-256M-sees-memory test "${memkb:-0}" -gt 200000 -a "${memkb:-0}" -le 262144
check boot-acpi-tables seen '@@GUEST acpi=.*APIC.*DSDT.*FACP.*MCFG'
# Timers (vmm/cpuid.c): kvm-clock from KVM's paravirtual leaves, and clock events
# on the LAPIC's TSC-deadline mode. Without the deadline bit this guest said
# "APIC timer disabled due to verification failure" and ran them on the PIT,
# two port writes (0x40) each time it set its next timer (bench-net's VF path:
# 1.9 to 8.6 PIO exits per request).
check boot-clocksource-kvm-clock seen '@@GUEST clock=kvm-clock '
check boot-clockevent-tsc-deadline seen '@@GUEST clock=.* clockevent=lapic-deadline'
# The host bridge's _OSC (vmm/acpi.c): Linux asks for every PCIe feature it
# drives, is refused all but the capability structure, and takes that.
check boot-osc-masks-unsupported seen 'PNP0A08:00: _OSC: platform does not support \[PCIeHotplug SHPCHotplug PME AER LTR\]'
check boot-osc-os-controls seen 'PNP0A08:00: _OSC: OS now controls \[PCIeCapability\]'
check_not boot-osc-not-retained seen '_OSC: platform retains control'
cp /tmp/out /tmp/boot1.log

run --cpus 2 --memory 256M --cmdline "console=ttyS0 panic=-1"
check boot-2cpu-poweroff-exit0 test "$(rc)" = 0
check boot-2cpu-sees-2cpus seen '@@GUEST cpus=2'

# Guest RAM on transparent huge pages by default, looked at while the guest runs
# (it waits for a console line): sluice's one MADV_HUGEPAGE mapping ("hg" in
# smaps' VmFlags) is the 256M of RAM, most of what the guest touched is in huge
# pages, and KVM maps guest memory with 2 MiB page table entries (debugfs).
# ram_maps prints "SIZE RSS ANONHUGE" (KiB) for each mapping with flag $2.
ram_maps() {
	awk -v f=" $2" '/^[0-9a-f]+-[0-9a-f]+ / { sz = rss = ah = 0; next }
		/^Size:/ { sz = $2 } /^Rss:/ { rss = $2 } /^AnonHugePages:/ { ah = $2 }
		/^VmFlags:/ { if (index($0 " ", f " ")) print sz, rss, ah }' "/proc/$1/smaps"
}
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
rm -f /tmp/in; mkfifo /tmp/in; : > /tmp/out
sluice run --kernel $K --initrd $I --memory 256M \
	--cmdline "console=ttyS0 panic=-1 sluice.test=console" < /tmp/in > /tmp/out 2>&1 &
pid=$!
exec 3> /tmp/in
wait_for 120 grep -q '@@GUEST pci=' /tmp/out
vmm=$(vmm_pid $pid)	# guest RAM and the VM are the VMM's, not the monitor's
ram_maps "$vmm" hg > /tmp/thp
pages_2m=$(cat /sys/kernel/debug/kvm/$vmm-*/pages_2m 2>/dev/null)
echo "guest RAM while the guest runs (size rss anonhuge KiB): $(cat /tmp/thp); KVM pages_2m=$pages_2m"
read -r ram_size ram_rss ram_thp < /tmp/thp
check boot-thp-guest-up grep -q '@@GUEST pci=' /tmp/out
check boot-thp-one-ram-mapping test "$(wc -l < /tmp/thp)" = 1 -a "${ram_size:-0}" = 262144
check boot-thp-ram-on-huge-pages test "${ram_thp:-0}" -ge 32768 -a $((${ram_thp:-0} * 2)) -ge "${ram_rss:-1}"
check boot-thp-kvm-maps-2m test "${pages_2m:-0}" -gt 0
printf 'bye\n' >&3
( sleep 90; kill -9 $pid 2>/dev/null ) & dog=$!
wait $pid; echo $? > /tmp/rc
kill $dog 2>/dev/null
exec 3>&-
check boot-thp-exit0 test "$(rc)" = 0

# Hugepages, looked at while the guest runs (it waits for a console line):
# guest RAM is reserved from the pool (Total - Free + Rsvd covers 256M), the
# pages the guest touched are taken from it (Free below Total), and all come back.
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
echo 160 > /proc/sys/vm/nr_hugepages
pool=$(meminfo HugePages_Total)
check boot-hugepages-pool-made test "${pool:-0}" = 160
rm -f /tmp/in; mkfifo /tmp/in; : > /tmp/out
sluice run --kernel $K --initrd $I --memory 256M --hugepages \
	--cmdline "console=ttyS0 panic=-1 sluice.test=console" < /tmp/in > /tmp/out 2>&1 &
pid=$!
exec 3> /tmp/in
wait_check boot-hugepages-guest-up 120 grep -q '@@GUEST pci=' /tmp/out
free=$(meminfo HugePages_Free); rsvd=$(meminfo HugePages_Rsvd)
echo "hugepages while the guest runs: total $pool free $free rsvd $rsvd"
check boot-hugepages-used test "${free:-$pool}" -lt "$pool"
check boot-hugepages-ram-reserved test $((pool - ${free:-$pool} + ${rsvd:-0})) -ge 128
vmm=$(vmm_pid $pid)
check boot-hugepages-ram-is-hugetlb test "$(ram_maps "$vmm" ht | wc -l)" = 1 -a -z "$(ram_maps "$vmm" hg)"
printf 'bye\n' >&3
( sleep 90; kill -9 $pid 2>/dev/null ) & dog=$!
wait $pid; echo $? > /tmp/rc
kill $dog 2>/dev/null
exec 3>&-
check boot-hugepages-exit0 test "$(rc)" = 0
check_eq boot-hugepages-given-back "$(meminfo HugePages_Free)" "$pool"
echo 0 > /proc/sys/vm/nr_hugepages

run --cmdline "console=ttyS0 panic=-1 sluice.test=reboot"
check reboot-exit3 test "$(rc)" = 3

run --cmdline "console=ttyS0 panic=-1 sluice.test=panic"
check panic-exit4 test "$(rc)" = 4
check panic-visible-on-console seen 'Kernel panic'

# Console input: the guest reads a line typed into sluice's stdin, and the
# escape key (Ctrl-A x) ends the run with status 5. Input is sent once the
# guest is up: its 8250 driver clears the FIFO when it opens the port.
# console_run NAME INPUT: NAME-guest-up checks the guest was up before INPUT.
console_run() {
	rm -f /tmp/in; mkfifo /tmp/in; : > /tmp/out
	sluice run --kernel $K --initrd $I --cmdline "console=ttyS0 panic=-1 sluice.test=console" \
		< /tmp/in > /tmp/out 2>&1 &
	pid=$!
	exec 3> /tmp/in
	wait_check "$1-guest-up" 120 grep -q '@@GUEST pci=' /tmp/out
	sleep 1
	printf "$2" >&3
	( sleep 90; kill -9 $pid 2>/dev/null ) & dog=$!
	wait $pid; echo $? > /tmp/rc
	kill $dog 2>/dev/null
	exec 3>&-
	[ "$(rc)" = 137 ] && { echo "console_run: sluice hung; its output:"; cat /tmp/out; }
}
console_run console-input 'hello sluice\n'
check console-input-reaches-guest seen '@@GUEST read=hello sluice'
check console-input-run-exit0 test "$(rc)" = 0
console_run escape-key '\001x'
check escape-key-quits-exit5 test "$(rc)" = 5
check escape-key-says-so seen 'quit from the console'

# Bad input: exit 2, each with a message.
expect_status bad-no-kernel 2 sluice run
said bad-no-kernel-says-why 'no kernel: give --kernel BZIMAGE'
expect_status bad-kernel-missing 2 sluice run --kernel /nonexistent
said bad-kernel-missing-says-why 'kernel /nonexistent: No such file or directory'
expect_status bad-kernel-not-bzimage 2 sluice run --kernel /bin/busybox
said bad-kernel-not-bzimage-says-why 'an ELF vmlinux is not supported'
expect_status bad-memory-not-size 2 sluice run --kernel $K --memory lots
said bad-memory-not-size-says-why "--memory 'lots': give a size above zero"
expect_status bad-memory-zero 2 sluice run --kernel $K --memory 0
said bad-memory-zero-says-why "--memory '0': give a size above zero"
expect_status bad-memory-tiny 2 sluice run --kernel $K --memory 64K
said bad-memory-tiny-says-why "--memory '64K': give at least 2M"
expect_status bad-memory-beyond-host 2 sluice run --kernel $K --memory 1T
said bad-memory-beyond-host-says-why "more than this host's .* MiB of RAM"
expect_status bad-cpus-zero 2 sluice run --kernel $K --cpus 0
said bad-cpus-zero-says-why "--cpus '0': give a whole number from 1 to 255"
expect_status bad-cpus-beyond-limit 2 sluice run --kernel $K --cpus 256
said bad-cpus-beyond-limit-says-why "--cpus '256': give a whole number from 1 to 255"
expect_status bad-unknown-option 2 sluice run --kernel $K --frob
said bad-unknown-option-says-why "unknown option '--frob'"
dd if=/dev/zero of=/tmp/big.img bs=1M count=80 2>/dev/null
# 128M holds the kernel (72 MiB) but not the 80 MiB initrd above it.
expect_status bad-initrd-does-not-fit 2 sluice run --kernel $K --initrd /tmp/big.img --memory 128M
said bad-initrd-does-not-fit-says-why 'the initrd is 80 MiB but only'
rm -f /tmp/big.img
expect_status bad-hugepages-none-free 2 sluice run --kernel $K --hugepages
said bad-hugepages-none-free-says-why '0 MiB of free hugepages, 256 MiB needed'
mv /dev/kvm /dev/kvm.hidden
expect_status bad-no-dev-kvm 2 sluice run --kernel $K
said bad-no-dev-kvm-says-why '/dev/kvm does not exist'
mv /dev/kvm.hidden /dev/kvm
chmod 600 /dev/kvm
grep -q '^nobody:' /etc/passwd || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> /etc/passwd
expect_status bad-kvm-permission 2 su nobody -s /bin/sh -c "sluice run --kernel $K"
said bad-kvm-permission-says-why '/dev/kvm: permission denied'

echo "--- first boot's console:"; cat /tmp/boot1.log
