# Guest: report what the guest sees, then act on sluice.test= from the command line.
echo "@@GUEST cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "@@GUEST memkb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
echo "@@GUEST acpi=$(ls /sys/firmware/acpi/tables | tr '\n' ,)"
# The guest's clock source and clock-event device (see vmm/cpuid.c).
echo "@@GUEST clock=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) clockevent=$(cat /sys/devices/system/clockevents/clockevent0/current_device)"
echo "@@GUEST pci=$(ls /sys/bus/pci/devices | tr '\n' ,)"
case " $(cat /proc/cmdline) " in
*" sluice.test=reboot "*) echo "@@GUEST rebooting"; reboot -f ;;
*" sluice.test=panic "*) echo "@@GUEST panicking"; echo c > /proc/sysrq-trigger ;;
*" sluice.test=console "*) read -r line; echo "@@GUEST read=$line" ;;
esac
