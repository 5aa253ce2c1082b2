# pt-pf-intx: assign the igb PF itself, by its L1 interface name, to a guest
# that must use INTx (pci=nomsi): the interrupt line goes through KVM's irqfd
# with a resample fd, the guest's igb gets a DHCP lease over it, and the PF
# goes back to igb (its netdev reappears in L1).
# bed: timeout=400
# bed: checks=10
# bed: guest=vf

pf=$(bed_pf); pfif=$(bed_pf_netdev "$pf")
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
check pf-starts-on-igb test "$(bed_driver $pf)" = igb
check pf-has-netdev test -n "$pfif"
sluice run --kernel /bed/vmlinuz --initrd /bed/guest/vf.cpio --assign "$pfif" \
	--cmdline "console=ttyS0 pci=nomsi" </dev/null > /tmp/out 2>&1
st=$?
grep -aE '@@GUEST|sluice:|IO-APIC' /tmp/out
check pf-run-exit0 test "$st" = 0
# The name must have led to the PF itself (sluice's "BDF: assigned" line).
check pf-assigned-by-name grep -q "^sluice: $pf: assigned to VM" /tmp/out
check pf-guest-igb-probed grep -q '@@GUEST nic eth0 driver=igb' /tmp/out
check pf-guest-uses-intx grep -qE 'IO-APIC.*eth0' /tmp/out
check pf-intx-counting sh -c "[ \$(sed -n 's/.*@@GUEST irqs eth0 \([0-9]*\).*/\1/p' /tmp/out | tr -d '\r') -gt 0 ]"
check pf-dhcp-over-intx grep -q '@@GUEST lease eth0 10.0.2.' /tmp/out
check pf-back-on-igb test "$(bed_driver $pf)" = igb
check pf-netdev-back wait_for 10 sh -c "ls /sys/bus/pci/devices/$pf/net | grep -q ."
