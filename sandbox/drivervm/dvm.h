/*
 * sluice: driver VMs. A NIC's driver runs in a small VM that owns the NIC
 * through VFIO and serves other guests and the host through a host bridge:
 *
 *   consumers (TAPs in BR, the host on BR) <-> BR <-> the driver VM's downlink
 *   (virtio-net on vhost-net, a TAP in BR) <-> its kernel (routes, NATs, serves
 *   DHCP) <-> the NIC's driver on the device it owns (the uplink).
 *
 * The supervisor (supervisor.c) is the monitor of one or two driver VMs: each
 * is a machine (vmm/machine.h) whose VMM runs jailed. It watches each VMM's end
 * (a pidfd: power-off, reboot, panic through pvpanic, a crash, SIGKILL) and
 * probes each driver VM's kernel through its downlink TAP with ARP every probe
 * period (probe.c): a stopped VMM or a wedged guest misses them. A failed
 * driver VM is restarted cold (its VMM killed; VFIO resets the device when the
 * fds close; a new VMM on the same bindings and TAP), after a backoff and up to
 * a limit; with a warm spare (a second driver VM on a second device, booted
 * ahead, its TAP not in BR) the bridge ports are swapped first and the freed
 * device boots the next spare. Consumers take no action: their TAPs stay in BR,
 * and both driver VMs answer with one MAC and address.
 *
 * The decisions are pure (policy.c, unit-tested); the supervisor carries them out.
 */
#ifndef SLUICE_SANDBOX_DVM_H
#define SLUICE_SANDBOX_DVM_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/jail.h"

#define DVM_SLOTS		2		/* the primary and a warm spare */
#define DVM_RUNDIR		"/run/sluice/driver-vm"
#define DVM_DEFAULT_KERNEL	"/var/lib/sluice/driver-vm/vmlinuz"
#define DVM_DEFAULT_INITRD	"/var/lib/sluice/driver-vm/initrd.cpio"
#define DVM_DEFAULT_ADDR	"10.99.0.1/24"
#define DVM_DEFAULT_MEMORY	(256ull << 20)
#define DVM_DEFAULT_PROBE_MS	10
#define DVM_DEFAULT_MISSES	10
#define DVM_DEFAULT_BOOT_S	60
#define DVM_DEFAULT_RESTARTS	5
#define DVM_STABLE_MS		30000	/* up this long: earlier failures are forgiven */
#define DVM_BACKOFF_MIN_MS	100
#define DVM_BACKOFF_MAX_MS	5000

/* `sluice driver-vm run`, as parsed (vmm/cli/driver_vm_opts.c). */
struct dvm_config {
	const char *bridge;
	const char *device;		/* BDF, interface, or vf:PF */
	const char *spare;		/* NULL: no warm spare */
	const char *kernel, *initrd;
	const char *append;		/* more kernel command line for the driver VMs, or NULL */
	uint32_t addr;			/* the downlink's address, network order */
	unsigned prefix;
	uint64_t memory;
	unsigned probe_ms, misses;	/* hung: no answer for misses * probe_ms */
	unsigned boot_s;		/* a driver VM must answer within this after its start */
	unsigned restart_limit;		/* consecutive failures of one device before giving up */
	bool allow_unsafe_interrupts;
	struct jail_config jail;
	const char *rundir;		/* DVM_RUNDIR */
};

/* Supervise until SIGINT/SIGTERM/SIGHUP (0) or the restart limit (1); 2: refused, host untouched. */
int dvm_supervise(const struct dvm_config *c);

/* ---- Pure: failures and the policy (policy.c) ---- */

enum dvm_fail {
	DVM_FAIL_NONE,
	DVM_FAIL_EXIT,		/* the VMM exited: the guest powered off, rebooted, or the VMM failed */
	DVM_FAIL_PANIC,		/* the guest kernel panicked (pvpanic): an oops, a soft lockup */
	DVM_FAIL_CRASH,		/* the VMM died of a signal: a crash, a seccomp kill, SIGKILL */
	DVM_FAIL_HANG,		/* up, then no probe answered for misses * probe period */
	DVM_FAIL_BOOT,		/* no probe answered within the boot timeout, or no VMM started */
};

/* "exit", "panic", "crash", "hang", "boot" ("none"). */
const char *dvm_fail_name(enum dvm_fail f);
/* The failure a VMM's exit status (enum machine_exit, 128 + N) stands for. */
enum dvm_fail dvm_fail_of_status(int status);

enum dvm_state {
	DVM_OFF,	/* not started */
	DVM_BOOTING,	/* its VMM runs; no probe answered yet */
	DVM_UP,		/* answers probes */
	DVM_DOWN,	/* failed; a restart is due at restart_at */
	DVM_GONE,	/* failed more than the restart limit: given back */
};

const char *dvm_state_name(enum dvm_state s);

struct dvm_timing {
	uint64_t probe_ms;
	unsigned misses;
	uint64_t boot_ms;
	unsigned restart_limit;
};

struct dvm_slot_state {
	enum dvm_state state;
	uint64_t started;	/* ms: the current VMM's start */
	uint64_t up_since;	/* ms: its first answer */
	uint64_t last_answer;	/* ms: its last answer */
	uint64_t restart_at;	/* ms, while DOWN */
	unsigned fails;		/* consecutive failures (none after DVM_STABLE_MS up) */
};

struct dvm_policy {
	struct dvm_timing t;
	unsigned nr_slots;
	unsigned active;		/* the slot whose downlink is in the bridge */
	struct dvm_slot_state s[DVM_SLOTS];
	uint64_t outage_from;		/* ms: the active's last answer before it failed; 0: none */
	uint64_t last_outage_ms;	/* the last outage, failure to the new active's first answer */
	uint64_t last_detect_ms;	/* the last failure: its last sign of life to its detection */
	enum dvm_fail last_fail;
	unsigned last_fail_slot;
	uint64_t last_fail_at;		/* ms (CLOCK_MONOTONIC): when the last failure was detected */
	unsigned failovers, restarts;
};

/* What the supervisor must do (bits). */
enum {
	DVM_DO_FAILOVER = 1,	/* swap the bridge ports: p->active changed */
	DVM_DO_RESTART = 2,	/* restart the slot at its restart_at */
	DVM_DO_DROP = 4,	/* give the slot back and go on without it */
	DVM_DO_STOP = 8,	/* give everything back and stop: no driver VM is left */
	DVM_BECAME_UP = 16,	/* (answered) the slot's first answer */
};

void dvm_policy_init(struct dvm_policy *p, const struct dvm_timing *t, unsigned nr_slots);
/* Backoff before the restart after @fails consecutive failures: 100 ms doubling, at most 5 s. */
uint64_t dvm_backoff_ms(unsigned fails);
/* The slot's VMM started at @now. */
void dvm_policy_started(struct dvm_policy *p, unsigned slot, uint64_t now);
/* A probe answer from the slot at @now: DVM_BECAME_UP, DVM_DO_FAILOVER (a spare came up while the active is down). */
unsigned dvm_policy_answered(struct dvm_policy *p, unsigned slot, uint64_t now);
/* DVM_FAIL_HANG or DVM_FAIL_BOOT when the clock says the slot failed at @now, else DVM_FAIL_NONE. */
enum dvm_fail dvm_policy_overdue(const struct dvm_policy *p, unsigned slot, uint64_t now);
/* The slot failed (@why) at @now: its new state, the outage bookkeeping, and what to do. */
unsigned dvm_policy_failed(struct dvm_policy *p, unsigned slot, enum dvm_fail why, uint64_t now);
/* Is the slot's restart due at @now? */
bool dvm_policy_restart_due(const struct dvm_policy *p, unsigned slot, uint64_t now);

/*
 * The downlink's MAC for @bridge and @addr: the same for the primary and the
 * spare, and for the next supervisor of that bridge, so no consumer ever has
 * to learn another (its ARP entry for the router stays right). Unicast,
 * locally administered, from a hash of both.
 */
void dvm_downlink_mac(const char *bridge, uint32_t addr, uint8_t mac[6]);

/* ---- The downlink probe (probe.c) ---- */

#define DVM_ARP_LEN 42	/* Ethernet header + ARP for IPv4 over Ethernet (RFC 826) */

/*
 * Pure: an ARP probe (RFC 5227: sender address 0.0.0.0, so no ARP cache
 * learns it) from @src to @dst asking for @ip (network order). Linux answers
 * a probe for a local address with a reply to @src. DVM_ARP_LEN, or 0 if @len is short.
 */
size_t dvm_arp_probe(uint8_t *buf, size_t len, const uint8_t src[6], const uint8_t dst[6], uint32_t ip);
/* Pure: is @f an ARP reply from @ip (network order) with hardware address @mac? */
bool dvm_arp_is_answer(const uint8_t *f, size_t len, uint32_t ip, const uint8_t mac[6]);

/*
 * A packet socket on the TAP @ifindex that sees only ARP replies coming from
 * the guest (a classic BPF filter; outgoing frames ignored). ETH_P_ALL: on a
 * bridge port a protocol-bound socket would never see them (the bridge takes
 * the frame first). Non-blocking. The fd or -errno.
 */
int dvm_probe_open(int ifindex);
/* Send @len bytes of @frame out of the TAP @ifindex (into the guest). 0 or -errno. */
int dvm_probe_send(int fd, int ifindex, const uint8_t *frame, size_t len);

#endif
