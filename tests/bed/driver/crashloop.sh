# Driver-VM test hook (scripts/driver-image --hook): the image whose driver
# always panics. The kernel panics as soon as the VM is ready, every boot.
echo "@@DVM crashloop: panicking"
echo c > /proc/sysrq-trigger
