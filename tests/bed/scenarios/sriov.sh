# sriov: a PF's name to a guest's VF in one command (`--net vf:PF,...`), and
# `sluice vf` list/create/destroy/set. Every setting is confirmed with iproute2's
# `ip link show PF` (ip-full), not only with sluice's own reading. Two runs at once
# (one with mac=,vlan=0,trust=on) get different VFs and leases; afterwards the VF
# count, each VF's MAC/spoofchk/trust and the PF link are what they were. A run on a
# PF without VFs creates them; SIGKILL, then `sluice release` gives back the binding,
# the VF's settings, the PF link and the VF count. Every bad input exits 2 and leaves
# the host as it was. Guests boot twice (two at once, then one), to keep it short; the
# timeout allows for a loaded machine (about 1100 s at load 13 on 2 cores).
# bed: timeout=500
# bed: checks=86
# bed: guest=vf
# bed: tools=iproute2

K=/bed/vmlinuz
I=/bed/guest/vf.cpio
pf=$(bed_pf)
pfif=$(bed_pf_netdev "$pf")
IP=/usr/sbin/ip-full
dev=/sys/bus/pci/devices
numvfs() { cat $dev/$pf/sriov_numvfs; }
link_up() { $IP -o link show "$pfif" | grep -q '[<,]UP[,>]'; }
# One VF's line of `ip link show PF`: "vf 0 link/ether ..., spoof checking on, ..., trust off"
vfline() { $IP link show "$pfif" | grep "^ *vf $1 " | tr -s ' '; }
vfs_state() { $IP link show "$pfif" | grep '^ *vf ' | tr -s ' '; }
# vf_has N PATTERN: VF N's line has PATTERN
vf_has() { vfline "$1" | grep -q "$2"; }
records() { find /run/sluice -type f ! -name '*.lock' 2>/dev/null | sort | tr '\n' ' '; }
host() { echo "numvfs=$(numvfs) up=$(link_up && echo 1 || echo 0) $(vfs_state | tr '\n' '|') rec=$(records)"; }
echo "pf $pf ($pfif)"
check ipfull-present test -x $IP

# --- sluice vf: list, create, destroy, set, and their refusals -------------------
ip link set "$pfif" down
echo 0 > $dev/$pf/sriov_numvfs
expect_status vf-list-all 0 sluice vf list
said vf-list-shows-pf "$pf $pfif driver igb, 0 of 7 VFs"
expect_status vf-create-too-many 2 sluice vf create "$pfif" 8
said vf-create-too-many-says "give 1 to 7 (its sriov_totalvfs)"
check vf-create-too-many-unchanged test "$(numvfs)" = 0
expect_status vf-create 0 sluice vf create "$pfif" 2
check vf-create-made-two test "$(numvfs)" = 2
expect_status vf-create-again 2 sluice vf create "$pfif" 3
said vf-create-again-says "already has 2 VFs, and the kernel changes the count only from 0"
expect_status vf-list-no-such 2 sluice vf list nosuch0
said vf-list-no-such-says "no network interface 'nosuch0'"
vf1if=$(ls $dev/$(basename "$(readlink $dev/$pf/virtfn1)")/net 2>/dev/null | head -n1)
expect_status vf-list-a-vf 2 sluice vf list "$vf1if"
said vf-list-a-vf-says "is a VF of PF $pf"
expect_status vf-list-not-pf 2 sluice vf list 0000:00:00.0
said vf-list-not-pf-says "not an SR-IOV PF (no SR-IOV capability)"
s0=$(host)
expect_status vf-set-index-range 2 sluice vf set "$pfif" 2 trust=on
said vf-set-index-range-says "VF '2' out of range: it has 2 VFs (0-1)"
expect_status vf-set-multicast-mac 2 sluice vf set "$pfif" 0 mac=01:00:5e:00:00:01
said vf-set-multicast-mac-says "not a multicast or zero address"
expect_status vf-set-malformed-mac 2 sluice vf set "$pfif" 0 mac=02:00:00
said vf-set-malformed-mac-says "bad mac '02:00:00'"
expect_status vf-set-vlan-range 2 sluice vf set "$pfif" 0 vlan=4096
said vf-set-vlan-range-says "give 0-4095"
# igb has no ndo_set_vf_link_state: named, not a generic failure; trust=on before it is undone.
expect_status vf-set-state-unsupported 2 sluice vf set "$pfif" 0 trust=on state=enable
said vf-set-state-unsupported-says "$pf ($pfif) VF 0: link state: not supported by driver igb"
# igb takes a rate only up to the link speed (and only with the link up).
ip link set "$pfif" up
wait_for 10 sh -c "[ \"\$(cat /sys/class/net/$pfif/carrier)\" = 1 ]"
expect_status vf-set-rate-refused 2 sluice vf set "$pfif" 0 rate=5000
said vf-set-rate-refused-says "$pf ($pfif) VF 0: rate: refused"
ip link set "$pfif" down
check vf-set-refusals-unchanged test "$(host)" = "$s0"
expect_status vf-set 0 sluice vf set "$pfif" 1 mac=02:00:00:00:5e:01 vlan=10,qos=2 spoofchk=off trust=on
check vf-set-ip-mac vf_has 1 'link/ether 02:00:00:00:5e:01'
check vf-set-ip-vlan vf_has 1 'vlan 10, qos 2'
check vf-set-ip-spoofchk vf_has 1 'spoof checking off'
check vf-set-ip-trust vf_has 1 'trust on'
vfline 1
ip link set "$pfif" up
wait_for 10 sh -c "[ \"\$(cat /sys/class/net/$pfif/carrier)\" = 1 ]"
expect_status vf-set-rate 0 sluice vf set "$pfif" 1 rate=100
check vf-set-ip-rate vf_has 1 'max_tx_rate 100Mbps'
ip link set "$pfif" down
sluice vf list "$pfif"
sluice vf list "$pfif" --json > /tmp/vf.json
check vf-list-json-mac grep -q '"mac": "02:00:00:00:5e:01"' /tmp/vf.json
check vf-list-json-numvfs grep -q '"numvfs": 2' /tmp/vf.json
check vf-list-json-vlan grep -q '"vlan": 10' /tmp/vf.json
expect_status vf-destroy 0 sluice vf destroy "$pfif"
check vf-destroy-zero test "$(numvfs)" = 0
sluice devices | grep -A3 "^$pf"
check devices-shows-pf sh -c "sluice devices | grep -q 'SR-IOV PF: 0 of 7 VFs'"
check devices-host-bridge-refused sh -c "sluice devices | grep -q '0000:00:00.0 is a host bridge: not a device a guest can own'"

# --- --net vf: the baseline is two VFs with settings of their own, the PF link down --
echo 2 > $dev/$pf/sriov_numvfs
vf0=$(basename "$(readlink $dev/$pf/virtfn0)")
vf1=$(basename "$(readlink $dev/$pf/virtfn1)")
wait_for 10 test -e $dev/$vf0/driver -a -e $dev/$vf1/driver
$IP link set "$pfif" vf 0 mac 02:00:00:00:aa:00 spoofchk on trust off
$IP link set "$pfif" vf 1 mac 02:00:00:00:aa:01 spoofchk on trust off
ip link set "$pfif" down
base=$(host)
echo "baseline: $base"

expect_status run-vf-no-such-pf 2 sluice run --kernel $K --initrd $I --net vf:nosuch0
said run-vf-no-such-pf-says "no network interface 'nosuch0'"
expect_status run-vf-not-a-pf 2 sluice run --kernel $K --initrd $I --net vf:0000:00:00.0
said run-vf-not-a-pf-says "not an SR-IOV PF"
expect_status run-vf-vlan-range 2 sluice run --kernel $K --initrd $I --net vf:$pfif,vlan=4096
said run-vf-vlan-range-says "give 0-4095"
expect_status run-vf-multicast-mac 2 sluice run --kernel $K --initrd $I --net vf:$pfif,mac=03:00:00:00:00:01
said run-vf-multicast-mac-says "not a multicast or zero address"
expect_status run-vf-rate-refused 2 sluice run --kernel $K --initrd $I --net vf:$pfif,rate=5000
said run-vf-rate-refused-says "VF 0: rate: refused"
check run-vf-refusals-unchanged test "$(host)" = "$base"
# Both VFs taken by someone else (on vfio-pci without a record): none is free, and
# the kernel will not add VFs to a non-zero count.
to_vfio() { bed_driver $1 > /tmp/drv.$1; echo vfio-pci > $dev/$1/driver_override
	echo $1 > $dev/$1/driver/unbind; echo $1 > /sys/bus/pci/drivers_probe; }
from_vfio() { echo $1 > /sys/bus/pci/drivers/vfio-pci/unbind; echo > $dev/$1/driver_override
	echo $1 > /sys/bus/pci/drivers/$(cat /tmp/drv.$1)/bind; }
to_vfio $vf0; to_vfio $vf1
s1=$(host)
expect_status run-vf-none-free 2 sluice run --kernel $K --initrd $I --net "vf:$pfif"
said run-vf-none-free-says "all 2 VFs are in use"
check run-vf-none-free-unchanged test "$(host)" = "$s1"
from_vfio $vf0; from_vfio $vf1
check run-vf-vfs-back test "$(bed_driver $vf0)/$(bed_driver $vf1)" = igbvf/igbvf

# --- two runs at once: each its own VF, both leases, the settings given back ------
sluice run --kernel $K --initrd $I --memory 256M --name a --net "vf:$pfif,mac=02:00:00:00:00:42,vlan=0,trust=on" \
	</dev/null > /tmp/a 2>&1 &
a=$!
sluice run --kernel $K --initrd $I --memory 256M --name b --net "vf:$pf" </dev/null > /tmp/b 2>&1 &
b=$!
wait $a; sa=$?
wait $b; sb=$?
cat /tmp/a /tmp/b
check two-runs-exit0 test "$sa/$sb" = 0/0
check run-vf-igbvf grep -q '@@GUEST nic eth0 driver=igbvf' /tmp/a
check run-vf-guest-sees-mac grep -q '@@GUEST mac eth0 02:00:00:00:00:42' /tmp/a
check two-runs-lease-a grep -q '@@GUEST lease eth0 10.0.2.' /tmp/a
check two-runs-lease-b grep -q '@@GUEST lease eth0 10.0.2.' /tmp/b
va=$(sed -n "s/.*$pf ($pfif) VF \([0-9]*\): .*/\1/p" /tmp/a | head -n1)
vb=$(sed -n "s/.*$pf ($pfif) VF \([0-9]*\): .*/\1/p" /tmp/b | head -n1)
echo "a got VF $va, b got VF $vb"
check two-runs-different-vfs sh -c "[ -n '$va' ] && [ -n '$vb' ] && [ '$va' != '$vb' ]"
check two-runs-random-mac grep -q '(random, locally administered)' /tmp/b
check two-runs-host-restored test "$(host)" = "$base"
check_not two-runs-pf-link-down-again link_up

# --- a PF without VFs: the run creates them; a live holder; SIGKILL, `release` ----
echo 0 > $dev/$pf/sriov_numvfs
base0=$(host)
sluice run --kernel $K --initrd $I --memory 256M --name held --net "vf:$pfif,spoofchk=off,trust=on" \
	--cmdline "console=ttyS0 sluice.test=hold" </dev/null > /tmp/first 2>&1 &
first=$!
check hold-guest-up wait_for 240 grep -q '@@GUEST holding' /tmp/first
check hold-created-vfs grep -q "$pf ($pfif): created 7 VFs" /tmp/first
check hold-numvfs-7 test "$(numvfs)" = 7
hv=$(sed -n "s/.*$pf ($pfif) VF \([0-9]*\): .*/\1/p" /tmp/first | head -n1)
check hold-ip-spoofchk-off vf_has "${hv:-x}" 'spoof checking off'
check hold-ip-trust-on vf_has "${hv:-x}" 'trust on'
check hold-pf-link-up link_up
sluice vf list "$pfif"
check vf-list-shows-holder sh -c "sluice vf list $pfif | grep -q \"VM 'held' (pid $first)\""
expect_status destroy-while-held 2 sluice vf destroy "$pfif"
said destroy-while-held-says "is held by VM 'held' (sluice pid $first"
check destroy-while-held-numvfs test "$(numvfs)" = 7
kill -KILL $first; wait $first; st=$?
check sigkill-status-137 test "$st" = 137
check sigkill-left-records sh -c "ls /run/sluice/sriov | grep -q '\.vf$' && ls /run/sluice/sriov | grep -q '\.pf$'"
expect_status release-after-sigkill 0 sluice release
said release-says-vf "settings given back from VM 'held'"
said release-says-count "VF count back to 0"
check release-host-restored test "$(host)" = "$base0"
check_not release-pf-link-down link_up
expect_status release-nothing-left 0 sluice release
said release-nothing-left-says "nothing to release"
