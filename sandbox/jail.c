/*
 * sluice: the jail's monitor side (sandbox/jail.h): checking it with the
 * host untouched, preparing its directory and pipes, spawning the VMM into
 * its namespaces, and what the VMM left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

/* ---- jail_check: the user ---- */

/* A name made only of digits is a uid. */
static bool parse_uid(const char *s, uid_t *uid)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v >= (uid_t)-1)
		return false;
	*uid = (uid_t)v;
	return true;
}

/* 0, or -ENOENT when @name names no user (a uid without an entry takes gid = uid). */
static int lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	uid_t n;
	int err;

	if (parse_uid(name, &n)) {
		err = getpwuid_r(n, &pw, buf, sizeof(buf), &res);
		*uid = n;
		*gid = res ? res->pw_gid : (gid_t)n;
		return err && err != ENOENT ? -err : 0;
	}
	err = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (err && err != ENOENT)
		return -err;
	if (!res)
		return -ENOENT;
	*uid = res->pw_uid;
	*gid = res->pw_gid;
	return 0;
}

static int resolve_default_user(struct jail *j)
{
	int err = lookup_user(JAIL_DEFAULT_USER, &j->uid, &j->gid);

	if (err == -ENOENT)
		err = lookup_user(JAIL_FALLBACK_USER, &j->uid, &j->gid);
	if (err == -ENOENT)
		pr_err("%s: the jail runs the VMM as user '" JAIL_DEFAULT_USER "', else '" JAIL_FALLBACK_USER
		       "', and neither exists: create one (adduser --system " JAIL_DEFAULT_USER
		       "), give --jail-user, or --no-jail", j->vm_name);
	else if (err)
		pr_err("%s: looking up the jail user: %s", j->vm_name, strerror(-err));
	return err;
}

static int resolve_user(struct jail *j)
{
	const char *name = j->cfg.user;
	int err;

	if (name && !*name) {
		pr_err("%s: --jail-user needs a user name or a uid", j->vm_name);
		return -EINVAL;
	}
	if (!name)
		err = resolve_default_user(j);
	else if ((err = lookup_user(name, &j->uid, &j->gid)) == -ENOENT)
		pr_err("%s: --jail-user %s names no user: create it (adduser --system %s) or give another",
		       j->vm_name, name, name);
	else if (err)
		pr_err("%s: --jail-user %s: %s", j->vm_name, name, strerror(-err));
	if (err)
		return -EINVAL;
	name = name ? name : "(default)";
	if (j->uid == 0) {
		pr_err("%s: --jail-user %s is root (uid 0): the jail needs an unprivileged user "
		       "(adduser --system " JAIL_DEFAULT_USER ")", j->vm_name, name);
		return -EINVAL;
	}
	if (j->gid == 0) {
		pr_err("%s: --jail-user %s has the root group (gid 0): give a user whose group is not root",
		       j->vm_name, name);
		return -EINVAL;
	}
	return 0;
}

/* ---- jail_check: the kernel ---- */

/*
 * Filters exist when installing a NULL one fails on the pointer (EFAULT)
 * rather than the mode (EINVAL: no CONFIG_SECCOMP_FILTER); the kill action
 * for the whole process needs Linux 4.14.
 */
static int check_seccomp(const struct jail *j)
{
	uint32_t kill_process = SECCOMP_RET_KILL_PROCESS;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 ||
	    (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0) < 0 && errno != EFAULT)) {
		pr_err("%s: this kernel has no seccomp filters (CONFIG_SECCOMP_FILTER): use a kernel "
		       "with them, or --no-jail", j->vm_name);
		return -EINVAL;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &kill_process) < 0) {
		pr_err("%s: this kernel's seccomp cannot kill a whole process (Linux 4.14): use a newer "
		       "kernel, or --no-jail", j->vm_name);
		return -EINVAL;
	}
	return 0;
}

/* Without procfs there is nothing to ask; the clone in jail_spawn will say. */
static int check_namespaces(const struct jail *j)
{
	static const char *const ns[][2] = {
		{ "mnt", "CONFIG_NAMESPACES" }, { "pid", "CONFIG_PID_NS" }, { "ipc", "CONFIG_IPC_NS" },
		{ "uts", "CONFIG_UTS_NS" }, { "net", "CONFIG_NET_NS" },
	};
	char path[64];
	unsigned i;

	if (access("/proc/self/ns", F_OK) < 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(ns); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i][0]);
		if (access(path, F_OK) < 0 && errno == ENOENT) {
			pr_err("%s: this kernel has no %s namespaces (%s): use a kernel with them, or "
			       "--no-jail", j->vm_name, ns[i][0], ns[i][1]);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- jail_check: the directory ---- */

/* How many missing levels jail_prepare makes: the default's parent is sluice's own run directory. */
static unsigned makeable_levels(const struct jail *j)
{
	return strcmp(j->dir, JAIL_DEFAULT_DIR) ? 1 : 2;
}

static void cut_last(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash == path)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
}

/* The directory, or the nearest ancestor within what jail_prepare makes, is a directory. */
static int check_dir(const struct jail *j)
{
	char path[PATH_MAX];
	struct stat st;
	unsigned missing = 0;

	if (j->dir[0] != '/' || !strcmp(j->dir, "/")) {
		pr_err("%s: jail directory '%s': give an absolute path other than /", j->vm_name, j->dir);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s", j->dir);
	while (stat(path, &st) < 0) {
		if (errno != ENOENT) {
			pr_err("%s: jail directory %s: %s: %s", j->vm_name, j->dir, path, strerror(errno));
			return -errno;
		}
		if (++missing > makeable_levels(j)) {
			pr_err("%s: jail directory %s: neither it nor its parent exists: create the parent, "
			       "or give another directory", j->vm_name, j->dir);
			return -ENOENT;
		}
		cut_last(path);
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("%s: jail directory %s: %s is not a directory: remove it, or give another "
		       "directory", j->vm_name, j->dir, path);
		return -ENOTDIR;
	}
	return 0;
}

/* The directory as given, without trailing slashes (a parent is then one cut away). */
static int set_dir(struct jail *j)
{
	const char *dir = j->cfg.dir ? j->cfg.dir : JAIL_DEFAULT_DIR;
	size_t len = strlen(dir);

	if (len >= sizeof(j->dir)) {
		pr_err("%s: jail directory %.64s...: path too long", j->vm_name, dir);
		return -ENAMETOOLONG;
	}
	memcpy(j->dir, dir, len + 1);
	while (len > 1 && j->dir[len - 1] == '/')
		j->dir[--len] = '\0';
	return 0;
}

int jail_check(struct jail *j, const struct jail_config *cfg, const char *vm_name)
{
	int err;

	memset(j, 0, sizeof(*j));
	j->cfg = *cfg;
	j->vm_name = vm_name;
	j->alive_rd = j->alive_wr = j->crash_rd = j->crash_wr = -1;
	if (!cfg->enabled)
		return 0;
	if ((err = set_dir(j)) || (err = resolve_user(j)) || (err = check_seccomp(j)) ||
	    (err = check_namespaces(j)) || (err = check_dir(j)))
		return err;
	return 0;
}

/* ---- the monitor ---- */

static int make_dir(const struct jail *j)
{
	char parent[PATH_MAX];

	if (makeable_levels(j) > 1) {
		snprintf(parent, sizeof(parent), "%s", j->dir);
		cut_last(parent);
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
