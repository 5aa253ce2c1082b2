/*
 * sluice: jail_check (sandbox/jail.h), phase 2 of a run: everything that can
 * refuse the jail, with the host untouched: the user, the kernel's seccomp
 * and namespaces, the directory.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/jail.h"
#include "vmm/log.h"

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

/* How many missing levels jail_prepare may make: the default's parent is sluice's own run directory. */
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

/*
 * The directory, or the nearest ancestor within what jail_prepare may make,
 * is a directory; j->dir_missing says how many levels it will make.
 */
static int check_dir(struct jail *j)
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
	j->dir_missing = missing;
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
