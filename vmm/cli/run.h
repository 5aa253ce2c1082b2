/* sluice: `sluice run`. */
#ifndef SLUICE_RUN_H
#define SLUICE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "sriov/sriov.h"
#include "vmm/virtio/virtio_devs.h"

#define RUN_MAX_DISKS	VIRTIO_DEVS_MAX_DISKS
#define RUN_MAX_NETS	VIRTIO_DEVS_MAX_NETS

#define RUN_MAX_ASSIGN 8	/* = MACHINE_MAX_ASSIGN, checked in run.c */

struct run_opts {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *name;
	unsigned long cpus;
	uint64_t memory;
	bool hugepages;
	const char *assign[RUN_MAX_ASSIGN];	/* --assign BDF|IFNAME, in order */
	unsigned nr_assign;
	bool allow_unsafe_interrupts;
	bool stats;			/* --stats: print exit counters at the end */
	struct virtio_blk_dev_config disk[RUN_MAX_DISKS];	/* in order: disk0, disk1, ... */
	unsigned nr_disks;
	struct virtio_net_dev_config net[RUN_MAX_NETS];	/* net0, net1, ... */
	unsigned nr_nets;
	const char *jail_user;		/* --jail-user USER; NULL: the default */
	bool no_jail;			/* --no-jail */
	bool viommu;			/* --viommu: the assigned device behind a virtio-iommu */
	struct vf_request vf[RUN_MAX_NETS];	/* --net vf:PF,...: a VF of PF, assigned */
	unsigned nr_vfs;
};

#define RUN_DEFAULT_CMDLINE "console=ttyS0 panic=-1"
#define RUN_DEFAULT_MEMORY (256ull << 20)
#define RUN_MIN_MEMORY (2ull << 20)	/* below this no Linux boots; refused by --memory */

/*
 * --disk and --net (vmm/run_virtio_opts.c, pure): add one to @o. 0, or
 * -EINVAL with a message on stderr. --net vf:PF[,mac=MAC][,vlan=N]
 * [,spoofchk=on|off][,trust=on|off][,rate=MBPS] goes to o->vf[].
 */
int run_opt_disk(struct run_opts *o, const char *arg);
int run_opt_net(struct run_opts *o, const char *arg);
/* "52:54:00:12:34:56": a unicast, non-zero MAC. 0 or -EINVAL (no message). */
int run_parse_mac(const char *s, uint8_t mac[6]);

/*
 * Parse `run`'s arguments (argv[0] is "run"). 0; 1 when --help was printed;
 * -EINVAL with a message on stderr for bad input. Pure: touches no host state.
 */
int run_parse_opts(int argc, char **argv, struct run_opts *o);

/* "sluice run: <message>" and a pointer to --help on stderr; returns -EINVAL. */
__attribute__((format(printf, 1, 2)))
int run_opt_error(const char *fmt, ...);

/* Exit statuses of `sluice run`: enum machine_exit (vmm/machine.h). */


#endif
