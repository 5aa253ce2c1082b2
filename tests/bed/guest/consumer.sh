# Guest: a consumer of a driver VM (--net bridge:BR). It takes a DHCP lease and
# its default route from the driver VM, pings the wire's gateway behind it
# (QEMU's 10.0.2.2, through the driver VM's NAT), then watches that path:
# 100 ICMP echoes a second (echoclock -g), one line per outage longer than
# 30 ms and a heartbeat a second with that second's replies, as long as it
# runs. "@@GUEST" lines, and echoclock's gap and heartbeat lines.
# Any NIC will do: on a VF (--net vf:) the lease comes from the wire itself.
GW=10.0.2.2
cat > /tmp/dhcp.sh <<'EOS'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
echo "@@GUEST lease $interface $ip router $router" > /dev/console
EOS
chmod +x /tmp/dhcp.sh
n=0
while [ $n -lt 100 ] && [ ! -e /sys/class/net/eth0 ]; do usleep 100000; n=$((n + 1)); done
echo "@@GUEST nic eth0 driver=$(basename "$(readlink /sys/class/net/eth0/device/driver)")"
ip link set eth0 up
n=0
until udhcpc -i eth0 -n -q -f -t 5 -T 2 -s /tmp/dhcp.sh >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -ge 20 ] && { echo "@@GUEST nolease"; break; }
done
n=0
until ping -c 1 -W 2 $GW >/dev/null 2>&1; do n=$((n + 1)); [ $n -ge 30 ] && break; done
ping -c 3 -W 2 $GW >/dev/null 2>&1 && echo "@@GUEST wire ok"
# sluice.lat=1: first the round trips to the gateway, closed loop, 1000 after 100 warm-up.
case " $(cat /proc/cmdline) " in
*" sluice.lat=1 "*) echoclock -n 1000 -w 100 -t 2000 $GW | sed 's/^/@@GUEST lat /' ;;
esac
echo "@@GUEST watching"
while :; do
	echoclock -r 100 -g 30 -n 60000 -w 0 -t 2000 $GW | grep -E '^echoclock: (gap|alive)'
done
