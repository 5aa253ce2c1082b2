# bench-net: the latency benchmark (issue 11): round-trip percentiles, rate, KVM
# exits, VMM CPU and guest interrupts per request over every I/O path (VF
# passthrough, virtio-net userspace, vhost-net) under sluice and under QEMU,
# against the L1 kernel (sockperf) and DPDK testpmd (icmpecho), 64 B and 1400 B,
# closed loop and open loop (50 requests/s offered), 1000 samples after a warm-up. The host turns the
# results into build/bench/ (table, JSON, SVG; scripts/bench-report). Under
# nested TCG the absolute numbers are emulation-bound: read the ratios.
# bed: timeout=3600
# bed: smp=2
# bed: guest=lat
# bed: tools=iproute2 sockperf dpdk qemu
# bed: host=scripts/bench-report build/bench
NB_SIZES=64,1400 NB_N=1000 NB_RATE=50 NB_TIMEOUT=600
. /bed/netbench-bed.sh
nb_bed_main
