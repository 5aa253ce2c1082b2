/* sluice: vfio-pci binding with a record of what to give back. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio/bind.h"
#include "vmm/log.h"

#define VFIO_DRIVER "vfio-pci"

int bind_record_format(const struct bind_record *r, char *buf, size_t len)
{
	int n = snprintf(buf, len, "bdf=%s\npid=%d\nvm=%s\ndriver=%s\noverride=%s\nrebound=%d\n",
			 r->bdf, (int)r->pid, r->vm, r->driver, r->override, r->rebound);

	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

static int copy_field(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len || strpbrk(v, "/\n"))
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

static int parse_line(struct bind_record *r, char *key, const char *v, unsigned *seen)
{
	char *end;
	long pid;

	if (!strcmp(key, "bdf")) {
		*seen |= 1;
		return copy_field(r->bdf, sizeof(r->bdf), v);
	}
	if (!strcmp(key, "pid")) {
		pid = strtol(v, &end, 10);
		if (*v == '\0' || *end || pid <= 0 || pid > INT_MAX)
			return -EINVAL;
		r->pid = (pid_t)pid;
		*seen |= 2;
		return 0;
	}
	if (!strcmp(key, "vm"))
		return copy_field(r->vm, sizeof(r->vm), v);
	if (!strcmp(key, "driver"))
		return copy_field(r->driver, sizeof(r->driver), v);
	if (!strcmp(key, "override"))
		return copy_field(r->override, sizeof(r->override), v);
	if (!strcmp(key, "rebound")) {
		r->rebound = !strcmp(v, "1");
		return 0;
	}
	return 0;	/* unknown keys: written by a newer sluice; ignore */
}

int bind_record_parse(const char *text, struct bind_record *r)
{
	char line[256], *eq;
	const char *p = text, *nl;
	unsigned seen = 0;
	size_t n;

	memset(r, 0, sizeof(*r));
	while (*p) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line))
			return -EINVAL;
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		if (!n)
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		if (parse_line(r, line, eq + 1, &seen))
			return -EINVAL;
	}
	return seen == 3 ? 0 : -EINVAL;
}

static int record_path(const char *rundir, const char *bdf, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/devices/%s", rundir, bdf);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int bind_record_read(const char *rundir, const char *bdf, struct bind_record *r)
{
	char path[PATH_MAX], text[1024];
	ssize_t n;
	int fd, err;

	err = record_path(rundir, bdf, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	text[n] = '\0';
	if (bind_record_parse(text, r)) {
		pr_err("%s: the record %s is damaged: remove it after checking the device's driver",
		       bdf, path);
		return -EINVAL;
	}
	return 0;
}

/* Create the record with O_EXCL: it is also the lock on the device. */
static int record_create(const char *rundir, const struct bind_record *r)
{
	char path[PATH_MAX], text[1024];
	int fd, err = 0;

	if (bind_record_format(r, text, sizeof(text)) || record_path(rundir, r->bdf, path, sizeof(path)))
		return -EINVAL;
	if (mkdir(rundir, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/devices", rundir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	record_path(rundir, r->bdf, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fsync(fd) < 0)
		err = -EIO;
	close(fd);
	if (err)
		unlink(path);
	return err;
}

static int record_remove(const char *rundir, const char *bdf)
{
	char path[PATH_MAX];

	if (record_path(rundir, bdf, path, sizeof(path)))
		return -EINVAL;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* Alive, and a sluice: a dead sluice's pid may since belong to another program. */
bool bind_pid_alive(pid_t pid)
{
	char path[64], comm[32] = "";
	ssize_t n;
	int fd;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;	/* no procfs: trust kill() */
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	return !strcmp(comm, "sluice\n") || !strcmp(comm, "sluice");
}

static int sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

static int dev_path(char *buf, size_t len, const char *sysfs, const char *bdf, const char *leaf)
{
	int n = snprintf(buf, len, "%s/bus/pci/devices/%s/%s", sysfs, bdf, leaf);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int bind_current_driver(const char *sysfs, const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	if (dev_path(path, sizeof(path), sysfs, bdf, "driver"))
		return -ENAMETOOLONG;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		buf[0] = '\0';
		return 0;
	}
	link[n] = '\0';
	base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

static int read_override(const char *sysfs, const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if (dev_path(path, sizeof(path), sysfs, bdf, "driver_override"))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!strcmp(buf, "(null)"))
		buf[0] = '\0';
	return 0;
}

static int driver_write(const char *sysfs, const char *drv, const char *op, const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/%s", sysfs, drv, op);
	return sysfs_write(path, bdf);
}

/* Point the device at vfio-pci: override, unbind, probe, verify. */
static int rebind_to_vfio(const char *sysfs, const struct bind_record *r)
{
	char path[PATH_MAX], now[64];
	int err;

	dev_path(path, sizeof(path), sysfs, r->bdf, "driver_override");
	err = sysfs_write(path, VFIO_DRIVER);
	if (err) {
		pr_err("%s: setting driver_override: %s", r->bdf, strerror(-err));
		return err;
	}
	if (r->driver[0] && (err = driver_write(sysfs, r->driver, "unbind", r->bdf))) {
		pr_err("%s: unbinding from %s: %s", r->bdf, r->driver, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", sysfs);
	sysfs_write(path, r->bdf);	/* its result is the binding, checked next */
	err = bind_current_driver(sysfs, r->bdf, now, sizeof(now));
	if (!err && strcmp(now, VFIO_DRIVER)) {
		pr_err("%s: did not bind to vfio-pci (driver now '%s'): see dmesg", r->bdf, now);
		err = -EIO;
	}
	return err;
}

static int check_vfio_driver(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", sysfs, VFIO_DRIVER);
	if (access(path, F_OK) == 0)
		return 0;
	pr_err("%s: the vfio-pci driver is not loaded: run 'modprobe vfio-pci'", bdf);
	return -ENOENT;
}

static int check_holder(const char *rundir, const char *bdf)
{
	struct bind_record old;
	int err = bind_record_read(rundir, bdf, &old);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	if (bind_pid_alive(old.pid)) {
		pr_err("%s: already assigned to VM '%s' (sluice pid %d): stop that VM first, or pick another device",
		       bdf, old.vm, (int)old.pid);
		return -EBUSY;
	}
	pr_err("%s: a sluice that died (pid %d, VM '%s') left it bound to vfio-pci: run 'sluice release %s' first",
	       bdf, (int)old.pid, old.vm, bdf);
	return -ESTALE;
}

int bind_take(const char *sysfs, const char *rundir, const char *bdf, const char *vm,
	      struct bind_record *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	if (strlen(bdf) >= sizeof(r->bdf) || strlen(vm) >= sizeof(r->vm))
		return -EINVAL;
	strcpy(r->bdf, bdf);
	strcpy(r->vm, vm);
	r->pid = getpid();
	if ((err = check_holder(rundir, bdf)) || (err = check_vfio_driver(sysfs, bdf)))
		return err;
	if ((err = bind_current_driver(sysfs, bdf, r->driver, sizeof(r->driver))) ||
	    (err = read_override(sysfs, bdf, r->override, sizeof(r->override))))
		return err;
	r->rebound = strcmp(r->driver, VFIO_DRIVER) != 0;
	err = record_create(rundir, r);
	if (err == -EEXIST)
		return check_holder(rundir, bdf) ?: -EBUSY;	/* lost a race */
	if (err) {
		pr_err("%s: cannot write the record under %s: %s", bdf, rundir, strerror(-err));
		return err;
	}
	if (r->rebound && (err = rebind_to_vfio(sysfs, r))) {
		bind_restore(sysfs, rundir, r);
		return err;
	}
	return 0;
}

/* Unbind from vfio-pci, restore driver_override, bind the old driver and verify. */
static int rebind_to_old(const char *sysfs, const struct bind_record *r)
{
	char path[PATH_MAX], now[64];
	int err;

	if (!bind_current_driver(sysfs, r->bdf, now, sizeof(now)) && now[0])
		driver_write(sysfs, now, "unbind", r->bdf);
	dev_path(path, sizeof(path), sysfs, r->bdf, "driver_override");
	/* A lone newline clears driver_override (Documentation/ABI/testing/sysfs-bus-pci). */
	sysfs_write(path, r->override[0] ? r->override : "\n");
	if (!r->driver[0])
		return 0;
	err = driver_write(sysfs, r->driver, "bind", r->bdf);
	if (!err && !(err = bind_current_driver(sysfs, r->bdf, now, sizeof(now))) &&
	    strcmp(now, r->driver))
		err = -EIO;	/* the write was taken, the probe was not: see dmesg */
	return err;
}

/*
 * The record goes only once the device is back: without it, `sluice
 * release` could not find a device left on vfio-pci (or on no driver).
 */
int bind_restore(const char *sysfs, const char *rundir, const struct bind_record *r)
{
	char now[64];
	int err;

	if (!r->rebound) {
		record_remove(rundir, r->bdf);
		return 0;
	}
	err = rebind_to_old(sysfs, r);
	if (!err) {
		record_remove(rundir, r->bdf);
		return 0;
	}
	if (bind_current_driver(sysfs, r->bdf, now, sizeof(now)) || !now[0])
		strcpy(now, "no driver");
	pr_err("%s: could not rebind to %s: %s; left on %s; its record stays: run "
	       "'sluice release %s' once the driver can take it", r->bdf, r->driver,
	       strerror(-err), now, r->bdf);
	return err;
}
