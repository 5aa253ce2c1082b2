# Driver-VM test hook (scripts/driver-image --hook, with --tools): the
# pt-isolation attacks from inside a driver VM on its own NIC (see
# tests/bed/guest/dma.sh): the VF's TX head write-back aimed first at the VM's
# own memory (a positive control), then at sluice.dma=ADDR on the command line
# (an L1 canary outside guest RAM: the host IOMMU must stop it), with traffic
# to the uplink's gateway meanwhile; then an MSI address outside the local APIC
# window in the VF's MSI-X table (sluice must drop it). Mapping BAR0 while the
# driver owns it needs iomem=relaxed on the command line too.
# Results: "@@DVM attack ..." lines; "@@DVM attack done" last.
addr=$(sed -n 's/.*sluice\.dma=\(0x[0-9a-fA-F]*\).*/\1/p' /proc/cmdline)
up=${DVM_UPLINKS%% *}
bdf=$(basename "$(readlink "/sys/class/net/$up/device")")
if [ -z "$addr" ] || ! grep -q iomem=relaxed /proc/cmdline; then
	echo "@@DVM attack skipped: needs sluice.dma=ADDR and iomem=relaxed on the command line"
	exit 0
fi
echo "@@DVM attack uplink $up $bdf"
gw=$(ip route | sed -n 's/^default via \([^ ]*\).*/\1/p')
ping -i 0.2 "${gw:-10.0.2.2}" >/dev/null 2>&1 &
traffic=$!
vf-dma "$bdf" self 10 && echo "@@DVM attack dma-self ok" || echo "@@DVM attack dma-self failed"
vf-dma "$bdf" "$addr" && echo "@@DVM attack dma-aimed $addr"
sleep 5
vf-dma "$bdf" off
kill $traffic
echo "@@DVM attack alive after the dma"
vf-dma "$bdf" msix 2 0xfed00000 && echo "@@DVM attack msi-poked"
sleep 2
echo "@@DVM attack alive after the msi"
echo "@@DVM attack done"
