# Guest (pt-attacks): a hostile driver of its own assigned VF, one attack after
# the other, each bracketed by @@GUEST markers L1 waits for (tests/tools/vf-dma.c
# does the work): DMA at the MSI window, an MSI-X storm, config-space tampering,
# a flood of refused MSI messages; then DMA left running while L1 stops sluice.
n=0
while [ $n -lt 100 ] && [ ! -e /sys/class/net/eth0 ]; do usleep 100000; n=$((n + 1)); done
bdf=$(basename "$(readlink /sys/class/net/eth0/device)")
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
n=0
while [ $n -lt 100 ] && [ "$(cat /sys/class/net/eth0/carrier)" != 1 ]; do usleep 100000; n=$((n + 1)); done
ping -i 0.2 10.0.2.2 >/dev/null 2>&1 &
traffic=$!
irqs() { grep eth0 /proc/interrupts | awk '{ for (k = 2; k <= NF; k++) if ($k ~ /^[0-9]+$/) s += $k; else break } END { print s + 0 }'; }
works() { ping -c 2 -W 2 10.0.2.2 >/dev/null 2>&1 && echo ok || echo broken; }

# 1. TX head write-back aimed at the local APIC's MSI window: a DMA write there is an
# interrupt request, which the host's interrupt remapping must refuse.
echo "@@GUEST msi-window-begin"
vf-dma "$bdf" 0xfee00000
sleep 5
vf-dma "$bdf" off
echo "@@GUEST msi-window-end nic=$(works)"

# 2. The VF raises every MSI-X vector as fast as this vCPU can ask it to, 10 s.
sleep 2
before=$(irqs)
echo "@@GUEST storm-begin"
vf-dma "$bdf" storm 10
echo "@@GUEST storm-end guest-irqs=$(($(irqs) - before)) nic=$(works)"

# 3. Config space: L1 compares the VF's real config space before and after.
echo "@@GUEST tamper-ready"
sleep 3
# Where the host's AER, ARI (and on other devices SR-IOV, ATS) live: all hidden.
vf-dma "$bdf" cfgfill 0x100 0x200 0xffffffff
echo "@@GUEST ext-0x100=$(vf-dma "$bdf" cfgr 0x100)"
# Expansion ROM BAR: sized and enabled.
vf-dma "$bdf" cfgw 0x30 4 0xfffff801
echo "@@GUEST rom=$(vf-dma "$bdf" cfgr 0x30)"
vf-dma "$bdf" cfgw 0x30 4 0
# BAR0 moved by 2 MiB with decode on, read back, put back.
bar0=$(vf-dma "$bdf" cfgr 0x10)
moved=$(printf '0x%08x' $((bar0 + 0x200000)))
vf-dma "$bdf" cfgw 0x10 4 "$moved"
echo "@@GUEST bar0-moved=$(vf-dma "$bdf" cfgr 0x10) wanted=$moved"
vf-dma "$bdf" cfgw 0x10 4 "$bar0"
echo "@@GUEST bar0-back=$(vf-dma "$bdf" cfgr 0x10) was=$bar0"
# Bus master off and on while the ping's DMA runs.
cmd=$(vf-dma "$bdf" cfgr 0x4)
i=0
while [ $i -lt 5 ]; do
	vf-dma "$bdf" cfgw 0x4 2 $((cmd & 0xfffb)); usleep 200000
	vf-dma "$bdf" cfgw 0x4 2 $((cmd & 0xffff)); usleep 200000
	i=$((i + 1))
done
# PMCSR to D3hot, then a BAR access, then D0.
pm=$(vf-dma "$bdf" cap 1)
if [ "$pm" != 0 ]; then
	vf-dma "$bdf" cfgw $((pm + 4)) 2 3
	echo "@@GUEST d3hot-bar0-status=$(vf-dma "$bdf" bar0r 0x8)"
	vf-dma "$bdf" cfgw $((pm + 4)) 2 0
else
	echo "@@GUEST d3hot-bar0-status=no-pm-capability"
fi
echo "@@GUEST tamper-done nic=$(works)"
sleep 3

# 4. A log flood attempt: 2000 refused messages, alternating, into a live entry.
echo "@@GUEST flood-begin"
vf-dma "$bdf" flood 2000 0
echo "@@GUEST flood-end nic=$(works)"

# 5. DMA keeps running (head write-back into our page, ping every 50 ms) until L1
# stops sluice.
kill $traffic
ping -i 0.05 10.0.2.2 >/dev/null 2>&1 &
vf-dma "$bdf" selfon &
sleep 1
echo "@@GUEST holding-dma"
n=0
while [ ! -e /tmp/never ]; do
	sleep 1; n=$((n + 1))
	echo "@@GUEST heartbeat $n"
done
