/* sluice: the driver-VM supervisor's own state, shared by supervisor.c and status.c. */
#ifndef SLUICE_SANDBOX_DVM_SUPERVISOR_H
#define SLUICE_SANDBOX_DVM_SUPERVISOR_H

#include <limits.h>

#include "sandbox/drivervm/dvm.h"
#include "sriov/vf_netlink.h"
#include "vmm/machine.h"

/* One driver VM's place: its device, its machine, its downlink TAP; it lives across restarts. */
struct slot {
	unsigned idx;
	char name[40];			/* "dvm1-br0": the machine's name in messages and records */
	const char *device;		/* as typed: BDF, interface or vf:PF */
	struct machine_config cfg;
	struct machine m;
	bool checked, taken;
	int pidfd;			/* the current VMM's; -1 when none runs */
	int probe_fd;			/* the packet socket on its downlink TAP */
	int tap_ifindex;
	uint8_t tap_mac[6];		/* the TAP's host-side address: the probes' source */
	int log_fd, null_fd;		/* the guest console's output (a file) and input (/dev/null) */
	unsigned boots;
};

/* What an epoll event is about: kind << 32 | slot. */
enum { EV_SIGNAL = 1, EV_VMM, EV_PROBE };

struct sup {
	const struct dvm_config *c;
	struct slot slot[DVM_SLOTS];
	unsigned nr;
	struct dvm_policy pol;
	struct sriov_nl nl;		/* bridge ports */
	int br_ifindex;
	int ep, sig_fd, lock_fd;
	uint8_t mac[6];			/* the downlink's, shared by every driver VM */
	char cmdline[1024];
	char state_path[PATH_MAX];
	int stop_signal;		/* the INT/TERM/HUP that asked us to stop */
	int done;			/* non-zero: stop with this status */
	time_t started;
};

int ep_add(struct sup *s, int fd, unsigned kind, unsigned idx);
void ep_del(struct sup *s, int fd);

/* status.c: the run directory, the bridge's lock, the state file `driver-vm status` reads. */
int dvm_state_init(struct sup *s);
void dvm_status_write(struct sup *s);
void dvm_state_exit(struct sup *s);

#endif
