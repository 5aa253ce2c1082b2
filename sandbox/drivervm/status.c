/*
 * sluice: a driver-VM supervisor's state for `sluice driver-vm status`: one
 * JSON file per bridge under DVM_RUNDIR, replaced whole (rename) at every
 * change, and a lock file per bridge that a second supervisor cannot take.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/drivervm/supervisor.h"
#include "vmm/log.h"

static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	char *p;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

int dvm_state_init(struct sup *s)
{
	const char *dir = s->c->rundir, *br = s->c->bridge;
	char path[PATH_MAX];
	int err;

	s->started = time(NULL);
	if ((err = make_dirs(dir))) {
		pr_err("%s: %s: %s", br, dir, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s.lock", dir, br);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lock_fd < 0) {
		err = -errno;
		pr_err("%s: %s: %s", br, path, strerror(errno));
		return err;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		pr_err("bridge %s is already served by another driver-VM supervisor (sluice driver-vm "
		       "status %s): stop that one first, or serve another bridge", br, br);
		close(s->lock_fd);
		s->lock_fd = -1;
		return err;
	}
	snprintf(s->state_path, sizeof(s->state_path), "%s/%s.json", dir, br);
	return 0;
}

static json_t *slot_json(const struct sup *s, const struct slot *sl)
{
	const struct dvm_slot_state *ps = &s->pol.s[sl->idx];

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
			 "name", sl->name, "device", sl->device, "bdf", sl->m.bdf[0],
			 "role", sl->idx == s->pol.active ? "primary" : "spare",
			 "state", dvm_state_name(ps->state), "vmm_pid", (json_int_t)(sl->pidfd >= 0 ? sl->m.vmm : 0),
			 "boots", (json_int_t)sl->boots, "consecutive_failures", (json_int_t)ps->fails);
}

static json_t *state_json(const struct sup *s)
{
	const struct dvm_policy *p = &s->pol;
	json_t *o, *slots = json_array();
	unsigned i;

	for (i = 0; i < s->nr; i++)
		json_array_append_new(slots, slot_json(s, &s->slot[i]));
	o = json_pack("{s:s, s:I, s:I, s:o, s:I, s:I}", "bridge", s->c->bridge,
		      "pid", (json_int_t)getpid(), "started", (json_int_t)s->started, "driver_vms", slots,
		      "restarts", (json_int_t)p->restarts, "failovers", (json_int_t)p->failovers);
	if (o && p->last_fail)
		json_object_set_new(o, "last_failure", json_pack("{s:s, s:s, s:I, s:I}",
				    "kind", dvm_fail_name(p->last_fail), "driver_vm", s->slot[p->last_fail_slot].name,
				    "detection_ms", (json_int_t)p->last_detect_ms,
				    "at_ms", (json_int_t)p->last_fail_at));
	if (o && p->last_outage_ms)
		json_object_set_new(o, "last_outage_ms", json_integer((json_int_t)p->last_outage_ms));
	return o;
}

void dvm_status_write(struct sup *s)
{
	char tmp[PATH_MAX + 8];
	json_t *o;

	if (!s->state_path[0])
		return;
	o = state_json(s);
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->state_path);
	if (!o || json_dump_file(o, tmp, JSON_COMPACT) || rename(tmp, s->state_path))
		pr_warn("%s: state file %s: %s", s->c->bridge, s->state_path, strerror(errno));
	json_decref(o);
}

void dvm_state_exit(struct sup *s)
{
	if (s->state_path[0])
		unlink(s->state_path);
	s->state_path[0] = '\0';
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}
