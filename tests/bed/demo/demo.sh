# demo: what `make demo` shows: a guest gets an SR-IOV VF with one command and
# uses it (igbvf drives it, DHCP and ping go through the VF's DMA, which the
# IOMMU confines to the guest's RAM), then the VF goes back to its driver.
# bed: timeout=300
# bed: checks=5
# bed: guest=vf

say() { echo; echo "### $*"; }
pf=$(bed_pf); pfif=$(bed_pf_netdev "$pf")
say "L1: the igb PF $pf ($pfif) makes 2 VFs"
ip link set "$pfif" up
echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
# The VF's driver is read again on every poll (a function, not a $(...) once).
vf_driver() { bed_driver "$vf"; }
has_driver() { [ -n "$(vf_driver)" ]; }
wait_check demo-vf-probed 10 has_driver
sluice devices
before=$(vf_driver)
# "Back on its driver" below means back on igbvf, the VF's own driver.
check_eq demo-vf-starts-on-igbvf "$before" igbvf
say "sluice run --kernel vmlinuz --initrd vf.cpio --assign $vf"
# The status is sluice's, not tee's: the run writes it before the pipe ends.
{ sluice run --kernel /bed/vmlinuz --initrd /bed/guest/vf.cpio --assign "$vf" </dev/null; echo $? > /tmp/rc; } |
	tee /tmp/out
st=$(cat /tmp/rc)
say "sluice exited $st; $vf is on '$(vf_driver)' again (it was on '$before')"
check demo-sluice-exit0 test "$st" = 0
check demo-guest-used-vf grep -q '@@GUEST lease eth0 10.0.2.' /tmp/out
check_eq demo-vf-given-back "$(vf_driver)" "$before"
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
