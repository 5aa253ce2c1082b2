# vmm-boot: sluice boots the default guest with one command; power off, reboot
# and panic end the run with their documented statuses; bad input exits 2.
# bed: timeout=400
# bed: guest=report

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
cp /tmp/out /tmp/boot1.log

run --cpus 2 --memory 256M --cmdline "console=ttyS0 panic=-1"
check boot-2cpu-poweroff-exit0 test "$(rc)" = 0
check boot-2cpu-sees-2cpus seen '@@GUEST cpus=2'

echo 160 > /proc/sys/vm/nr_hugepages
run --memory 256M --hugepages
check boot-hugepages-exit0 test "$(rc)" = 0
check boot-hugepages-used grep -q 'HugePages_Free: *[0-9]' /proc/meminfo
echo 0 > /proc/sys/vm/nr_hugepages

run --cmdline "console=ttyS0 panic=-1 sluice.test=reboot"
check reboot-exit3 test "$(rc)" = 3

run --cmdline "console=ttyS0 panic=-1 sluice.test=panic"
check panic-exit4 test "$(rc)" = 4
check panic-visible-on-console seen 'Kernel panic'

# Console input: the guest reads a line typed into sluice's stdin, and the
# escape key (Ctrl-A x) ends the run with status 5. Input is sent once the
# guest is up: its 8250 driver clears the FIFO when it opens the port.
console_run() {
	rm -f /tmp/in; mkfifo /tmp/in; : > /tmp/out
	sluice run --kernel $K --initrd $I --cmdline "console=ttyS0 panic=-1 sluice.test=console" \
		< /tmp/in > /tmp/out 2>&1 &
	pid=$!
	exec 3> /tmp/in
	wait_for 120 grep -q '@@GUEST pci=' /tmp/out
	sleep 1
	printf "$1" >&3
	( sleep 90; kill -9 $pid 2>/dev/null ) & dog=$!
	wait $pid; echo $? > /tmp/rc
	kill $dog 2>/dev/null
	exec 3>&-
	[ "$(rc)" = 137 ] && { echo "console_run: sluice hung; its output:"; cat /tmp/out; }
}
console_run 'hello sluice\n'
check console-input-reaches-guest seen '@@GUEST read=hello sluice'
check console-input-run-exit0 test "$(rc)" = 0
console_run '\001x'
check escape-key-quits-exit5 test "$(rc)" = 5
check escape-key-says-so seen 'quit from the console'

# Bad input: exit 2, each with a message.
expect_status bad-no-kernel 2 sluice run
expect_status bad-kernel-missing 2 sluice run --kernel /nonexistent
expect_status bad-kernel-not-bzimage 2 sluice run --kernel /bin/busybox
expect_status bad-memory-not-size 2 sluice run --kernel $K --memory lots
expect_status bad-memory-zero 2 sluice run --kernel $K --memory 0
expect_status bad-memory-beyond-host 2 sluice run --kernel $K --memory 1T
expect_status bad-cpus-zero 2 sluice run --kernel $K --cpus 0
expect_status bad-cpus-beyond-limit 2 sluice run --kernel $K --cpus 256
expect_status bad-unknown-option 2 sluice run --kernel $K --frob
dd if=/dev/zero of=/tmp/big.img bs=1M count=80 2>/dev/null
expect_status bad-initrd-does-not-fit 2 sluice run --kernel $K --initrd /tmp/big.img --memory 64M
rm -f /tmp/big.img
expect_status bad-hugepages-none-free 2 sluice run --kernel $K --hugepages
mv /dev/kvm /dev/kvm.hidden
expect_status bad-no-dev-kvm 2 sluice run --kernel $K
mv /dev/kvm.hidden /dev/kvm
chmod 600 /dev/kvm
grep -q '^nobody:' /etc/passwd || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> /etc/passwd
expect_status bad-kvm-permission 2 su nobody -s /bin/sh -c "sluice run --kernel $K"

echo "--- first boot's console:"; cat /tmp/boot1.log
