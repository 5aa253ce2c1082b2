#!/bin/sh
# The driver VM's uplink DHCP client script (busybox udhcpc -s): the lease's
# address and default route on the uplink; a marker on the console for each
# new address. /run/dvm/lease.IF holds the current one (init waits on it).
lease=/run/dvm/lease.$interface
case $1 in
deconfig)
	ip addr flush dev "$interface"
	rm -f "$lease" ;;
bound|renew)
	new="$ip/${mask:-24}"
	if [ "$(cat "$lease" 2>/dev/null)" != "$new" ]; then
		ip addr flush dev "$interface"
		ip addr add "$new" dev "$interface"
		for r in $router; do
			ip route replace default via "$r" dev "$interface"
			break
		done
		echo "$new" > "$lease"
		drv=$(basename "$(readlink "/sys/class/net/$interface/device/driver")")
		echo "@@DVM uplink $interface driver=$drv addr=$ip" > /dev/console
	fi ;;
esac
exit 0
