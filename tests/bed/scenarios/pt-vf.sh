# pt-vf: a guest gets an igb VF with one command and uses it (igbvf probes,
# link up, DHCP over the VF, MSI-X vectors counting); afterwards the VF is
# back on its driver. Two VFs at once; assignment by interface name (the VF
# behind the name is the one assigned); the refusals; SIGTERM, and SIGKILL
# followed by `sluice release`.
# bed: timeout=600
# bed: checks=64
# bed: guest=vf

K=/bed/vmlinuz
I=/bed/guest/vf.cpio
pf=$(bed_pf)
pfif=$(bed_pf_netdev "$pf")
ip link set "$pfif" up		# igbvf in the guest needs the PF out of reset
echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf0=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
vf1=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn1)")
wait_for 10 test -e /sys/bus/pci/devices/$vf0/driver -a -e /sys/bus/pci/devices/$vf1/driver
drv0=$(bed_driver $vf0); drv1=$(bed_driver $vf1)
echo "pf $pf ($pfif), vf0 $vf0 ($drv0), vf1 $vf1 ($drv1)"
# Every "back on its driver" check below compares with these: they must be real.
check vf-starts-on-igbvf test "$drv0" = igbvf
check vf1-starts-on-igbvf test "$drv1" = igbvf
sluice devices

run() { sluice run --kernel $K --initrd $I --memory 256M "$@" </dev/null > /tmp/out 2>&1; echo $? > /tmp/rc; }
rc() { cat /tmp/rc; }
seen() { grep -q "$1" /tmp/out; }
irqs() { sed -n "s/.*@@GUEST irqs $1 \([0-9]*\).*/\1/p" /tmp/out | tr -d '\r'; }
no_records() { [ -z "$(ls /run/sluice/devices 2>/dev/null)" ]; }

run --assign $vf0
cat /tmp/out
check vf-run-exit0 test "$(rc)" = 0
check vf-igbvf-probed seen '@@GUEST nic eth0 driver=igbvf'
check vf-link-up seen '@@GUEST carrier eth0 1'
check vf-dhcp-lease seen '@@GUEST lease eth0 10.0.2.'
check vf-msix-counting test "$(irqs eth0)" -gt 0
check_eq vf-back-on-driver "$(bed_driver $vf0)" "$drv0"
check vf-numvfs-unchanged test "$(cat /sys/bus/pci/devices/$pf/sriov_numvfs)" = 2
check vf-no-record-left no_records
check vf-no-override-left test "$(cat /sys/bus/pci/devices/$vf0/driver_override)" = "(null)"

run --assign $vf0 --assign $vf1
check two-vfs-exit0 test "$(rc)" = 0
check two-vfs-both-lease sh -c "grep -q '@@GUEST lease eth0 10.0.2.' /tmp/out && grep -q '@@GUEST lease eth1 10.0.2.' /tmp/out"
check_eq two-vfs-vf0-back "$(bed_driver $vf0)" "$drv0"
check_eq two-vfs-vf1-back "$(bed_driver $vf1)" "$drv1"

# By name: the device assigned must be the VF behind the name (sluice's
# "BDF: assigned to VM" line names it), not the PF or the other VF.
vf1_netdev() { ls /sys/bus/pci/devices/$vf1/net 2>/dev/null | head -n1 | grep .; }
wait_check by-ifname-vf1-has-netdev 10 vf1_netdev
vfif=$(vf1_netdev)
run --assign "$vfif"
check by-ifname-exit0 test "$(rc)" = 0
check by-ifname-assigned-vf1 seen "$vf1: assigned to VM"
check by-ifname-only-vf1 test "$(grep -c ': assigned to VM' /tmp/out)" = 1
check by-ifname-lease seen '@@GUEST lease eth0 10.0.2.'
check_eq by-ifname-back "$(bed_driver $vf1)" "$drv1"

# Refusals: exit 2 and the host unchanged.
state() { echo "$(bed_driver $vf0) $(bed_driver $vf1) $(cat /sys/bus/pci/devices/$pf/sriov_numvfs) $(ls /run/sluice/devices 2>/dev/null)"; }
s0=$(state)
expect_status refuse-no-such-bdf 2 sluice run --kernel $K --assign 0000:05:00.0
said refuse-no-such-bdf-says-why 'no PCI device 0000:05:00.0'
expect_status refuse-malformed-bdf 2 sluice run --kernel $K --assign 0000:zz:10.0
said refuse-malformed-bdf-says-why "'0000:zz:10.0' is not a PCI address"
expect_status refuse-no-such-ifname 2 sluice run --kernel $K --assign nosuch0
said refuse-no-such-ifname-says-why "no network interface 'nosuch0'"
bridge=$(basename "$(dirname "$(readlink -f /sys/bus/pci/devices/$pf)")")
expect_status refuse-bridge 2 sluice run --kernel $K --assign "$bridge"
said refuse-bridge-says-why "$bridge is a bridge"
expect_status refuse-twice 2 sluice run --kernel $K --assign $vf0 --assign $vf0
said refuse-twice-says-why "$vf0 is assigned twice"
echo Y > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
expect_status refuse-unsafe-interrupts 2 sluice run --kernel $K --assign $vf0
said refuse-unsafe-interrupts-says-why 'allow_unsafe_interrupts is Y'
check_eq refusals-left-host-unchanged "$(state)" "$s0"
run --assign $vf0 --allow-unsafe-interrupts
check unsafe-flag-runs test "$(rc)" = 0
check unsafe-flag-warns seen 'UNSAFE'
echo N > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
check_eq unsafe-run-vf-back "$(bed_driver $vf0)" "$drv0"

# An error half-way through start: vf0 is taken, then vf1's group cannot be
# opened (another process holds it); vf0 must go back, nothing must be left,
# and as the host ends unchanged the status is 2.
echo vfio-pci > /sys/bus/pci/devices/$vf1/driver_override
echo $vf1 > /sys/bus/pci/drivers/$drv1/unbind
echo $vf1 > /sys/bus/pci/drivers_probe
exec 5<> /dev/vfio/$(bed_group $vf1)
run --assign $vf0 --assign $vf1
exec 5>&-
check halfway-error-exit2 test "$(rc)" = 2
check halfway-error-says-why seen 'is open in another process'
check_eq halfway-vf0-back "$(bed_driver $vf0)" "$drv0"
check halfway-vf1-as-found test "$(bed_driver $vf1)" = vfio-pci
check halfway-no-record no_records
echo $vf1 > /sys/bus/pci/drivers/vfio-pci/unbind
echo > /sys/bus/pci/devices/$vf1/driver_override
echo $vf1 > /sys/bus/pci/drivers/$drv1/bind

# The kernel asks for the device back (an admin unbinds it from vfio-pci):
# sluice stops the VM, and the VF ends up on its old driver.
sluice run --kernel $K --initrd $I --assign $vf0 --cmdline "console=ttyS0 sluice.test=hold" \
	</dev/null > /tmp/first 2>&1 &
first=$!
# The request must reach a guest that is up and using the VF, not one booting.
wait_check request-irq-guest-up 120 grep -q '@@GUEST holding' /tmp/first
echo $vf0 > /sys/bus/pci/drivers/vfio-pci/unbind &
wait $first; st=$?
check request-irq-stops-vm test "$st" = 1
check request-irq-says-why grep -q 'asks for the device back' /tmp/first
vf0_back() { same "$(bed_driver $vf0)" "$drv0"; }
wait_check request-irq-vf-back 10 vf0_back
check request-irq-no-record no_records

# The same VF to two guests: the second is refused, the first is unharmed.
sluice run --kernel $K --initrd $I --assign $vf0 --cmdline "console=ttyS0 sluice.test=hold" \
	</dev/null > /tmp/first 2>&1 &
first=$!
wait_check in-use-guest-up 120 grep -q '@@GUEST holding' /tmp/first
expect_status refuse-vf-in-use 2 sluice run --kernel $K --assign $vf0
said refuse-vf-in-use-says-why "$vf0: already assigned to VM"
# Unharmed: after the refusal the first guest still beats, its VF's link up.
heartbeat() { sed -n 's/.*@@GUEST heartbeat \([0-9]*\) carrier=\([0-9]*\).*/\1 \2/p' /tmp/first | tr -d '\r' | tail -n 1; }
beat_after() { set -- "$1" $(heartbeat); [ "${2:-0}" -gt "$1" ] && [ "$3" = 1 ]; }
hb0=$(heartbeat); hb0=${hb0%% *}
check first-guest-unharmed wait_for 10 beat_after "${hb0:-0}"
check first-still-running kill -0 $first

# SIGTERM: the VM stops, the VF goes back.
kill -TERM $first; wait $first; st=$?
check sigterm-exit-143 test "$st" = 143
check_eq sigterm-vf-back "$(bed_driver $vf0)" "$drv0"
check sigterm-no-record no_records

# SIGKILL leaves the VF on vfio-pci with its record; `sluice release` gives it back.
sluice run --kernel $K --initrd $I --assign $vf0 --cmdline "console=ttyS0 sluice.test=hold" \
	</dev/null > /tmp/first 2>&1 &
first=$!
wait_check sigkill-guest-up 120 grep -q '@@GUEST holding' /tmp/first
kill -KILL $first; wait $first; st=$?
check sigkill-exit-137 test "$st" = 137
check sigkill-left-vfio test "$(bed_driver $vf0)" = vfio-pci
check sigkill-left-record test -e /run/sluice/devices/$vf0
expect_status release-after-sigkill 0 sluice release
check_eq release-vf-back "$(bed_driver $vf0)" "$drv0"
check release-no-record no_records
expect_status release-nothing-left 2 sluice release $vf0
said release-nothing-left-says-why "$vf0: sluice holds no record of it"

echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
