/*
 * sluice: IOMMU groups from sysfs (Documentation/ABI/testing/sysfs-kernel-iommu_groups,
 * sysfs-bus-pci) and their viability for VFIO.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommu/group.h"

#define BDF_HINT "expected DDDD:BB:SS.F or BB:SS.F in hex, e.g. 0000:01:10.0"

/* Append to @err at @pos; returns the new position (clamped, so chains of calls stay safe). */
__attribute__((format(printf, 4, 5)))
static size_t errcat(char *err, size_t len, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || pos >= len)
		return pos;
	va_start(ap, fmt);
	n = vsnprintf(err + pos, len - pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return pos;
	return (size_t)n >= len - pos ? len - 1 : pos + (size_t)n;
}

#define errf(err, len, ...) ((void)errcat(err, len, 0, __VA_ARGS__))

/* Exactly @min..@max hex digits at *@p, not followed by another hex digit. */
static int hex_field(const char **p, unsigned min, unsigned max, unsigned long *v)
{
	const char *s = *p;
	unsigned long x = 0;
	unsigned n;

	for (n = 0; n < max && isxdigit((unsigned char)s[n]); n++)
		x = x * 16 + (unsigned long)(isdigit((unsigned char)s[n]) ? s[n] - '0'
								 : (tolower((unsigned char)s[n]) - 'a' + 10));
	if (n < min || isxdigit((unsigned char)s[n]))
		return -EINVAL;
	*p = s + n;
	*v = x;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

int iommu_bdf_parse(const char *in, char out[IOMMU_BDF_LEN], char *err, size_t errlen)
{
	unsigned long dom = 0, bus, slot, fn;
	const char *p = in;
	int colons = 0;

	if (!in || !*in) {
		errf(err, errlen, "empty PCI address: " BDF_HINT);
		return -EINVAL;
	}
	for (const char *c = in; *c; c++)
		colons += *c == ':';
	if ((colons == 2 && (hex_field(&p, 4, 7, &dom) || expect(&p, ':'))) || colons < 1 || colons > 2 ||
	    hex_field(&p, 2, 2, &bus) || expect(&p, ':') || hex_field(&p, 2, 2, &slot) ||
	    expect(&p, '.') || hex_field(&p, 1, 1, &fn) || *p || slot > 0x1f || fn > 7) {
		errf(err, errlen, "'%.40s' is not a PCI address: " BDF_HINT " (slot <= 1f, function <= 7)", in);
		return -EINVAL;
	}
	snprintf(out, IOMMU_BDF_LEN, "%04lx:%02lx:%02lx.%lx", dom, bus, slot, fn);
	return 0;
}

__attribute__((format(printf, 3, 4)))
static int path_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Basename of the target of symlink @path into @out. 0 or -errno. */
int iommu_sysfs_link_base(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

/* A sysfs attribute holding one hex number ("0x060400\n"). 0 or -errno. */
static int read_hex_attr(const char *path, unsigned long *v)
{
	char buf[32], *end;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	errno = 0;
	*v = strtoul(buf, &end, 16);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

static int parse_group_id(const char *s, int *id)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX)
		return -EINVAL;
	*id = (int)v;
	return 0;
}

int iommu_group_of(const char *sysroot, const char *bdf, int *group, char *err, size_t errlen)
{
	char canon[IOMMU_BDF_LEN], dev[PATH_MAX], link[PATH_MAX], name[32];
	int ret;

	ret = iommu_bdf_parse(bdf, canon, err, errlen);
	if (ret)
		return ret;
	if (path_fmt(dev, sizeof(dev), "%s/bus/pci/devices/%s", sysroot, canon) ||
	    path_fmt(link, sizeof(link), "%s/iommu_group", dev)) {
		errf(err, errlen, "%s: sysfs root '%.64s' gives too long a path", canon, sysroot);
		return -ENAMETOOLONG;
	}
	if (access(dev, F_OK) < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			errf(err, errlen, "no PCI device %s: see `sluice devices`", canon);
		else
			errf(err, errlen, "%s: cannot read %s: %s", canon, dev, strerror(-ret));
		return ret;
	}
	ret = iommu_sysfs_link_base(link, name, sizeof(name));
	if (ret == -ENOENT) {
		errf(err, errlen, "%s has no IOMMU group: the host has no IOMMU or it is off: "
			"enable VT-d/AMD-Vi in firmware and boot with intel_iommu=on / amd_iommu=on", canon);
		return -ENODEV;
	}
	if (!ret && parse_group_id(name, group))
		ret = -EINVAL;
	if (ret)
		errf(err, errlen, "%s: cannot read the group number from %s: %s", canon, link, strerror(-ret));
	return ret;
}

/* Fill @m from <devdir>/<name>/{driver,class,vendor,device}. */
static int read_member(const char *devdir, const char *name, struct iommu_group_member *m)
{
	char path[PATH_MAX];
	unsigned long v;
	int ret;

	memset(m, 0, sizeof(*m));
	if (strlen(name) >= sizeof(m->name))
		return -ENAMETOOLONG;
	strcpy(m->name, name);
	if (path_fmt(path, sizeof(path), "%s/%s/driver", devdir, name))
		return -ENAMETOOLONG;
	ret = iommu_sysfs_link_base(path, m->driver, sizeof(m->driver));
	if (ret && ret != -ENOENT)	/* no driver link: unbound */
		return ret;
	/* Non-PCI members have no class: they are never bridges. */
	if (!path_fmt(path, sizeof(path), "%s/%s/class", devdir, name) && !read_hex_attr(path, &v))
		m->bridge = (v >> 8) == 0x0604;	/* PCI Code and ID Assignment 1.11 §1.7: PCI-to-PCI bridge */
	if (!path_fmt(path, sizeof(path), "%s/%s/vendor", devdir, name) && !read_hex_attr(path, &v))
		m->vendor = (uint16_t)v;
	if (!path_fmt(path, sizeof(path), "%s/%s/device", devdir, name) && !read_hex_attr(path, &v))
		m->device = (uint16_t)v;
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct iommu_group_member *)a)->name,
		      ((const struct iommu_group_member *)b)->name);
}

/* Append one member to @g; 0 or -errno. */
static int add_member(struct iommu_group *g, const char *devdir, const char *name)
{
	struct iommu_group_member *m;
	int ret;

	m = realloc(g->member, (g->nr_members + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	g->member = m;
	ret = read_member(devdir, name, &m[g->nr_members]);
	if (!ret)
		g->nr_members++;
	return ret;
}

int iommu_group_read(const char *sysroot, int id, struct iommu_group *g, char *err, size_t errlen)
{
	char devdir[PATH_MAX];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	*g = (struct iommu_group){ .id = id };
	if (path_fmt(devdir, sizeof(devdir), "%s/kernel/iommu_groups/%d/devices", sysroot, id)) {
		errf(err, errlen, "group %d: sysfs root '%.64s' gives too long a path", id, sysroot);
		return -ENAMETOOLONG;
	}
	d = opendir(devdir);
	if (!d) {
		ret = -errno;
		errf(err, errlen, "group %d: cannot list %s: %s%s", id, devdir, strerror(-ret),
		     ret == -ENOENT ? ": no such IOMMU group; see `sluice devices`" : "");
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ret = add_member(g, devdir, de->d_name);
		if (ret)
			errf(err, errlen, "group %d: cannot read member %s under %s: %s", id, de->d_name,
			     devdir, strerror(-ret));
	}
	closedir(d);
	if (ret) {
		iommu_group_free(g);
		return ret;
	}
	qsort(g->member, g->nr_members, sizeof(*g->member), member_cmp);
	return 0;
}

void iommu_group_free(struct iommu_group *g)
{
	free(g->member);
	g->member = NULL;
	g->nr_members = 0;
}

static bool in_assign(const char *name, const char *const *assign, unsigned nr)
{
	char canon[IOMMU_BDF_LEN];
	unsigned i;

	for (i = 0; i < nr; i++)
		if (!iommu_bdf_parse(assign[i], canon, NULL, 0) && !strcmp(canon, name))
			return true;
	return false;
}

/*
 * What VFIO itself accepts beside the assigned devices (drivers/vfio/group.c,
 * vfio_group_viable → iommu_group_dma_owner_claimed): drivers that do no DMA
 * of their own (vfio-pci and its variant drivers "*_vfio_pci", pci-stub),
 * no driver, and bridges, which pcieport may keep.
 */
static bool member_harmless(const struct iommu_group_member *m)
{
	size_t n = strlen(m->driver);

	if (m->bridge || n == 0 || !strcmp(m->driver, "pci-stub"))
		return true;
	return n >= 8 && (!strcmp(m->driver + n - 8, "vfio-pci") || !strcmp(m->driver + n - 8, "vfio_pci"));
}

static bool blocks(const struct iommu_group_member *m, const char *const *assign, unsigned nr)
{
	return !member_harmless(m) && !in_assign(m->name, assign, nr);
}

int iommu_group_viable(const struct iommu_group *g, const char *const *assign, unsigned nr_assign,
		       char *err, size_t errlen)
{
	char canon[IOMMU_BDF_LEN];
	unsigned i, nr_block = 0, k = 0;
	size_t pos;

	for (i = 0; i < nr_assign; i++)
		if (iommu_bdf_parse(assign[i], canon, err, errlen))
			return -EINVAL;
	for (i = 0; i < g->nr_members; i++)
		nr_block += blocks(&g->member[i], assign, nr_assign);
	if (!nr_block)
		return 0;
	pos = errcat(err, errlen, 0, "group %d also holds ", g->id);
	for (i = 0; i < g->nr_members; i++) {
		const struct iommu_group_member *m = &g->member[i];

		if (!blocks(m, assign, nr_assign))
			continue;
		pos = errcat(err, errlen, pos, "%s%s (%04x:%04x), bound to %s",
			     k == 0 ? "" : k + 1 == nr_block ? ", and " : ", ", m->name, m->vendor, m->device,
			     m->driver);
		k++;
	}
	errcat(err, errlen, pos, ": unbind %s or assign the whole group", nr_block == 1 ? "it" : "them");
	return -EBUSY;
}

int iommu_group_check(const char *sysroot, int id, const char *const *assign, unsigned nr_assign,
		      char *err, size_t errlen)
{
	struct iommu_group g;
	int ret;

	ret = iommu_group_read(sysroot, id, &g, err, errlen);
	if (ret)
		return ret;
	ret = iommu_group_viable(&g, assign, nr_assign, err, errlen);
	iommu_group_free(&g);
	return ret;
}

int iommu_group_vfio_path(int id, char *buf, size_t len)
{
	if (id < 0)
		return -EINVAL;
	return path_fmt(buf, len, "/dev/vfio/%d", id);
}
