/*
 * sluice: a machine's whole life, as a library, split by privilege.
 *
 * The monitor is the privileged process the user started. It stays small and
 * single-threaded, and it alone changes the host:
 *   machine_check()      1-2. resolve and check everything that can be refused
 *                        (images, /dev/kvm, vCPUs, RAM, hugepages, each device,
 *                        memlock, the jail): the host is untouched, so a refusal
 *                        changes nothing;
 *   machine_take()       3-4. the host changes, each recorded under /run/sluice
 *                        before it is made (VFs and their settings, driver
 *                        bindings, TAPs), then every
 *                        fd the VM needs (VFIO container, groups, devices);
 *   machine_spawn()      5. fork the VMM: it keeps exactly those fds, builds the
 *                        VM from them, enters its jail and runs the guest;
 *   machine_wait()       forward SIGINT/SIGTERM/SIGHUP to the VMM and wait for
 *                        its end, however it ends (power-off, panic, a crash,
 *                        SIGKILL, a seccomp kill);
 *   machine_give_back()  6. everything back, in reverse.
 * The VMM is the forked child: machine_vmm_main(). A guest that breaks a device
 * model holds an unprivileged, jailed process; a VMM that dies leaves the
 * monitor to give the host back.
 */
#ifndef SLUICE_MACHINE_H
#define SLUICE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/jail.h"
#include "sriov/sriov.h"
#include "vfio/vfio.h"
#include "vmm/virtio/viommu_dev.h"
#include "vmm/virtio/virtio_devs.h"

#define MACHINE_MAX_ASSIGN VFIO_MAX_DEVS	/* --assign and --net vf: together */
#define MACHINE_MAX_VFS 8

/* How a run ends, as the exit status of `sluice run` (and of the VMM process). */
enum machine_exit {
	MACHINE_EXIT_OK = 0,		/* the guest powered off */
	MACHINE_EXIT_FAIL = 1,		/* a failure after a valid start */
	MACHINE_EXIT_USAGE = 2,		/* refused: nothing on the host changed */
	MACHINE_EXIT_RESET = 3,		/* the guest rebooted (or triple-faulted) */
	MACHINE_EXIT_PANIC = 4,		/* the guest kernel panicked */
	MACHINE_EXIT_QUIT = 5,		/* the console's quit key */
	/* 128 + N: stopped by signal N, or the VMM died of signal N */
};

/* What the console's input filter asks for, byte by byte. */
enum machine_key {
	MACHINE_KEY_NONE,	/* swallowed */
	MACHINE_KEY_SEND,	/* *out goes to the guest */
	MACHINE_KEY_QUIT,	/* stop the VM (MACHINE_EXIT_QUIT) */
	MACHINE_KEY_HELP,	/* print @help on stderr */
};

struct machine_console {
	int in_fd, out_fd;	/* the guest's COM1: what it reads, where it writes */
	/* NULL: every byte goes to the guest. Called in the VMM, one byte at a time. */
	enum machine_key (*key)(void *opaque, uint8_t in, uint8_t *out);
	void *opaque;
	const char *help;
};

struct machine_config {
	const char *name;
	const char *kernel, *initrd, *cmdline;	/* initrd may be NULL */
	unsigned cpus;
	uint64_t memory;
	bool hugepages;
	bool stats;				/* print KVM's exit counters at the end */
	const char *assign[MACHINE_MAX_ASSIGN];	/* BDF or interface, as typed */
	unsigned nr_assign;
	struct vf_request vf[MACHINE_MAX_VFS];	/* --net vf:PF,...: a VF of PF, assigned */
	unsigned nr_vfs;
	bool allow_unsafe_interrupts;
	bool viommu;				/* the assigned devices behind a virtio-iommu */
	struct virtio_devs_config dev;
	struct jail_config jail;
	struct machine_console console;
};

struct machine_image {
	void *p;
	size_t len;
};

struct machine {
	const struct machine_config *cfg;
	struct machine_image kernel, initrd;	/* mapped read-only; the VMM copies them into RAM */
	char bdf[MACHINE_MAX_ASSIGN][16];	/* resolved --assign, then the claimed VFs */
	struct vf_claim vf[MACHINE_MAX_VFS];	/* phase 3: VFs picked and set up */
	unsigned nr_claimed;
	int kvm_fd;
	int sig_fd;				/* monitor: INT, TERM, HUP, CHLD */
	struct virtio_devs pv;
	bool pv_open;
	struct passthrough pt;
	struct viommu_dev viommu;		/* VMM, with cfg->viommu */
	struct jail jail;
	bool jail_ready;
	pid_t vmm;				/* > 0 while the VMM lives */
	int host_signal;			/* the first INT/TERM/HUP forwarded */
};

/* 1-2. 0, or -errno with a message and nothing held (exit MACHINE_EXIT_USAGE). */
int machine_check(struct machine *m, const struct machine_config *cfg);
/* 3-4. 0, or a MACHINE_EXIT_* status with a message and everything taken given back. */
int machine_take(struct machine *m);
/* 5. 0, or -errno with a message (then machine_give_back()). */
int machine_spawn(struct machine *m);
/* The run's exit status, once the VMM has ended. */
int machine_wait(struct machine *m);
/*
 * For a caller that watches the VMM itself (a supervisor: a pidfd, its own
 * signalfd): the run's exit status if the VMM has ended (reaped, with the
 * message machine_wait gives), -EAGAIN while it runs, -ECHILD with none.
 */
int machine_reap(struct machine *m);
/*
 * Once the VMM has ended, start a new one on the same host resources: the
 * bindings, VF claims and TAPs of phase 3 stay; phase 4 runs again (images
 * mapped and checked, /dev/kvm, VFIO container, groups and devices, vhost,
 * the jail's pipes), then machine_spawn(). VFIO reset the devices when the
 * old VMM's fds closed. Not for machines with disks (-EOPNOTSUPP). 0 or
 * -errno with a message and the VM's fds closed again (the host changes stay:
 * retry, or machine_give_back()).
 */
int machine_respawn(struct machine *m);
/* 6. Mirrors machine_take() and machine_check(); safe after a failure of either. */
void machine_give_back(struct machine *m);

/* The VMM's life: build the VM from @m's fds, jail, run, tear down; exits with the status. */
__attribute__((noreturn)) void machine_vmm_main(struct machine *m);

#endif
