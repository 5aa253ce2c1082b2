/* sluice: `sluice run`. */
#ifndef SLUICE_RUN_H
#define SLUICE_RUN_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "sriov/sriov.h"

#define RUN_MAX_DISKS	8
#define RUN_MAX_NETS	8

/* --disk PATH[,ro] */
struct run_disk {
	char path[PATH_MAX];
	bool ro;
};

/* --net tap[:NAME][,mac=MAC][,vhost=on] */
struct run_net {
	char ifname[IFNAMSIZ];		/* "" when sluice picks the name (sluiceN) */
	bool has_mac;
	uint8_t mac[6];
	bool vhost;
};

#define RUN_MAX_ASSIGN 8	/* = VFIO_MAX_DEVS, checked in run.c */

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
	struct run_disk disk[RUN_MAX_DISKS];	/* in order: disk0, disk1, ... */
	unsigned nr_disks;
	struct run_net net[RUN_MAX_NETS];	/* net0, net1, ... */
	unsigned nr_nets;
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

/* Exit statuses of `sluice run` beyond the common ones in vmm/cli.h. */
enum {
	RUN_EXIT_RESET = 3,	/* the guest rebooted (or triple-faulted) */
	RUN_EXIT_PANIC = 4,	/* the guest kernel panicked */
	RUN_EXIT_QUIT = 5,	/* the escape key (Ctrl-A x) ended the run */
	/* 128 + N: stopped by signal N (SIGINT, SIGTERM, SIGHUP) */
};


#endif
