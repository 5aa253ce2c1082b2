/* sluice: `sluice release [BDF]`: give back what a killed sluice left behind. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iommu/group.h"
#include "sriov/sriov.h"
#include "vfio/bind.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/commands.h"
#include "vmm/log.h"



static const char release_usage[] =
	"usage: sluice release [BDF]\n"
	"\n"
	"Give back devices that a sluice killed with SIGKILL (or a crash) left bound\n"
	"to vfio-pci: each goes back to the driver and driver_override it had, as\n"
	"recorded under " BIND_RUNDIR "/devices. Without BDF, every such device, and\n"
	"the SR-IOV settings of 'run --net vf:' (each VF's settings, then its PF's\n"
	"link and VF count), recorded under " BIND_RUNDIR "/sriov.\n"
	"A device whose sluice still runs is left alone.\n";

/* 0 released, 1 nothing to do (live holder), <0 error. */
static int release_one(const char *bdf)
{
	struct bind_record r;
	int err = bind_record_read(BIND_RUNDIR, bdf, &r);

	if (err == -ENOENT) {
		pr_err("%s: sluice holds no record of it: nothing to release", bdf);
		return err;
	}
	if (err)
		return err;
	if (bind_pid_alive(r.pid)) {
		pr_err("%s: in use by VM '%s' (sluice pid %d): stop that sluice instead", bdf, r.vm,
		       (int)r.pid);
		return -EBUSY;
	}
	err = bind_restore("/sys", BIND_RUNDIR, &r);
	if (!err)
		printf("%s: released from VM '%s' (pid %d), back to %s\n", bdf, r.vm, (int)r.pid,
		       r.rebound ? (r.driver[0] ? r.driver : "no driver") : "vfio-pci, as found");
	return err;
}

static int release_all(void)
{
	struct dirent *e;
	int n = 0, err = 0, rc;
	DIR *d = opendir(BIND_RUNDIR "/devices");

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		rc = release_one(e->d_name);
		if (rc && rc != -EBUSY)
			err = rc;
		n += !rc;
	}
	if (d)
		closedir(d);
	/* After the bindings: a VF goes back to its driver before its PF's VF count changes. */
	rc = sriov_release_stale("/sys", BIND_RUNDIR);
	if (rc < 0)
		err = rc;
	else
		n += rc;
	if (!n && !err)
		printf("nothing to release\n");
	return err ? SLUICE_EXIT_FAIL : SLUICE_EXIT_OK;
}

int cmd_release(int argc, char **argv)
{
	char bdf[IOMMU_BDF_LEN], why[IOMMU_ERR_LEN];
	int err;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(release_usage, stdout);
		return SLUICE_EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fputs(release_usage, stderr);
		return SLUICE_EXIT_USAGE;
	}
	if (argc == 1)
		return release_all();
	if (iommu_bdf_parse(argv[1], bdf, why, sizeof(why))) {
		pr_err("%s", why);
		return SLUICE_EXIT_USAGE;
	}
	err = release_one(bdf);
	return !err ? SLUICE_EXIT_OK : err == -ENOENT || err == -EBUSY ? SLUICE_EXIT_USAGE
								      : SLUICE_EXIT_FAIL;
}
