/*
 * sluice: the VMM enters its jail (sandbox/jail.h), after building its VM
 * and before its first vCPU runs. Each step closes one door: the empty
 * root hides the host's files, the ids and the empty capability sets take
 * root's powers, no_new_privs keeps them from coming back, the parent-death
 * signal ties the VMM's life to the monitor's, and the seccomp allowlist
 * (sandbox/seccomp.c) narrows the kernel to the calls the run needs.
 */
#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>

#include "sandbox/jail.h"
#include "vmm/log.h"

/*
 * A signal handler gets no context pointer, so the crash pipe's write end
 * is the one piece of process-wide state: set once, by jail_enter, in the
 * VMM process only.
 */
static volatile sig_atomic_t crash_fd = -1;

/*
 * PID 1 of a PID namespace ignores every signal it has no handler for, even
 * one sent from the host (kernel/signal.c, SIGNAL_UNKILLABLE); only SIGKILL
 * and SIGSTOP from an ancestor namespace get through. So a `kill -SEGV`
 * would do nothing without this. The monitor learns the signal from the
 * pipe, and the exit status says 128 + N as a signal death would.
 */
static void on_crash(int sig)
{
	unsigned char b = (unsigned char)sig;
	ssize_t n;

	if (crash_fd >= 0)
		n = write(crash_fd, &b, 1);
	(void)n;
	_exit(128 + sig);
}

static int crash_handlers(const struct jail *j)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
	/* A fault inside the handler takes the default action: a forced fault kills even PID 1. */
	struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_RESETHAND };
	unsigned i;

	crash_fd = j->crash_wr;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

/*
 * The directory gets a tiny read-only tmpfs, which becomes the root:
 * pivot_root(".", ".") stacks the old root on it and the lazy unmount takes
 * that away (pivot_root(2), NOTES). Mounts are private first, so nothing
 * made here reaches the host's namespace. An initramfs root cannot be
 * pivoted (EINVAL): there chroot holds as well, since the VMM keeps no
 * directory fd and loses CAP_SYS_CHROOT, which any way back out needs.
 */
static int empty_root(const struct jail *j)
{
	const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	const char *step;

	step = "making mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto err;
	step = "mounting the empty root";
	if (mount("sluice-jail", j->dir, "tmpfs", ro, "size=4k,mode=0755") < 0 || chdir(j->dir) < 0)
		goto err;
	step = "pivot_root";
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		step = "detaching the old root";
		if (umount2(".", MNT_DETACH) < 0)
			goto err;
	} else {
		step = "chroot";
		if (errno != EINVAL || chroot(".") < 0)
			goto err;
	}
	step = "chdir /";
	if (chdir("/") < 0)
		goto err;
	return 0;
err:
	pr_err("%s: jail: %s (%s): %s", j->vm_name, step, j->dir, strerror(errno));
	return -errno;
}

/* Bounding and ambient sets first: dropping them needs CAP_SETPCAP, which the uid change takes. */
static int drop_cap_sets(void)
{
	unsigned long cap;

	for (cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;	/* past the kernel's last capability */
			return -errno;
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

int jail_drop_bounding(struct jail *j)
{
	int err;

	if (!j->cfg.enabled)
		return 0;
	err = drop_cap_sets();
	if (err)
		pr_err("%s: jail: dropping the bounding and ambient capability sets: %s", j->vm_name,
		       strerror(-err));
	return err;
}

/* glibc applies set*id to every thread (the virtio workers exist already). */
static int drop_ids(const struct jail *j)
{
	if (setgroups(0, NULL) < 0 || setresgid(j->gid, j->gid, j->gid) < 0 ||
	    setresuid(j->uid, j->uid, j->uid) < 0)
		return -errno;
	return 0;
}

/* Leaving uid 0 emptied effective and permitted already; capset says so for sure. */
static int clear_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static int confine(const struct jail *j)
{
	const char *step;
	int err;

	if ((err = empty_root(j)))
		return err;
	step = "hostname";
	if (sethostname(JAIL_HOSTNAME, strlen(JAIL_HOSTNAME)) < 0)
		goto err;
	step = "dropping the bounding and ambient capability sets";
	if ((err = drop_cap_sets()))
		goto err_code;
	step = "changing to the jail user's uid and gid";
	if ((err = drop_ids(j)))
		goto err_code;
	step = "clearing capabilities";
	if ((err = clear_caps()))
		goto err_code;
	step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto err;
	/* Another process of the same uid ("nobody" is shared) can then neither ptrace nor read its /proc. */
	step = "making the VMM non-dumpable";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		goto err;
	return 0;
err:
	err = -errno;
err_code:
	pr_err("%s: jail: %s: %s", j->vm_name, step, strerror(-err));
	return err;
}

/*
 * After the uid change, which clears the parent-death signal. The monitor
 * may have died before it was set: then the pipe is at EOF already.
 */
static int tie_to_monitor(const struct jail *j)
{
	struct pollfd p = { .fd = j->alive_rd, .events = POLLIN };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		pr_err("%s: jail: PR_SET_PDEATHSIG: %s", j->vm_name, strerror(errno));
		return -errno;
	}
	if (j->alive_rd < 0 || poll(&p, 1, 0) != 0) {
		pr_err("%s: the monitor is gone: the VMM stops before the guest runs", j->vm_name);
		return -ESRCH;
	}
	return 0;
}

int jail_enter(struct jail *j, const char *vm_name)
{
	int err;

	j->vm_name = vm_name;
	if ((err = crash_handlers(j))) {
		pr_err("%s: crash handlers: %s", vm_name, strerror(-err));
		return err;
	}
	if (j->cfg.enabled && (err = confine(j)))
		return err;
	if ((err = tie_to_monitor(j)))
		return err;
	if (!j->cfg.enabled)
		return 0;
	err = jail_seccomp_apply();
	if (err)
		pr_err("%s: jail: loading the seccomp filter: %s", vm_name, strerror(-err));
	return err;
}
