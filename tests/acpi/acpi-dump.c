/*
 * acpi-dump: sluice's ACPI tables as files, for ACPICA's iasl and acpiexec
 * (tests/acpi/run). A host-only test helper, not a bed tool.
 *
 *   acpi-dump [--cpus N] [--memory SIZE] [--viot IOMMU_BDF,EP_BDF...] DIR
 *
 * The tables are built as `sluice run --cpus N --memory SIZE` builds them
 * (vmm/machine_vmm.c, load_guest), then found as an OS finds them: from the RSDP
 * to the XSDT and its entries, from the FADT to the DSDT and the FACS. Each
 * is written to DIR/<signature>.dat, the names acpidump -b uses (rsdp, xsdt,
 * facp, dsdt, facs, apic, mcfg, viot), so a table nothing points at is not
 * dumped. --viot gives the VIOT of a virtio-iommu at IOMMU_BDF translating the
 * endpoints EP_BDF (16-bit bus << 8 | devfn numbers, as `sluice run --viommu`
 * fills them from the guest's PCI bus).
 *
 * DIR/layout gets what vmm/layout.h says the tables must describe, one
 * "key value..." line each, for the test to compare with ACPICA's view.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/acpi.h"
#include "vmm/cli/cli.h"
#include "vmm/layout.h"

#define HDR_LEN		36	/* ACPI 6.4 §5.2.6 */
#define RSDP_LEN	36	/* §5.2.5.3, revision 2 */
#define MAX_TABLES	16
#define ARRAY_SIZE_DUMP(a) (sizeof(a) / sizeof((a)[0]))

struct dump {
	const uint8_t *buf;	/* the region the guest sees at LAYOUT_ACPI */
	const char *dir;
	char seen[MAX_TABLES][5];
	unsigned nr_seen;
};

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The table at guest address @gpa, if its @len bytes lie inside the region. */
static const uint8_t *at(const struct dump *d, uint64_t gpa, uint64_t len)
{
	if (gpa < LAYOUT_ACPI || gpa - LAYOUT_ACPI > LAYOUT_ACPI_SIZE ||
	    len > LAYOUT_ACPI_SIZE - (gpa - LAYOUT_ACPI))
		return NULL;
	return d->buf + (gpa - LAYOUT_ACPI);
}

static int write_file(const struct dump *d, const char *sig, const uint8_t *p, size_t len)
{
	char path[4096], name[5];
	FILE *f;
	size_t i;

	for (i = 0; i < 4; i++)
		name[i] = (char)(sig[i] >= 'A' && sig[i] <= 'Z' ? sig[i] - 'A' + 'a' : sig[i]);
	name[4] = '\0';
	snprintf(path, sizeof(path), "%s/%s.dat", d->dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "acpi-dump: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Write the table at @gpa, whose length is at offset 4 (the FACS's too, §5.2.10). */
static int dump_table(struct dump *d, uint64_t gpa, const char *want_sig)
{
	const uint8_t *h = at(d, gpa, 8);
	char sig[5] = { 0 };
	unsigned i;

	if (!h || !at(d, gpa, rd32(h + 4)) || rd32(h + 4) < 8) {
		fprintf(stderr, "acpi-dump: the table at %#llx (length %u) does not lie inside "
			"the ACPI region %#llx-%#llx\n", (unsigned long long)gpa, h ? rd32(h + 4) : 0,
			(unsigned long long)LAYOUT_ACPI,
			(unsigned long long)(LAYOUT_ACPI + LAYOUT_ACPI_SIZE - 1));
		return -ERANGE;
	}
	memcpy(sig, h, 4);
	if (want_sig && strcmp(sig, want_sig)) {
		fprintf(stderr, "acpi-dump: %#llx holds '%s', not the %s\n",
			(unsigned long long)gpa, sig, want_sig);
		return -EINVAL;
	}
	for (i = 0; i < d->nr_seen; i++) {
		if (!strcmp(d->seen[i], sig)) {
			fprintf(stderr, "acpi-dump: two %s tables\n", sig);
			return -EEXIST;
		}
	}
	if (d->nr_seen == MAX_TABLES)
		return -E2BIG;
	memcpy(d->seen[d->nr_seen++], sig, sizeof(sig));
	return write_file(d, sig, h, rd32(h + 4));
}

/* FADT (§5.2.9): X_DSDT at 140 (else DSDT at 40), FIRMWARE_CTRL at 36 (else X_ at 132). */
static int dump_fadt_children(struct dump *d, uint64_t gpa)
{
	const uint8_t *f = at(d, gpa, 148);
	uint64_t dsdt, facs;
	int err;

	if (!f)
		return -ERANGE;
	dsdt = rd64(f + 140) ? rd64(f + 140) : rd32(f + 40);
	facs = rd32(f + 36) ? rd32(f + 36) : rd64(f + 132);
	err = dump_table(d, dsdt, "DSDT");
	if (!err)
		err = dump_table(d, facs, "FACS");
	return err;
}

static int dump_all(struct dump *d)
{
	const uint8_t *rsdp = at(d, LAYOUT_ACPI, RSDP_LEN), *x;
	uint64_t xsdt, entry;
	uint32_t i, n;
	int err;

	if (memcmp(rsdp, "RSD PTR ", 8)) {
		fprintf(stderr, "acpi-dump: no RSDP at %#llx\n", (unsigned long long)LAYOUT_ACPI);
		return -EINVAL;
	}
	err = write_file(d, "RSDP", rsdp, RSDP_LEN);
	xsdt = rd64(rsdp + 24);
	if (!err)
		err = dump_table(d, xsdt, "XSDT");
	if (err)
		return err;
	x = at(d, xsdt, HDR_LEN);
	n = (rd32(x + 4) - HDR_LEN) / 8;
	for (i = 0; i < n && !err; i++) {
		entry = rd64(x + HDR_LEN + 8 * i);
		err = dump_table(d, entry, NULL);
		if (!err && !memcmp(at(d, entry, 4), "FACP", 4))
			err = dump_fadt_children(d, entry);
	}
	return err;
}

/*
 * What the DSDT must say, from vmm/layout.h: the ECAM bus range, the MMIO
 * windows (min max), \_S5's SLP_TYP and every _PRT entry (slot pin gsi).
 */
static int write_layout(const struct dump *d, const struct acpi_config *cfg)
{
	char path[4096];
	unsigned slot, pin, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/layout", d->dir);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "acpi-dump: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	fprintf(f, "bus 0x0 %#llx\n", (unsigned long long)(LAYOUT_ECAM_SIZE / MiB - 1));
	fprintf(f, "mmio32 %#llx %#llx\n", (unsigned long long)LAYOUT_MMIO32_BASE,
		(unsigned long long)(LAYOUT_MMIO32_BASE + LAYOUT_MMIO32_SIZE - 1));
	fprintf(f, "mmio64 %#llx %#llx\n", (unsigned long long)cfg->mmio64_base,
		(unsigned long long)(cfg->mmio64_base + cfg->mmio64_size - 1));
	fprintf(f, "pci_config_ports %#x 8\n", LAYOUT_PORT_PCI_CF8);
	fprintf(f, "s5 %#x\n", LAYOUT_SLP_TYP_S5);
	for (slot = 0; slot < LAYOUT_PCI_SLOTS; slot++)
		for (pin = 0; pin < 4; pin++)
			fprintf(f, "prt %u %u %u\n", slot, pin, layout_pci_intx_gsi(slot, pin));
	if (cfg->viot.nr_endpoints)
		fprintf(f, "viot_iommu %#x\n", cfg->viot.iommu_bdf);
	for (i = 0; i < cfg->viot.nr_endpoints; i++)
		fprintf(f, "viot_endpoint %#x\n", cfg->viot.endpoint_bdf[i]);
	if (fclose(f)) {
		fprintf(stderr, "acpi-dump: %s: %s\n", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int usage(const char *why)
{
	fprintf(stderr, "acpi-dump: %s\nusage: acpi-dump [--cpus N] [--memory SIZE] "
		"[--viot IOMMU_BDF,EP_BDF...] DIR\n", why);
	return 2;
}

/* "0x18,0x20,0x29": the IOMMU's BDF, then the endpoints'. */
static int parse_viot(const char *s, struct acpi_viot *v)
{
	unsigned long n[1 + ACPI_VIOT_MAX_ENDPOINTS];
	unsigned i = 0;
	char *end;

	do {
		if (i == ARRAY_SIZE_DUMP(n))
			return -1;
		n[i] = strtoul(s, &end, 0);
		if (end == s || n[i] > 0xffff || (*end && *end != ','))
			return -1;
		i++;
		s = end + 1;
	} while (*end);
	if (i < 2)
		return -1;
	v->iommu_bdf = (uint16_t)n[0];
	for (v->nr_endpoints = 0; v->nr_endpoints < i - 1; v->nr_endpoints++)
		v->endpoint_bdf[v->nr_endpoints] = (uint16_t)n[v->nr_endpoints + 1];
	return 0;
}

int main(int argc, char **argv)
{
	struct acpi_viot viot = { 0 };
	unsigned long cpus = 1;
	uint64_t memory = 256 * MiB;
	struct acpi_config cfg;
	struct dump d = { 0 };
	uint8_t *buf;
	int i, err;

	for (i = 1; i < argc - 1; i += 2) {
		if (!strcmp(argv[i], "--cpus") && !cli_parse_uint(argv[i + 1], 1, ACPI_MAX_CPUS, &cpus))
			continue;
		if (!strcmp(argv[i], "--memory") && !cli_parse_size(argv[i + 1], &memory) && memory)
			continue;
		if (!strcmp(argv[i], "--viot") && !parse_viot(argv[i + 1], &viot))
			continue;
		return usage("bad option or value");
	}
	if (i != argc - 1)
		return usage("give the directory to write the tables to");
	d.dir = argv[argc - 1];
	/* As the VMM fills it for `sluice run --cpus N --memory SIZE`. */
	cfg = acpi_config_for((unsigned)cpus, memory);
	cfg.viot = viot;
	buf = calloc(1, LAYOUT_ACPI_SIZE);
	if (!buf)
		return 1;
	d.buf = buf;
	err = acpi_build(buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &cfg, NULL);
	if (err)
		fprintf(stderr, "acpi-dump: acpi_build: %s\n", strerror(-err));
	if (!err)
		err = dump_all(&d);
	if (!err)
		err = write_layout(&d, &cfg);
	free(buf);
	return err ? 1 : 0;
}
