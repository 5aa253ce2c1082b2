/* sluice: the records of what sluice changed on a PF and its VFs, and the per-PF lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sriov/sriov.h"

static int fits(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

static void mac_text(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int sriov_vf_record_format(const struct sriov_vf_record *r, char *buf, size_t len)
{
	char mac[18];

	mac_text(r->mac, mac);
	return fits(snprintf(buf, len,
			     "vf=%s\npf=%s\nifname=%s\nindex=%u\npid=%d\nvm=%s\nchanged=%u\nmac=%s\n"
			     "vlan=%d\nqos=%d\nspoofchk=%d\ntrust=%d\nmin_rate=%d\nmax_rate=%d\n",
			     r->vf, r->pf, r->ifname, r->index, (int)r->pid, r->vm, r->changed, mac,
			     r->vlan, r->qos, r->spoofchk, r->trust, r->min_rate, r->max_rate), len);
}

int sriov_pf_record_format(const struct sriov_pf_record *r, char *buf, size_t len)
{
	return fits(snprintf(buf, len, "pf=%s\nifname=%s\nnumvfs=%u\ncreated=%d\nlink_was_down=%d\n",
			     r->pf, r->ifname, r->numvfs, r->created, r->link_was_down), len);
}

static int copy_str(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len || strpbrk(v, "/\n"))
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

static int copy_int(int *dst, const char *v, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || !*v || *end || n < min || n > max)
		return -EINVAL;
	*dst = (int)n;
	return 0;
}

static int copy_bdf(char *dst, const char *v)
{
	char canon[HOSTPCI_BDF_LEN];

	if (hostpci_bdf_parse(v, canon, NULL, 0) || strcmp(canon, v))
		return -EINVAL;
	strcpy(dst, canon);
	return 0;
}

static int parse_mac(const char *v, uint8_t m[6])
{
	unsigned b[6], i;
	char tail;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}

/* Each line "key=value" goes to @fn; unknown keys are a newer sluice's: ignored by @fn. */
static int parse_lines(const char *text, void *r, int (*fn)(void *r, const char *k, const char *v))
{
	char line[256], *eq;
	const char *p = text, *nl;
	size_t n;

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
		if (!(eq = strchr(line, '=')))
			return -EINVAL;
		*eq = '\0';
		if (fn(r, line, eq + 1))
			return -EINVAL;
	}
	return 0;
}

static int vf_key(void *rp, const char *k, const char *v)
{
	struct sriov_vf_record *r = rp;
	int n = 0;

	if (!strcmp(k, "vf"))
		return copy_bdf(r->vf, v);
	if (!strcmp(k, "pf"))
		return copy_bdf(r->pf, v);
	if (!strcmp(k, "ifname"))
		return copy_str(r->ifname, sizeof(r->ifname), v);
	if (!strcmp(k, "vm"))
		return copy_str(r->vm, sizeof(r->vm), v);
	if (!strcmp(k, "mac"))
		return parse_mac(v, r->mac);
	if (!strcmp(k, "index") || !strcmp(k, "changed") || !strcmp(k, "pid")) {
		if (copy_int(&n, v, !strcmp(k, "pid") ? 1 : 0, INT_MAX))
			return -EINVAL;
		if (k[0] == 'i')
			r->index = (unsigned)n;
		else if (k[0] == 'c')
			r->changed = (unsigned)n;
		else
			r->pid = (pid_t)n;
		return 0;
	}
	if (!strcmp(k, "vlan"))
		return copy_int(&r->vlan, v, -1, 4095);
	if (!strcmp(k, "qos"))
		return copy_int(&r->qos, v, -1, 7);
	if (!strcmp(k, "spoofchk"))
		return copy_int(&r->spoofchk, v, -1, 1);
	if (!strcmp(k, "trust"))
		return copy_int(&r->trust, v, -1, 1);
	if (!strcmp(k, "min_rate"))
		return copy_int(&r->min_rate, v, -1, INT_MAX);
	if (!strcmp(k, "max_rate"))
		return copy_int(&r->max_rate, v, -1, INT_MAX);
	return 0;
}

int sriov_vf_record_parse(const char *text, struct sriov_vf_record *r)
{
	memset(r, 0, sizeof(*r));
	r->vlan = r->qos = r->spoofchk = r->trust = r->min_rate = r->max_rate = -1;
	if (parse_lines(text, r, vf_key))
		return -EINVAL;
	return r->vf[0] && r->pf[0] && r->ifname[0] && r->pid > 0 ? 0 : -EINVAL;
}

static int pf_key(void *rp, const char *k, const char *v)
{
	struct sriov_pf_record *r = rp;
	int n;

	if (!strcmp(k, "pf"))
		return copy_bdf(r->pf, v);
	if (!strcmp(k, "ifname"))
		return copy_str(r->ifname, sizeof(r->ifname), v);
	if (!strcmp(k, "numvfs")) {
		if (copy_int(&n, v, 0, 0xffff))
			return -EINVAL;
		r->numvfs = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "created") || !strcmp(k, "link_was_down")) {
		if (copy_int(&n, v, 0, 1))
			return -EINVAL;
		*(k[0] == 'c' ? &r->created : &r->link_was_down) = n;
		return 0;
	}
	return 0;
}

int sriov_pf_record_parse(const char *text, struct sriov_pf_record *r)
{
	memset(r, 0, sizeof(*r));
	if (parse_lines(text, r, pf_key))
		return -EINVAL;
	return r->pf[0] ? 0 : -EINVAL;
}

/* RUNDIR/sriov/NAME.EXT; creates the directories when @make. */
static int rec_path(const char *rundir, const char *name, const char *ext, bool make, char *buf,
		    size_t len)
{
	if (make) {
		if (mkdir(rundir, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (fits(snprintf(buf, len, "%s/" SRIOV_RUNDIR_SUB, rundir), len))
			return -ENAMETOOLONG;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	return fits(snprintf(buf, len, "%s/" SRIOV_RUNDIR_SUB "/%s.%s", rundir, name, ext), len)
		       ? -ENAMETOOLONG : 0;
}

static int write_new(const char *path, const char *text)
{
	size_t n = strlen(text);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n || fsync(fd) < 0)
		err = -EIO;
	close(fd);
	if (err)
		unlink(path);
	return err;
}

static int read_text(const char *path, char *text, size_t len)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, len - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (!err)
		text[n] = '\0';
	return err;
}

int sriov_vf_record_write(const char *rundir, const struct sriov_vf_record *r)
{
	char path[PATH_MAX], text[1024];
	int err;

	if (sriov_vf_record_format(r, text, sizeof(text)))
		return -EINVAL;
	if ((err = rec_path(rundir, r->vf, "vf", true, path, sizeof(path))))
		return err;
	return write_new(path, text);
}

int sriov_vf_record_read(const char *rundir, const char *vf, struct sriov_vf_record *r)
{
	char path[PATH_MAX], text[1024];
	int err;

	if ((err = rec_path(rundir, vf, "vf", false, path, sizeof(path))) ||
	    (err = read_text(path, text, sizeof(text))))
		return err;
	return sriov_vf_record_parse(text, r);
}

int sriov_vf_record_remove(const char *rundir, const char *vf)
{
	char path[PATH_MAX];

	if (rec_path(rundir, vf, "vf", false, path, sizeof(path)))
		return -ENAMETOOLONG;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int sriov_pf_record_write(const char *rundir, const struct sriov_pf_record *r)
{
	char path[PATH_MAX], text[512];
	int err;

	if (sriov_pf_record_format(r, text, sizeof(text)))
		return -EINVAL;
	if ((err = rec_path(rundir, r->pf, "pf", true, path, sizeof(path))))
		return err;
	return write_new(path, text);
}

int sriov_pf_record_read(const char *rundir, const char *pf, struct sriov_pf_record *r)
{
	char path[PATH_MAX], text[512];
	int err;

	if ((err = rec_path(rundir, pf, "pf", false, path, sizeof(path))) ||
	    (err = read_text(path, text, sizeof(text))))
		return err;
	return sriov_pf_record_parse(text, r);
}

int sriov_pf_record_remove(const char *rundir, const char *pf)
{
	char path[PATH_MAX];

	if (rec_path(rundir, pf, "pf", false, path, sizeof(path)))
		return -ENAMETOOLONG;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int sriov_pf_lock(const char *rundir, const char *pf)
{
	char path[PATH_MAX];
	int fd, err;

	if ((err = rec_path(rundir, pf, "lock", true, path, sizeof(path))))
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
	return fd;
}

void sriov_pf_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* closing drops the flock */
}
