# Guest: find the assigned NICs (igbvf), bring each up, DHCP through it, and
# report the lease and the NIC's MSI-X interrupt counts.
n=0
while [ $n -lt 100 ] && ! ls /sys/class/net | grep -qv '^lo$'; do usleep 100000; n=$((n + 1)); done
for i in $(ls /sys/class/net | grep -v '^lo$'); do
	echo "@@GUEST nic $i driver=$(basename "$(readlink /sys/class/net/$i/device/driver)")"
	echo "@@GUEST mac $i $(cat /sys/class/net/$i/address)"
	ip link set "$i" up
	n=0
	while [ $n -lt 100 ] && [ "$(cat /sys/class/net/$i/carrier 2>/dev/null)" != 1 ]; do usleep 100000; n=$((n + 1)); done
	echo "@@GUEST carrier $i $(cat /sys/class/net/$i/carrier 2>/dev/null)"
	udhcpc -i "$i" -n -q -f -t 10 -T 1 -s /bin/dhcp-hook >/dev/null 2>&1 || echo "@@GUEST nolease $i"
	ping -c 3 -W 2 10.0.2.2 >/dev/null 2>&1 && echo "@@GUEST ping $i ok"
	sum=$(grep "$i" /proc/interrupts | awk '{ s = 0; for (k = 2; k <= NF; k++) if ($k ~ /^[0-9]+$/) s += $k; else break; t += s } END { print t + 0 }')
	echo "@@GUEST irqs $i $sum"
	grep "$i" /proc/interrupts
done
case " $(cat /proc/cmdline) " in
*" sluice.test=hold "*)
	# A heartbeat a second, with a counter and eth0's link: the host sees the guest
	# (and its NIC) still going at any later moment.
	echo "@@GUEST holding"; n=0
	while [ ! -e /tmp/never ]; do
		sleep 1; n=$((n + 1))
		echo "@@GUEST heartbeat $n carrier=$(cat /sys/class/net/eth0/carrier 2>/dev/null)"
	done ;;
esac
