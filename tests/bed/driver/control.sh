# Driver-VM test hook (scripts/driver-image --hook): a control port on the
# downlink address, TCP 7777, one line per connection (busybox nc in a loop):
#   ping   answers "pong" (the supervisor's tests see the VM through the bridge)
#   panic  the guest kernel panics (sysrq c), as a crashing driver would
# Only the downlink reaches the port (nft drops it on the uplinks).
nft add table ip dvmhook &&
	nft "add chain ip dvmhook input { type filter hook input priority filter; policy accept; }" &&
	nft add rule ip dvmhook input tcp dport 7777 iifname != "$DVM_DOWNLINK" drop ||
	echo "@@DVM error control: the nft rule for port 7777 failed"
cat > /run/dvm/control-line <<'EOS'
#!/bin/sh
read -r line
case $line in
ping)	echo pong ;;
panic)	echo "@@DVM control panic" > /dev/console
	echo c > /proc/sysrq-trigger ;;
*)	echo "unknown command '$line' (ping, panic)" ;;
esac
EOS
chmod +x /run/dvm/control-line
echo "@@DVM control listening on $DVM_ADDR:7777"
while :; do
	nc -l -p 7777 -e /run/dvm/control-line
done
