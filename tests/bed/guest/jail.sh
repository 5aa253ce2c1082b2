# Guest for the jail scenario: one VF (igbvf), one virtio-net NIC on L1's TAP and
# one virtio-blk disk, all used while the VMM is jailed: DHCP over the VF, ping
# L1 over the TAP, a block written to the disk and read back; then a heartbeat a
# second until L1 ends the run ("@@GUEST" lines only).
n=0
while [ $n -lt 100 ] && [ "$(ls /sys/class/net | grep -vc '^lo$')" -lt 2 ]; do usleep 100000; n=$((n + 1)); done
drv() { basename "$(readlink /sys/class/net/$1/device/driver)"; }
for i in $(ls /sys/class/net | grep -v '^lo$'); do
	case $(drv "$i") in igbvf) vf=$i ;; virtio_net) vn=$i ;; esac
done
echo "@@GUEST nics vf=${vf:-none} virtio=${vn:-none}"
if [ -n "$vf" ]; then
	ip link set "$vf" up
	n=0
	while [ $n -lt 100 ] && [ "$(cat /sys/class/net/$vf/carrier 2>/dev/null)" != 1 ]; do usleep 100000; n=$((n + 1)); done
	udhcpc -i "$vf" -n -q -f -t 10 -T 1 -s /bin/dhcp-hook >/dev/null 2>&1 || echo "@@GUEST nolease $vf"
fi
if [ -n "$vn" ]; then
	ip addr add 10.0.5.2/24 dev "$vn"
	ip link set "$vn" up
	n=0
	while [ $n -lt 60 ] && ! ping -c 1 -W 1 10.0.5.1 >/dev/null 2>&1; do n=$((n + 1)); done
	ping -c 3 -i 0.2 10.0.5.1 >/dev/null 2>&1 && echo "@@GUEST tap-ping ok"
fi
if [ -b /dev/vda ]; then
	echo "sluice-jail-$(cut -d' ' -f1 /proc/uptime)" > /tmp/blk
	dd if=/tmp/blk of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null
	echo 3 > /proc/sys/vm/drop_caches
	dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c "$(wc -c < /tmp/blk)" | cmp -s - /tmp/blk &&
		echo "@@GUEST disk ok $(cat /tmp/blk)"
fi
echo "@@GUEST holding"
n=0
while :; do sleep 1; n=$((n + 1)); echo "@@GUEST heartbeat $n"; done
