/* sluice: `sluice run`. */
#ifndef SLUICE_RUN_H
#define SLUICE_RUN_H

#include <stdbool.h>
#include <stdint.h>

struct run_opts {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *name;
	unsigned long cpus;
	uint64_t memory;
	bool hugepages;
	const char *assign[8];		/* --assign BDF|IFNAME, in order */
	unsigned nr_assign;
	bool allow_unsafe_interrupts;
	bool stats;			/* --stats: print exit counters at the end */
};

#define RUN_DEFAULT_CMDLINE "console=ttyS0 panic=-1"
#define RUN_DEFAULT_MEMORY (256ull << 20)

/*
 * Parse `run`'s arguments (argv[0] is "run"). 0; 1 when --help was printed;
 * -EINVAL with a message on stderr for bad input. Pure: touches no host state.
 */
int run_parse_opts(int argc, char **argv, struct run_opts *o);

/* Exit statuses of `sluice run` beyond the common ones in vmm/cli.h. */
enum {
	RUN_EXIT_RESET = 3,	/* the guest rebooted (or triple-faulted) */
	RUN_EXIT_PANIC = 4,	/* the guest kernel panicked */
	RUN_EXIT_QUIT = 5,	/* the escape key (Ctrl-A x) ended the run */
	/* 128 + N: stopped by signal N (SIGINT, SIGTERM, SIGHUP) */
};


#endif
