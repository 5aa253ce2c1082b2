/*
 * sluice: `sluice devices [--json]`: every PCI device, its name (libpci),
 * driver, IOMMU group, and whether sluice could assign it, and if not why.
 * (This file includes libpci's <pci/pci.h>, whose struct pci_dev is not
 * vmm/pci.h's: it must not include vmm/pci.h.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommu/group.h"
#include "vfio/bind.h"
#include "vmm/cli/cli.h"
#include "vmm/cli/commands.h"
#include "vmm/log.h"

struct dev_row {
	char bdf[IOMMU_BDF_LEN];
	uint16_t vendor, device;
	char name[128];
	char driver[64];
	int group;		/* -1: none */
	bool assignable;
	char why[IOMMU_ERR_LEN];
};

static bool is_bridge(const char *bdf)
{
	char path[128];
	uint8_t hdr = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, &hdr, 1, 0x0e) != 1)
			hdr = 0;
		close(fd);
	}
	return (hdr & 0x7f) != 0;
}

/* The same checks `sluice run --assign` makes before touching the host. */
static void judge(struct dev_row *r)
{
	const char *self[1] = { r->bdf };
	struct bind_record rec;

	r->assignable = false;
	if (iommu_group_of("/sys", r->bdf, &r->group, r->why, sizeof(r->why))) {
		r->group = -1;
		snprintf(r->why, sizeof(r->why), "no IOMMU group: the host IOMMU is off or absent");
		return;
	}
	if (is_bridge(r->bdf)) {
		snprintf(r->why, sizeof(r->why), "a bridge: assign the devices behind it");
		return;
	}
	if (!bind_record_read(BIND_RUNDIR, r->bdf, &rec)) {
		snprintf(r->why, sizeof(r->why), bind_pid_alive(rec.pid)
			 ? "assigned to VM '%s' (sluice pid %d)"
			 : "left by a dead sluice (VM '%s', pid %d): run 'sluice release'", rec.vm, (int)rec.pid);
		return;
	}
	if (iommu_group_check("/sys", r->group, self, 1, r->why, sizeof(r->why)))
		return;
	r->assignable = true;
	r->why[0] = '\0';
}

static void fill_row(struct pci_access *pacc, struct pci_dev *p, struct dev_row *r)
{
	pci_fill_info(p, PCI_FILL_IDENT | PCI_FILL_CLASS);
	snprintf(r->bdf, sizeof(r->bdf), "%04x:%02x:%02x.%d", p->domain, p->bus, p->dev, p->func);
	r->vendor = p->vendor_id;
	r->device = p->device_id;
	if (!pci_lookup_name(pacc, r->name, sizeof(r->name), PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
			     p->vendor_id, p->device_id))
		snprintf(r->name, sizeof(r->name), "%04x:%04x", p->vendor_id, p->device_id);
	if (bind_current_driver("/sys", r->bdf, r->driver, sizeof(r->driver)))
		r->driver[0] = '\0';
	judge(r);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct dev_row *r, bool first)
{
	printf("%s\n  {\"bdf\": ", first ? "" : ",");
	json_str(r->bdf);
	printf(", \"vendor\": \"%04x\", \"device\": \"%04x\", \"name\": ", r->vendor, r->device);
	json_str(r->name);
	printf(", \"driver\": ");
	if (r->driver[0])
		json_str(r->driver);
	else
		printf("null");
	if (r->group >= 0)
		printf(", \"iommu_group\": %d", r->group);
	else
		printf(", \"iommu_group\": null");
	printf(", \"assignable\": %s, \"reason\": ", r->assignable ? "true" : "false");
	if (r->assignable)
		printf("null");
	else
		json_str(r->why);
	printf("}");
}

static void print_text(const struct dev_row *r)
{
	char group[16];

	snprintf(group, sizeof(group), r->group >= 0 ? "%d" : "-", r->group);
	printf("%-13s %04x:%04x %-10s %-5s %s%s%s\n    %s\n", r->bdf, r->vendor, r->device,
	       r->driver[0] ? r->driver : "-", group, r->assignable ? "assignable" : "no: ",
	       r->assignable ? "" : r->why, "", r->name);
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
	if (json)
		printf("[");
	else
		printf("%-13s %-9s %-10s %-5s %s\n", "BDF", "ID", "DRIVER", "GROUP", "ASSIGN");
	for (i = 0; i < n; i++) {
		if (json)
			print_json(&rows[i], i == 0);
		else
			print_text(&rows[i]);
	}
	if (json)
		printf("\n]\n");
	free(rows);
	return SLUICE_EXIT_OK;
}
