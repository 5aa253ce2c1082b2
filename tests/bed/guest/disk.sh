# Guest: virtio-blk checks, chosen by sluice.test= on the command line. The
# payload travels as a tar archive written straight to the disk (no file
# system module needed). Every result is a "@@GUEST" line.
echo "@@GUEST disks=$(ls /sys/block | grep '^vd' | tr '\n' ,)"
for d in /sys/block/vd*; do
	[ -e "$d" ] || continue
	echo "@@GUEST $(basename $d) size=$(cat $d/size) ro=$(cat $d/ro) cache=$(cat $d/queue/write_cache | tr ' ' _)"
done
irqs() { awk '/virtio/ { s = 0; for (k = 2; k <= NF; k++) if ($k ~ /^[0-9]+$/) s += $k; else break; t += s } END { print t + 0 }' /proc/interrupts; }
case " $(cat /proc/cmdline) " in
*" sluice.test=write "*)
	mkdir -p /tmp/w && cd /tmp/w
	dd if=/dev/urandom of=payload bs=1M count=8 2>/dev/null
	echo "@@GUEST payload sha=$(sha256sum payload | cut -d' ' -f1)"
	if tar -cf /dev/vda payload && sync; then echo "@@GUEST wrote ok"; else echo "@@GUEST write failed"; fi
	echo "@@GUEST irqs $(irqs)"
	;;
*" sluice.test=read "*)
	mkdir -p /tmp/r && cd /tmp/r
	echo 3 > /proc/sys/vm/drop_caches
	if tar -xf /dev/vda; then echo "@@GUEST read sha=$(sha256sum payload | cut -d' ' -f1)"; else echo "@@GUEST read failed"; fi
	;;
*" sluice.test=ro "*)
	# vdb carries the vdrive tool (a hostile userspace driver) as a tar archive.
	mkdir -p /tmp/t && tar -xf /dev/vdb -C /tmp/t
	before=$(dd if=/dev/vda bs=4096 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
	if dd if=/dev/urandom of=/dev/vda bs=4096 count=1 conv=fsync 2>/tmp/dd.err; then
		echo "@@GUEST ro-write accepted"
	else
		echo "@@GUEST ro-write refused: $(grep '^dd:' /tmp/dd.err)"
	fi
	# The kernel never sends a write to a read-only disk; vdrive does, and worse.
	bdf=$(basename "$(dirname "$(readlink -f /sys/block/vda/device)")")
	echo "$bdf" > /sys/bus/pci/drivers/virtio-pci/unbind
	/tmp/t/vdrive "$bdf" cfgwin write loop read range read | sed 's/^/@@GUEST /'
	# The device comes back for the kernel driver after all that.
	echo "$bdf" > /sys/bus/pci/drivers/virtio-pci/bind
	n=0; while [ ! -e /sys/block/vda ] && [ $n -lt 100 ]; do usleep 100000; n=$((n + 1)); done
	echo 3 > /proc/sys/vm/drop_caches
	after=$(dd if=/dev/vda bs=4096 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$before" = "$after" ] && echo "@@GUEST ro-unchanged-after-rebind" || echo "@@GUEST ro-changed"
	;;
*" sluice.test=move "*)
	mkdir -p /tmp/t && tar -xf /dev/vdb -C /tmp/t
	bdf=$(basename "$(dirname "$(readlink -f /sys/block/vda/device)")")
	echo "$bdf" > /sys/bus/pci/drivers/virtio-pci/unbind
	/tmp/t/vdrive "$bdf" move | sed 's/^/@@GUEST /'
	;;
esac
grep virtio /proc/interrupts
