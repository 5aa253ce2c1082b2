/* sluice: the PF/VF model over the host-PCI helper, and VF settings by name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sriov/sriov.h"
#include "vfio/bind.h"
#include "vmm/log.h"

static int fill_pf(const char *sysfs, const char *bdf, struct sriov_pf *pf)
{
	char names[HOSTPCI_MAX_NETDEVS][IFNAMSIZ];
	int n;

	memset(pf, 0, sizeof(*pf));
	strcpy(pf->bdf, bdf);
	if (hostpci_sriov_totalvfs(sysfs, bdf, &pf->totalvfs) || !pf->totalvfs ||
	    hostpci_sriov_numvfs(sysfs, bdf, &pf->numvfs))
		return -ENOTSUP;
	if (hostpci_driver(sysfs, bdf, pf->driver, sizeof(pf->driver)))
		pf->driver[0] = '\0';
	n = hostpci_netdevs(sysfs, bdf, names, HOSTPCI_MAX_NETDEVS);
	if (n > 0)
		strcpy(pf->ifname, names[0]);
	return 0;
}

int sriov_pf_resolve(const char *sysfs, const char *spec, struct sriov_pf *pf, char *why,
		     size_t whylen)
{
	char bdf[HOSTPCI_BDF_LEN], pfbdf[HOSTPCI_BDF_LEN];
	int err;

	if (strchr(spec, ':')) {
		if ((err = hostpci_bdf_parse(spec, bdf, why, whylen)))
			return err;
		if (!hostpci_exists(sysfs, bdf)) {
			snprintf(why, whylen, "no PCI device %s: see 'sluice devices'", bdf);
			return -ENODEV;
		}
	} else if ((err = hostpci_from_netdev(sysfs, spec, bdf, why, whylen))) {
		return err;
	}
	if (!hostpci_physfn(sysfs, bdf, pfbdf)) {
		snprintf(why, whylen, "%s (%s) is a VF of PF %s: give the PF, or --assign the VF itself",
			 spec, bdf, pfbdf);
		return -EINVAL;
	}
	if (fill_pf(sysfs, bdf, pf)) {
		snprintf(why, whylen, "%s (%s) is not an SR-IOV PF (no SR-IOV capability): see 'sluice vf list'",
			 spec, bdf);
		return -EINVAL;
	}
	return 0;
}

static int by_bdf(const void *a, const void *b)
{
	return strcmp(((const struct sriov_pf *)a)->bdf, ((const struct sriov_pf *)b)->bdf);
}

int sriov_pf_list(const char *sysfs, struct sriov_pf *pfs, unsigned max)
{
	char path[PATH_MAX], bdf[HOSTPCI_BDF_LEN];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/bus/pci/devices", sysfs);
	if (!(d = opendir(path)))
		return -errno;
	while ((e = readdir(d)) && n < max)
		if (!hostpci_bdf_parse(e->d_name, bdf, NULL, 0) && !strcmp(bdf, e->d_name) &&
		    !fill_pf(sysfs, bdf, &pfs[n]))
			n++;
	closedir(d);
	qsort(pfs, n, sizeof(*pfs), by_bdf);
	return (int)n;
}

/* Who holds @vf: its sriov record, else its vfio binding record. */
static void vf_holder(const char *rundir, struct sriov_vf *v)
{
	struct sriov_vf_record sr;
	struct bind_record br;

	v->holder = 0;
	if (!sriov_vf_record_read(rundir, v->bdf, &sr)) {
		v->holder = sr.pid;
		snprintf(v->vm, sizeof(v->vm), "%s", sr.vm);
	} else if (!bind_record_read(rundir, v->bdf, &br)) {
		v->holder = br.pid;
		snprintf(v->vm, sizeof(v->vm), "%s", br.vm);
	}
	v->holder_alive = v->holder && bind_pid_alive(v->holder);
}

int sriov_vf_list(const char *sysfs, const char *rundir, const struct sriov_pf *pf,
		  struct sriov_vf *vfs, unsigned max)
{
	char names[HOSTPCI_MAX_NETDEVS][IFNAMSIZ];
	unsigned i, n = 0;

	for (i = 0; i < pf->numvfs && n < max; i++) {
		struct sriov_vf *v = &vfs[n];

		memset(v, 0, sizeof(*v));
		v->index = i;
		if (hostpci_virtfn(sysfs, pf->bdf, i, v->bdf))
			continue;
		if (hostpci_driver(sysfs, v->bdf, v->driver, sizeof(v->driver)))
			v->driver[0] = '\0';
		if (hostpci_netdevs(sysfs, v->bdf, names, HOSTPCI_MAX_NETDEVS) > 0)
			strcpy(v->netdev, names[0]);
		vf_holder(rundir, v);
		n++;
	}
	return (int)n;
}

int sriov_pick(const struct sriov_slot *slots, unsigned n, unsigned *idx)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!slots[i].held && !slots[i].foreign) {
			*idx = i;
			return 0;
		}
	return -EBUSY;
}

static int write_numvfs(const char *sysfs, const char *bdf, unsigned n)
{
	char path[PATH_MAX], val[16];
	int fd, len, err = 0;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/sriov_numvfs", sysfs, bdf);
	len = snprintf(val, sizeof(val), "%u", n);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, (size_t)len) != len)
		err = -errno;
	close(fd);
	return err;
}

int sriov_set_numvfs(const char *sysfs, const struct sriov_pf *pf, unsigned n)
{
	unsigned now = 0;
	int err = 0;

	if (!hostpci_sriov_numvfs(sysfs, pf->bdf, &now) && now == n)
		return 0;
	/* The kernel takes a new non-zero count only from 0 (drivers/pci/iov.c sriov_numvfs_store). */
	if (now && n)
		err = write_numvfs(sysfs, pf->bdf, 0);
	if (!err)
		err = write_numvfs(sysfs, pf->bdf, n);
	if (err)
		pr_err("%s (%s): setting sriov_numvfs to %u: %s: see dmesg", pf->bdf,
		       pf->ifname[0] ? pf->ifname : "no netdev", n, strerror(-err));
	return err;
}

int sriov_pf_read_link(struct sriov_nl *nl, const struct sriov_pf *pf, struct sriov_link *l)
{
	unsigned idx = pf->ifname[0] ? if_nametoindex(pf->ifname) : 0;
	int err;

	if (!idx) {
		pr_err("%s: the PF has no network interface (driver '%s'): bind it to its NIC driver first",
		       pf->bdf, pf->driver[0] ? pf->driver : "none");
		return -ENODEV;
	}
	err = sriov_nl_get_link(nl, (int)idx, l);
	if (err)
		pr_err("%s (%s): reading its VF settings over rtnetlink: %s", pf->bdf, pf->ifname,
		       strerror(-err));
	return err;
}

int sriov_vf_apply(struct sriov_nl *nl, const struct sriov_pf *pf, const struct sriov_vf_set *s)
{
	unsigned idx = if_nametoindex(pf->ifname);
	int err = idx ? sriov_nl_set_vf(nl, (int)idx, s) : -ENODEV;

	if (err == -EOPNOTSUPP)
		pr_err("%s (%s) VF %u: %s: not supported by driver %s", pf->bdf, pf->ifname, s->vf,
		       sriov_setting_name(s->what), pf->driver[0] ? pf->driver : "(none)");
	else if (err)
		pr_err("%s (%s) VF %u: %s: refused: %s", pf->bdf, pf->ifname, s->vf,
		       sriov_setting_name(s->what), strerror(-err));
	return err;
}
