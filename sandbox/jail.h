/*
 * sluice: the VMM's jail. The monitor (privileged, small) checks and prepares
 * it, then spawns the VMM into new mount, PID, IPC, UTS and network
 * namespaces; the VMM builds its VM from the fds the monitor opened and,
 * before the first vCPU runs, enters the jail: an empty read-only root, an
 * unprivileged uid/gid, no capabilities, no_new_privs, death with the
 * monitor, and a seccomp allowlist for the run phase (sandbox/seccomp.c).
 *
 * Order, in the monitor: jail_check (phase 2, host untouched), jail_prepare
 * (phase 4), jail_spawn; after the VMM ended, jail_crash_signal and
 * jail_release. In the VMM: jail_close_fds first, jail_enter last before
 * the vCPUs start.
 */
#ifndef SLUICE_SANDBOX_JAIL_H
#define SLUICE_SANDBOX_JAIL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#define JAIL_DEFAULT_DIR "/run/sluice/jail"
#define JAIL_DEFAULT_USER "sluice"
#define JAIL_FALLBACK_USER "nobody"
#define JAIL_HOSTNAME "sluice"

struct jail_config {
	bool enabled;		/* false: --no-jail */
	const char *user;	/* --jail-user NAME|UID; NULL: user "sluice" if it exists, else "nobody" */
	const char *dir;	/* the empty directory that becomes the VMM's root; NULL: JAIL_DEFAULT_DIR */
};

struct jail {
	struct jail_config cfg;
	const char *vm_name;		/* for messages; set by jail_check */
	uid_t uid;
	gid_t gid;			/* resolved by jail_check */
	char dir[PATH_MAX];
	unsigned dir_missing;		/* levels of dir that jail_prepare makes (jail_check) */
	int alive_rd, alive_wr;		/* monitor-alive pipe: the VMM sees EOF when the monitor is gone */
	int crash_rd, crash_wr;		/* the VMM's crash handler writes the signal number here */
};

/*
 * Phase 2, no host change: resolve the user (name or number; uid 0 and gid
 * 0 refused), seccomp filters with SECCOMP_RET_KILL_PROCESS in this kernel,
 * the namespaces, and the directory (exists and is a directory, or its
 * parent does so it can be made). 0 or -errno with a message naming
 * @vm_name and what to do. With cfg->enabled false only @j is initialised.
 */
int jail_check(struct jail *j, const struct jail_config *cfg, const char *vm_name);

/* Phase 4, monitor: make the directory if missing (0755, root), then the two pipes (O_CLOEXEC). */
int jail_prepare(struct jail *j);

/*
 * Spawn the VMM with fork(2) semantics (pid in the parent, 0 in the child,
 * -errno). With the jail: a raw clone(2) into new mount, PID, IPC, UTS and
 * network namespaces, so the child is PID 1 of its PID namespace; the
 * caller must be single-threaded. Without: fork(). Each side closes the
 * pipe ends the other one holds.
 */
pid_t jail_spawn(struct jail *j);

/* VMM, first thing: close every fd but 0-2, the jail's pipe ends and @keep[0..n). */
int jail_close_fds(struct jail *j, const int *keep, unsigned n);

/*
 * VMM, right after jail_close_fds and before it starts any thread: drop the
 * capability bounding and ambient sets. They are per thread, so threads made
 * later (virtio workers, vCPUs) start without them; jail_enter drops them again
 * for the calling thread. No-op without the jail. 0 or -errno with a message.
 */
int jail_drop_bounding(struct jail *j);

/*
 * VMM, after building the VM, before the first vCPU thread: crash handlers,
 * then (with the jail) the empty root, hostname, ids, capabilities and
 * no_new_privs, then PR_SET_PDEATHSIG and the monitor-alive check (-ESRCH
 * when it is gone), last the seccomp allowlist for every thread.
 */
int jail_enter(struct jail *j, const char *vm_name);

/* Monitor, after the VMM ended: the signal its crash handler reported, or 0. */
int jail_crash_signal(struct jail *j);

/* Close what is still open; safe to call twice. */
void jail_release(struct jail *j);

/* sandbox/seccomp.c: load the run-phase allowlist on every thread of the caller. 0 or -errno. */
int jail_seccomp_apply(void);

#endif
