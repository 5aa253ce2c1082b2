/*
 * sluice: the jail's lifecycle (sandbox/jail.h) around jail_check
 * (check.c) and jail_enter (enter.c): the monitor prepares the directory
 * and pipes and spawns the VMM into its namespaces; the VMM closes what it
 * inherited; the monitor reads what the VMM left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/jail.h"
#include "vmm/log.h"

#define JAIL_MAX_KEEP	256

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- the monitor ---- */

/* What jail_check found missing: the directory, and for the default also /run/sluice. */
static int make_dir(const struct jail *j)
{
	char parent[PATH_MAX];
	char *slash;

	if (j->dir_missing > 1) {
		snprintf(parent, sizeof(parent), "%s", j->dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			goto err;
	}
	if (mkdir(j->dir, 0755) == 0)
		return chmod(j->dir, 0755) < 0 ? -errno : 0;	/* whatever the umask */
	if (errno == EEXIST)
		return 0;
err:
	pr_err("%s: making the jail directory %s: %s", j->vm_name, j->dir, strerror(errno));
	return -errno;
}

int jail_prepare(struct jail *j)
{
	int alive[2], crash[2], err;

	if (j->cfg.enabled && (err = make_dir(j)))
		return err;
	if (pipe2(alive, O_CLOEXEC) < 0)
		goto err;
	/* Non-blocking: the crash handler never waits, and neither does jail_crash_signal. */
	if (pipe2(crash, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(alive[0]);
		close(alive[1]);
		goto err;
	}
	j->alive_rd = alive[0];
	j->alive_wr = alive[1];
	j->crash_rd = crash[0];
	j->crash_wr = crash[1];
	return 0;
err:
	err = -errno;
	pr_err("%s: jail pipes: %s", j->vm_name, strerror(errno));
	return err;
}

static void spawn_error(const struct jail *j, int err)
{
	if (j->cfg.enabled && err == -EPERM)
		pr_err("%s: the jail's namespaces need CAP_SYS_ADMIN: run as root, or --no-jail", j->vm_name);
	else if (j->cfg.enabled && err == -EINVAL)
		pr_err("%s: this kernel refuses the jail's namespaces (mount, PID, IPC, UTS, network): "
		       "use a kernel with them, or --no-jail", j->vm_name);
	else
		pr_err("%s: starting the VMM process: %s", j->vm_name, strerror(-err));
}

/*
 * The raw clone gives fork semantics (no stack: the child runs on its copy
 * of ours) and makes the child PID 1 of a new PID namespace, which neither
 * fork() nor unshare() can do for the caller itself. glibc's fork handlers
 * do not run: with one thread no lock can be held across it. The child's
 * cached TID (in its pthread struct) is ours; glibc's raise and abort ask
 * the kernel (gettid), and default mutexes do not use it.
 */
pid_t jail_spawn(struct jail *j)
{
	const unsigned long ns = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
	pid_t pid;
	int err;

	if (j->cfg.enabled)
		pid = (pid_t)syscall(SYS_clone, ns | SIGCHLD, NULL, NULL, NULL, 0);
	else
		pid = fork();
	if (pid < 0) {
		err = -errno;
		spawn_error(j, err);
		return err;
	}
	if (pid == 0) {
		close_fd(&j->alive_wr);
		close_fd(&j->crash_rd);
	} else {
		close_fd(&j->alive_rd);
		close_fd(&j->crash_wr);
	}
	return pid;
}

/* ---- the VMM ---- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* close_range(2) where the kernel has it (5.9), else one close per fd below the limit. */
static int close_from_to(unsigned lo, unsigned hi)
{
	struct rlimit rl;
	unsigned fd;

	if (close_range(lo, hi, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* No fd reaches the soft limit; fs.nr_open (1 << 20 by default) bounds an infinite one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1u << 20)
		rl.rlim_cur = 1u << 20;
	for (fd = lo; fd <= hi && fd < rl.rlim_cur; fd++)
		close((int)fd);
	return 0;
}

int jail_close_fds(struct jail *j, const int *keep, unsigned n)
{
	int fds[JAIL_MAX_KEEP + 5] = { 0, 1, 2, j->alive_rd, j->crash_wr };
	unsigned i, nr = 5, lo = 0;
	int err;

	if (n > JAIL_MAX_KEEP)
		return -E2BIG;
	for (i = 0; i < n; i++)
		fds[nr++] = keep[i];
	qsort(fds, nr, sizeof(fds[0]), cmp_int);
	for (i = 0; i < nr; i++) {
		if (fds[i] < 0 || (unsigned)fds[i] < lo)
			continue;	/* a closed end, or a duplicate */
		if ((unsigned)fds[i] > lo && (err = close_from_to(lo, (unsigned)fds[i] - 1)))
			goto err;
		lo = (unsigned)fds[i] + 1;
	}
	if ((err = close_from_to(lo, ~0u)))
		goto err;
	return 0;
err:
	pr_err("%s: closing inherited fds: %s", j->vm_name, strerror(-err));
	return err;
}

int jail_crash_signal(struct jail *j)
{
	unsigned char sig;

	if (j->crash_rd < 0 || read(j->crash_rd, &sig, 1) != 1)
		return 0;
	return sig;
}

void jail_release(struct jail *j)
{
	close_fd(&j->alive_rd);
	close_fd(&j->alive_wr);
	close_fd(&j->crash_rd);
	close_fd(&j->crash_wr);
}
