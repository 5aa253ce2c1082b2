# virtio-blk: a guest writes a file to a --disk image, syncs and powers off;
# the next boot reads it back identical, and L1 finds it in the image. A
# read-only disk refuses writes (the guest kernel itself, and the device
# with an I/O error when a write reaches it anyway) and sluice runs on.
# Kicks reach sluice's worker through ioeventfds, not MMIO exits. Bad
# --disk input exits 2.
# bed: timeout=400
# bed: checks=42
# bed: guest=disk

K=/bed/vmlinuz
I=/bed/guest/disk.cpio
run() { sluice run --kernel $K --initrd $I --memory 256M --stats "$@" </dev/null > /tmp/out 2>&1; echo $? > /tmp/rc; }
rc() { cat /tmp/rc; }
seen() { grep -q "$1" /tmp/out; }
# val PREFIX: what follows "@@GUEST PREFIX" up to the next space.
val() { sed -n "s/.*@@GUEST $1\([^ ]*\).*/\1/p" /tmp/out | tr -d '\r' | head -n1; }
stat() { sed -n "s/.*stats:.* $1=\([0-9]*\).*/\1/p" /tmp/out | head -n1; }
cmd() { echo "console=ttyS0 panic=-1 sluice.test=$1"; }

truncate -s 64M /tmp/disk.img
# A boot that only probes the disk: the MMIO exits a driver's setup costs.
run --disk /tmp/disk.img --cmdline "$(cmd none)"
check idle-run-exit0 test "$(rc)" = 0
idle_mmio=$(stat user_mmio)
# The baseline of the MMIO-exit checks below: it must be a number, not "".
check idle-mmio-counted test "${idle_mmio:-x}" -ge 0
run --disk /tmp/disk.img --cmdline "$(cmd write)"
grep -aE '@@GUEST|sluice:|virtio' /tmp/out
check write-run-exit0 test "$(rc)" = 0
check write-guest-sees-vda seen '@@GUEST vda size=131072 ro=0'
check write-flush-offered seen '@@GUEST vda .*cache=write_back'
check write-guest-wrote seen '@@GUEST wrote ok'
check write-msix-interrupts sh -c "grep -q 'PCI-MSIX.*virtio0-req' /tmp/out && [ '$(val irqs\ )' -gt 0 ]"
# Writing 8 MiB takes over a hundred requests, each with a kick; through the
# ioeventfd none is an MMIO exit to sluice: as many as the idle boot's.
echo "stats: idle user_mmio=$idle_mmio, write user_mmio=$(stat user_mmio), irqs=$(val irqs\ )"
check write-many-requests test "$(val irqs\ )" -gt 50
check write-kicks-not-mmio-exits test "$(stat user_mmio)" -le $((idle_mmio + 5))
sha=$(val 'payload sha=')
mkdir -p /tmp/x
tar -xf /tmp/disk.img -C /tmp/x
check_eq write-lands-in-image "$(sha256sum /tmp/x/payload | cut -d' ' -f1)" "$sha"

run --disk /tmp/disk.img --cmdline "$(cmd read)"
grep -a '@@GUEST' /tmp/out
check read-run-exit0 test "$(rc)" = 0
check_eq read-back-identical "$(val 'read sha=')" "$sha"

# Without MSI (pci=nomsi) the driver falls back to INTx and the ISR register.
run --disk /tmp/disk.img --cmdline "console=ttyS0 panic=-1 pci=nomsi sluice.test=read"
grep -aE '@@GUEST|virtio' /tmp/out
check intx-run-exit0 test "$(rc)" = 0
check intx-guest-uses-intx grep -qE 'IO-APIC.*virtio' /tmp/out
check_eq intx-read-back-identical "$(val 'read sha=')" "$sha"

# Read-only: the guest kernel refuses writes itself; vdrive, a hostile
# userspace driver in the guest, sends one anyway (the device answers IOERR)
# and then malformed chains (the device sets DEVICE_NEEDS_RESET); after
# resets the device serves reads, and the kernel driver binds it again.
tar -cf /tmp/tools.tar -C /bin vdrive
img_sha=$(sha256sum /tmp/disk.img | cut -d' ' -f1)
run --disk /tmp/disk.img,ro --disk /tmp/tools.tar,ro --cmdline "$(cmd ro)"
grep -aE '@@GUEST|sluice:' /tmp/out
check ro-run-exit0 test "$(rc)" = 0
check ro-guest-sees-ro seen '@@GUEST vda size=131072 ro=1'
check ro-guest-kernel-refuses seen '@@GUEST ro-write refused: .*Operation not permitted'
check ro-pci-cfg-window seen '@@GUEST vdrive: cfgwin num_queues=1'
check ro-device-write-ioerr seen '@@GUEST vdrive: write used status=1'
check ro-loop-needs-reset seen '@@GUEST vdrive: loop needs-reset status=0x4f'
check ro-loop-logged seen 'disk0 (/tmp/disk.img): requestq: descriptor chain longer than the queue size, or a loop'
check ro-outside-ram-needs-reset seen '@@GUEST vdrive: range needs-reset status=0x4f'
check ro-outside-ram-logged seen 'disk0 (/tmp/disk.img): requestq: buffer or indirect table outside guest RAM'
check ro-reads-after-reset test "$(grep -c '@@GUEST vdrive: read used status=0' /tmp/out)" = 2
check ro-kernel-driver-rebinds seen '@@GUEST ro-unchanged-after-rebind'
check_eq ro-image-unchanged "$(sha256sum /tmp/disk.img | cut -d' ' -f1)" "$img_sha"

# The guest moves BAR4 while the queue is live: the doorbell's ioeventfd
# moves with it (a kick at the old address does nothing), and 1000 requests
# after the move cost no MMIO exits to sluice.
run --disk /tmp/disk.img,ro --disk /tmp/tools.tar,ro --cmdline "$(cmd move)"
grep -aE '@@GUEST|sluice:' /tmp/out
check move-run-exit0 test "$(rc)" = 0
check move-old-doorbell-dead seen '@@GUEST vdrive: move to .*old-doorbell timeout'
check move-new-doorbell-works seen '@@GUEST vdrive: move to .*new-doorbell used, reads 1000/1000'
echo "stats: idle user_mmio=$idle_mmio, move user_mmio=$(stat user_mmio)"
check move-kicks-not-mmio-exits test "$(stat user_mmio)" -lt $((idle_mmio + 500))

# Bad input: exit 2, a message naming the disk, nothing created.
truncate -s 1000 /tmp/odd.img
expect_status bad-disk-missing 2 sluice run --kernel $K --disk /tmp/nonexistent.img
check bad-disk-missing-names-it grep -q 'disk0 (/tmp/nonexistent.img): cannot open' /tmp/expect.out
expect_status bad-disk-odd-size 2 sluice run --kernel $K --disk /tmp/disk.img --disk /tmp/odd.img
check bad-disk-odd-size-says-pad grep -q 'disk1 (/tmp/odd.img).*multiple of 512.*truncate -s 1024' /tmp/expect.out
expect_status bad-disk-directory 2 sluice run --kernel $K --disk /tmp
said bad-disk-directory-says-so 'disk0 (/tmp): a directory, not a disk image'
expect_status bad-disk-directory-ro 2 sluice run --kernel $K --disk /tmp,ro
said bad-disk-directory-ro-says-so 'disk0 (/tmp): a directory, not a disk image'
expect_status bad-disk-no-path 2 sluice run --kernel $K --disk ,ro
said bad-disk-no-path-says-why '--disk needs the path of a raw image'
check bad-disk-left-nothing test ! -e /tmp/nonexistent.img
