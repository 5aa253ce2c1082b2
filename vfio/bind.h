/*
 * sluice: binding a host PCI device to vfio-pci and giving it back.
 *
 * Before the first change to a device, sluice writes a record under
 * RUNDIR/devices/<bdf> (RUNDIR is /run/sluice): who took it (pid, VM name)
 * and what it had (driver, driver_override). Every exit path restores from
 * the record and then removes it (kept if the old driver refuses the device);
 * after SIGKILL, `sluice release` does.
 * The record is created with O_EXCL, so it is also the lock that keeps one
 * device in one VM.
 */
#ifndef SLUICE_VFIO_BIND_H
#define SLUICE_VFIO_BIND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define BIND_RUNDIR "/run/sluice"

struct bind_record {
	char bdf[16];
	pid_t pid;		/* the sluice that holds the device */
	char vm[80];		/* its VM's name */
	char driver[64];	/* driver before sluice: "" for none */
	char override[64];	/* driver_override before sluice: "" for none */
	bool rebound;		/* sluice changed the binding (else it found vfio-pci) */
};

/* Text form ("key=value" lines); pure, for tests. 0 or -EINVAL. */
int bind_record_format(const struct bind_record *r, char *buf, size_t len);
int bind_record_parse(const char *text, struct bind_record *r);

int bind_record_read(const char *rundir, const char *bdf, struct bind_record *r);

/*
 * Take @bdf for VM @vm: refuse (-EBUSY, message naming the holder) when a
 * live sluice holds it; refuse (-ESTALE) when a dead one left a record
 * (`sluice release` first). Otherwise record, then bind to vfio-pci. On
 * failure, whatever was changed is undone and the record removed.
 */
int bind_take(const char *sysfs, const char *rundir, const char *bdf, const char *vm,
	      struct bind_record *r);

/*
 * Give the device back as the record says, then remove the record. If the
 * old driver does not take it, the record stays (for `sluice release`) and
 * the message says where the device was left; -errno.
 */
int bind_restore(const char *sysfs, const char *rundir, const struct bind_record *r);

/* The device's current driver name into @buf ("" when unbound); 0 or -errno. */
int bind_current_driver(const char *sysfs, const char *bdf, char *buf, size_t len);

/* Whether @pid is a live sluice (a reused pid of another program is not). */
bool bind_pid_alive(pid_t pid);

#endif
