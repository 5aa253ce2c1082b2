# net-latency: the latency benchmark (issue 11) in short: every I/O path (VF
# passthrough, virtio-net userspace, vhost-net) under sluice and QEMU, against
# both far ends (the L1 kernel's sockperf server, DPDK testpmd icmpecho), 64 B,
# closed and open loop, a few samples each. Checks only that each path ran,
# every sample was answered and (on the host) that the JSON and SVG files the
# report makes parse. No check on speed: the numbers are `make bench`'s.
# bed: timeout=900
# bed: smp=2
# bed: guest=lat
# bed: tools=iproute2 sockperf dpdk qemu
# bed: host=scripts/bench-report --check
NB_SIZES=64 NB_N=50 NB_RATE=20 NB_TIMEOUT=240
. /bed/netbench-bed.sh
nb_bed_main
