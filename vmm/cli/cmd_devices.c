/*
 * sluice: `sluice devices [--json]`: every PCI device, its name (libpci),
 * driver, IOMMU group, PF/VF relations, and whether sluice could assign it,
 * and if not why (the one check in vfio/hostpci.c). JSON through jansson.
 * (This file includes libpci's <pci/pci.h>, whose struct pci_dev is not
 * vmm/pci.h's: it must not include vmm/pci.h.)
 */
#include <errno.h>
#include <jansson.h>
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio/bind.h"
#include "vfio/hostpci.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/commands.h"
#include "vmm/log.h"

struct dev_row {
	char bdf[HOSTPCI_BDF_LEN];
	uint16_t vendor, device;
	char name[128];
	char driver[64];
	int group;		/* -1: none */
	bool assignable;
	char why[HOSTPCI_WHY_LEN];
	char physfn[HOSTPCI_BDF_LEN];	/* a VF's PF, "" for others */
	int vf_index;			/* which VF of physfn, -1 when unknown */
	bool sriov;			/* an SR-IOV PF: */
	unsigned numvfs, totalvfs;
};

/* The check `sluice run --assign` makes before touching the host (vfio/hostpci.c). */
static void judge(const char *sysfs, struct dev_row *r)
{
	const char *self[1] = { r->bdf };

	r->assignable = !hostpci_check_assignable(sysfs, BIND_RUNDIR, r->bdf, self, 1, &r->group,
						  r->why, sizeof(r->why));
	if (r->assignable)
		r->why[0] = '\0';
}

static void fill_sriov(const char *sysfs, struct dev_row *r)
{
	unsigned idx;

	r->vf_index = -1;
	if (!hostpci_physfn(sysfs, r->bdf, r->physfn) &&
	    !hostpci_vf_index(sysfs, r->physfn, r->bdf, &idx))
		r->vf_index = (int)idx;
	r->sriov = !hostpci_sriov_totalvfs(sysfs, r->bdf, &r->totalvfs) &&
		   !hostpci_sriov_numvfs(sysfs, r->bdf, &r->numvfs);
}

static void fill_row(struct pci_access *pacc, struct pci_dev *p, struct dev_row *r)
{
	const char *sysfs = "/sys";

	pci_fill_info(p, PCI_FILL_IDENT | PCI_FILL_CLASS);
	snprintf(r->bdf, sizeof(r->bdf), "%04x:%02x:%02x.%d", p->domain, p->bus, p->dev, p->func);
	r->vendor = p->vendor_id;
	r->device = p->device_id;
	if (!pci_lookup_name(pacc, r->name, sizeof(r->name), PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
			     p->vendor_id, p->device_id))
		snprintf(r->name, sizeof(r->name), "%04x:%04x", p->vendor_id, p->device_id);
	if (hostpci_driver(sysfs, r->bdf, r->driver, sizeof(r->driver)))
		r->driver[0] = '\0';
	judge(sysfs, r);
	fill_sriov(sysfs, r);
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static json_t *row_json(const struct dev_row *r)
{
	char id[8];
	json_t *o = json_object();

	json_object_set_new(o, "bdf", json_string(r->bdf));
	snprintf(id, sizeof(id), "%04x", r->vendor);
	json_object_set_new(o, "vendor", json_string(id));
	snprintf(id, sizeof(id), "%04x", r->device);
	json_object_set_new(o, "device", json_string(id));
	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "driver", str_or_null(r->driver));
	json_object_set_new(o, "iommu_group", r->group >= 0 ? json_integer(r->group) : json_null());
	json_object_set_new(o, "assignable", json_boolean(r->assignable));
	json_object_set_new(o, "reason", r->assignable ? json_null() : json_string(r->why));
	json_object_set_new(o, "physfn", str_or_null(r->physfn));
	json_object_set_new(o, "vf_index", r->vf_index >= 0 ? json_integer(r->vf_index) : json_null());
	json_object_set_new(o, "sriov_numvfs", r->sriov ? json_integer(r->numvfs) : json_null());
	json_object_set_new(o, "sriov_totalvfs", r->sriov ? json_integer(r->totalvfs) : json_null());
	return o;
}

static int print_json(const struct dev_row *rows, size_t n)
{
	json_t *a = json_array();
	size_t i;
	int err;

	for (i = 0; i < n; i++)
		json_array_append_new(a, row_json(&rows[i]));
	err = json_dumpf(a, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(a);
	putchar('\n');
	return err ? -EIO : 0;
}

static void print_text(const struct dev_row *r)
{
	char group[16];

	snprintf(group, sizeof(group), r->group >= 0 ? "%d" : "-", r->group);
	printf("%-13s %04x:%04x %-10s %-5s %s%s\n    %s\n", r->bdf, r->vendor, r->device,
	       r->driver[0] ? r->driver : "-", group, r->assignable ? "assignable" : "no: ",
	       r->assignable ? "" : r->why, r->name);
	if (r->physfn[0] && r->vf_index >= 0)
		printf("    SR-IOV VF %d of PF %s\n", r->vf_index, r->physfn);
	else if (r->physfn[0])
		printf("    SR-IOV VF of PF %s\n", r->physfn);
	if (r->sriov)
		printf("    SR-IOV PF: %u of %u VFs ('sluice vf list %s')\n", r->numvfs, r->totalvfs,
		       r->bdf);
}

static int by_bdf(const void *a, const void *b)
{
	return strcmp(((const struct dev_row *)a)->bdf, ((const struct dev_row *)b)->bdf);
}

int cmd_devices(int argc, char **argv)
{
	struct pci_access *pacc;
	struct pci_dev *p;
	struct dev_row *rows = NULL, *tmp;
	size_t n = 0, i;
	bool json = false;
	int err;

	if (argc == 2 && !strcmp(argv[1], "--json"))
		json = true;
	else if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: sluice devices [--json]\n\nList PCI devices: address, IDs, driver, IOMMU group,\n"
		       "and whether 'sluice run --assign' would take it, and if not why.\n");
		return SLUICE_EXIT_OK;
	} else if (argc != 1) {
		fprintf(stderr, "usage: sluice devices [--json]\n");
		return SLUICE_EXIT_USAGE;
	}
	pacc = pci_alloc();
	pci_init(pacc);
	pci_scan_bus(pacc);
	for (p = pacc->devices; p; p = p->next) {
		tmp = realloc(rows, (n + 1) * sizeof(*rows));
		if (!tmp)
			break;
		rows = tmp;
		memset(&rows[n], 0, sizeof(rows[n]));
		fill_row(pacc, p, &rows[n++]);
	}
	pci_cleanup(pacc);
	qsort(rows, n, sizeof(*rows), by_bdf);
	if (json) {
		err = print_json(rows, n);
		free(rows);
		return err ? SLUICE_EXIT_FAIL : SLUICE_EXIT_OK;
	}
	printf("%-13s %-9s %-10s %-5s %s\n", "BDF", "ID", "DRIVER", "GROUP", "ASSIGN");
	for (i = 0; i < n; i++)
		print_text(&rows[i]);
	free(rows);
	return SLUICE_EXIT_OK;
}
