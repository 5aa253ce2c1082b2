/* sluice: host PCI facts from sysfs (see hostpci.h). */
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
#include "vfio/bind.h"
#include "vfio/hostpci.h"

_Static_assert(HOSTPCI_BDF_LEN == IOMMU_BDF_LEN, "one BDF length");
_Static_assert(HOSTPCI_WHY_LEN == IOMMU_ERR_LEN, "one message length");

#define PCI_CFG_HEADER_TYPE	0x0e	/* PCI Local Bus 3.0 §6.1, Figure 6-1 */
#define PCI_CLASS_BRIDGE	0x06	/* base class: bridge device */

__attribute__((format(printf, 3, 4)))
static void say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
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

static int dev_path(char *buf, size_t len, const char *sysfs, const char *bdf, const char *leaf)
{
	return path_fmt(buf, len, "%s/bus/pci/devices/%s/%s", sysfs, bdf, leaf);
}

int hostpci_bdf_parse(const char *in, char out[HOSTPCI_BDF_LEN], char *why, size_t whylen)
{
	return iommu_bdf_parse(in, out, why, whylen);
}

bool hostpci_exists(const char *sysfs, const char *bdf)
{
	char path[PATH_MAX];

	return !path_fmt(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs, bdf) &&
	       access(path, F_OK) == 0;
}

int hostpci_attr(const char *sysfs, const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err;

	if (!len || (err = dev_path(path, sizeof(path), sysfs, bdf, attr)))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int hostpci_attr_ul(const char *sysfs, const char *bdf, const char *attr, unsigned long *v)
{
	char buf[32], *end;
	int err = hostpci_attr(sysfs, bdf, attr, buf, sizeof(buf));

	if (err)
		return err;
	errno = 0;
	*v = strtoul(buf, &end, 0);
	return errno || end == buf || *end || buf[0] == '-' ? -EINVAL : 0;
}

int hostpci_header_type(const char *sysfs, const char *bdf, uint8_t *hdr)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, err;

	if (dev_path(path, sizeof(path), sysfs, bdf, "config"))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, hdr, 1, PCI_CFG_HEADER_TYPE);
	err = n < 0 ? -errno : n != 1 ? -EIO : 0;
	close(fd);
	return err;
}

int hostpci_driver(const char *sysfs, const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	int err;

	if (dev_path(path, sizeof(path), sysfs, bdf, "driver"))
		return -ENAMETOOLONG;
	err = iommu_sysfs_link_base(path, buf, len);
	if (err == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return err;
}

/* Linux dev_valid_name(): 1-15 bytes, not "." or "..", no '/' ':' or whitespace. */
static bool ifname_valid(const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

int hostpci_from_netdev(const char *sysfs, const char *ifname, char bdf[HOSTPCI_BDF_LEN],
			char *why, size_t whylen)
{
	char path[PATH_MAX], base[64];
	int err;

	if (!ifname_valid(ifname)) {
		say(why, whylen, "'%.40s' is neither a PCI address (like 0000:01:10.0) nor a network interface name",
		    ifname);
		return -EINVAL;
	}
	if (path_fmt(path, sizeof(path), "%s/class/net/%s", sysfs, ifname) || access(path, F_OK) < 0) {
		say(why, whylen, "no network interface '%s' and it is not a PCI address (like 0000:01:10.0): see 'ip link' or 'sluice devices'",
		    ifname);
		return -ENODEV;
	}
	if (path_fmt(path, sizeof(path), "%s/class/net/%s/device", sysfs, ifname))
		return -ENAMETOOLONG;
	err = iommu_sysfs_link_base(path, base, sizeof(base));
	if (err) {
		say(why, whylen, "%s is a virtual interface, not a PCI device: give its physical port or a VF",
		    ifname);
		return -ENODEV;
	}
	if (iommu_bdf_parse(base, bdf, NULL, 0)) {
		say(why, whylen, "%s sits on %s, which is not a PCI device", ifname, base);
		return -ENODEV;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int hostpci_netdevs(const char *sysfs, const char *bdf, char (*names)[IFNAMSIZ], unsigned max)
{
	char path[PATH_MAX];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	if (dev_path(path, sizeof(path), sysfs, bdf, "net"))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.' && strlen(e->d_name) < IFNAMSIZ)
			strcpy(names[n++], e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	return (int)n;
}

static int link_bdf(const char *sysfs, const char *bdf, const char *leaf, char out[HOSTPCI_BDF_LEN])
{
	char path[PATH_MAX], base[64];
	int err;

	if (dev_path(path, sizeof(path), sysfs, bdf, leaf))
		return -ENAMETOOLONG;
	err = iommu_sysfs_link_base(path, base, sizeof(base));
	if (err)
		return err == -EINVAL ? -ENOENT : err;	/* not a link: no such relation */
	return iommu_bdf_parse(base, out, NULL, 0);
}

int hostpci_physfn(const char *sysfs, const char *bdf, char pf[HOSTPCI_BDF_LEN])
{
	return link_bdf(sysfs, bdf, "physfn", pf);
}

int hostpci_virtfn(const char *sysfs, const char *pf, unsigned idx, char vf[HOSTPCI_BDF_LEN])
{
	char leaf[32];

	snprintf(leaf, sizeof(leaf), "virtfn%u", idx);
	return link_bdf(sysfs, pf, leaf, vf);
}

int hostpci_vf_index(const char *sysfs, const char *pf, const char *vf, unsigned *idx)
{
	char got[HOSTPCI_BDF_LEN];
	unsigned total, i;

	if (hostpci_sriov_totalvfs(sysfs, pf, &total))
		return -ENOENT;
	for (i = 0; i < total; i++)
		if (!hostpci_virtfn(sysfs, pf, i, got) && !strcmp(got, vf)) {
			*idx = i;
			return 0;
		}
	return -ENOENT;
}

static int sriov_count(const char *sysfs, const char *bdf, const char *attr, unsigned *n)
{
	unsigned long v;
	int err = hostpci_attr_ul(sysfs, bdf, attr, &v);

	if (err)
		return err;
	if (v > 0xffff)	/* TotalVFs is a 16-bit field (PCIe Base 4.0 §9.3.3.6) */
		return -EINVAL;
	*n = (unsigned)v;
	return 0;
}

int hostpci_sriov_totalvfs(const char *sysfs, const char *bdf, unsigned *n)
{
	return sriov_count(sysfs, bdf, "sriov_totalvfs", n);
}

int hostpci_sriov_numvfs(const char *sysfs, const char *bdf, unsigned *n)
{
	return sriov_count(sysfs, bdf, "sriov_numvfs", n);
}

/* Class 0x06 subclasses (PCI Code and ID Assignment 1.11 §1.7). */
static int refuse_bridge(const char *bdf, unsigned long cls, uint8_t hdr, char *why, size_t whylen)
{
	unsigned sub = (cls >> 8) & 0xff;

	if (sub == 0x00)
		say(why, whylen, "%s is a host bridge: not a device a guest can own", bdf);
	else if (sub == 0x01)
		say(why, whylen, "%s is an ISA/LPC bridge: not a device a guest can own (it carries the host's legacy devices)",
		    bdf);
	else if ((hdr & 0x7f) != 0)
		say(why, whylen, "%s is a bridge (header type %u): assign the devices behind it instead",
		    bdf, hdr & 0x7f);
	else
		say(why, whylen, "%s is a bridge (class 0x%04lx): not a device a guest can own", bdf,
		    cls >> 8);
	return -EINVAL;
}

int hostpci_check_endpoint(const char *sysfs, const char *bdf, char *why, size_t whylen)
{
	unsigned long cls;
	uint8_t hdr;
	int err;

	err = hostpci_header_type(sysfs, bdf, &hdr);
	if (err) {
		say(why, whylen, "%s: cannot read its config space: %s", bdf, strerror(-err));
		return -EIO;
	}
	err = hostpci_attr_ul(sysfs, bdf, "class", &cls);
	if (err) {
		say(why, whylen, "%s: cannot read its class: %s", bdf, strerror(-err));
		return -EIO;
	}
	if (cls >> 16 == PCI_CLASS_BRIDGE || (hdr & 0x7f) != 0)
		return refuse_bridge(bdf, cls, hdr, why, whylen);
	return 0;
}

static int check_holder(const char *rundir, const char *bdf, char *why, size_t whylen)
{
	struct bind_record r;
	int err = bind_record_read(rundir, bdf, &r);

	if (err == -ENOENT)
		return 0;
	if (err) {
		say(why, whylen, "%s: its record under %s/devices cannot be read: check it by hand", bdf,
		    rundir);
		return err;
	}
	if (bind_pid_alive(r.pid)) {
		say(why, whylen, "%s: already assigned to VM '%s' (sluice pid %d): stop that VM first, or pick another device",
		    bdf, r.vm, (int)r.pid);
		return -EBUSY;
	}
	say(why, whylen, "%s: a sluice that died (pid %d, VM '%s') left it bound to vfio-pci: run 'sluice release %s' first",
	    bdf, (int)r.pid, r.vm, bdf);
	return -ESTALE;
}

int hostpci_check_assignable(const char *sysfs, const char *rundir, const char *bdf,
			     const char *const *set, unsigned nr_set, int *group, char *why,
			     size_t whylen)
{
	int err;

	*group = -1;
	if ((err = hostpci_check_endpoint(sysfs, bdf, why, whylen)))
		return err;
	if ((err = iommu_group_of(sysfs, bdf, group, why, whylen))) {
		*group = -1;
		return err;
	}
	if ((err = iommu_group_check(sysfs, *group, set, nr_set, why, whylen)))
		return err;
	return check_holder(rundir, bdf, why, whylen);
}
