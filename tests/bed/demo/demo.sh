# demo: what `make demo` shows: a guest gets an SR-IOV VF with one command and
# uses it (igbvf drives it, DHCP and ping go through the VF's DMA, which the
# IOMMU confines to the guest's RAM), then the VF goes back to its driver.
# bed: timeout=300
# bed: guest=vf

say() { echo; echo "### $*"; }
pf=$(bed_pf); pfif=$(bed_pf_netdev "$pf")
say "L1: the igb PF $pf ($pfif) makes 2 VFs"
ip link set "$pfif" up
echo 2 > /sys/bus/pci/devices/$pf/sriov_numvfs
vf=$(basename "$(readlink /sys/bus/pci/devices/$pf/virtfn0)")
wait_for 10 test -n "$(bed_driver $vf)"
sluice devices
before=$(bed_driver $vf)
say "sluice run --kernel vmlinuz --initrd vf.cpio --assign $vf"
sluice run --kernel /bed/vmlinuz --initrd /bed/guest/vf.cpio --assign "$vf" </dev/null | tee /tmp/out
st=$?
say "sluice exited $st; $vf is on '$(bed_driver $vf)' again (it was on '$before')"
check demo-guest-used-vf grep -q '@@GUEST lease eth0 10.0.2.' /tmp/out
check demo-vf-given-back test "$(bed_driver $vf)" = "$before"
echo 0 > /sys/bus/pci/devices/$pf/sriov_numvfs
