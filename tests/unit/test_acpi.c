/*
 * cmocka: ACPI tables and the AML emitter, on plain buffers. Field offsets
 * are written out from the spec (ACPI 6.4 §5.2) rather than taken from
 * vmm/acpi.c's structs, so a wrong struct layout fails here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/acpi.h"
#include "vmm/aml.h"
#include "vmm/layout.h"
#include "vmm/log.h"

#define FILL	0xa5	/* what the buffer held before acpi_build */
#define GUARD	64
#define HDR	36	/* §5.2.6 header */

/*
 * The test's own checksum (§5.2.6: all bytes of a table sum to zero modulo
 * 256), summed wide and reduced once, so it shares no code with
 * acpi_checksum(), which is checked against known vectors below.
 */
static unsigned sum8(const uint8_t *p, size_t len)
{
	unsigned long total = 0;
	size_t i;

	for (i = 0; i < len; i++)
		total += p[i];
	return (unsigned)(total % 256);
}

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

struct tables {
	uint8_t *buf;
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *mcfg, *dsdt, *facs;
	size_t end;	/* offset just past the last byte of any table */
};

/* The host pointer for a guest address in the region, @n bytes of it. */
static const uint8_t *at_gpa(const struct tables *t, uint64_t gpa, size_t n)
{
	assert_true(gpa >= LAYOUT_ACPI);
	assert_true(gpa - LAYOUT_ACPI + n <= LAYOUT_ACPI_SIZE);
	return t->buf + (gpa - LAYOUT_ACPI);
}

/* Signature, checksum and the OEM fields of a table with a §5.2.6 header. */
static void check_header(const uint8_t *h, const char *sig, uint8_t revision)
{
	assert_memory_equal(h, sig, 4);
	assert_true(rd32(h + 4) >= HDR);
	assert_int_equal(h[8], revision);
	assert_int_equal(sum8(h, rd32(h + 4)), 0);
	assert_memory_equal(h + 10, "SLUICE", 6);
	assert_memory_equal(h + 16, "SLUICEVM", 8);
}

static void note_end(struct tables *t, const uint8_t *p, size_t len)
{
	size_t end = (size_t)(p - t->buf) + len;

	if (end > t->end)
		t->end = end;
}

/* Build into a FILL-ed region at LAYOUT_ACPI and find every table. */
static void build(struct tables *t, const struct acpi_config *cfg)
{
	uint64_t rsdp_gpa = 0;
	const uint8_t *x;

	memset(t, 0, sizeof(*t));
	t->buf = malloc(LAYOUT_ACPI_SIZE);
	assert_non_null(t->buf);
	memset(t->buf, FILL, LAYOUT_ACPI_SIZE);
	assert_int_equal(acpi_build(t->buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, cfg, &rsdp_gpa), 0);
	assert_int_equal(rsdp_gpa, LAYOUT_ACPI);
	t->rsdp = t->buf;
	note_end(t, t->rsdp, 36);
	x = t->xsdt = at_gpa(t, rd64(t->rsdp + 24), HDR);
	note_end(t, x, rd32(x + 4));
	t->fadt = at_gpa(t, rd64(x + HDR), 276);
	t->madt = at_gpa(t, rd64(x + HDR + 8), HDR);
	t->mcfg = at_gpa(t, rd64(x + HDR + 16), HDR);
	t->dsdt = at_gpa(t, rd64(t->fadt + 140), HDR);
	t->facs = at_gpa(t, rd32(t->fadt + 36), 64);
	note_end(t, t->fadt, rd32(t->fadt + 4));
	note_end(t, t->madt, rd32(t->madt + 4));
	note_end(t, t->mcfg, rd32(t->mcfg + 4));
	note_end(t, t->dsdt, rd32(t->dsdt + 4));
	note_end(t, t->facs, 64);
}

static void build_cpus(struct tables *t, unsigned nr_cpus)
{
	struct acpi_config cfg = {
		.nr_cpus = nr_cpus,
		.mmio64_base = layout_mmio64_base(8 * GiB),
		.mmio64_size = LAYOUT_MMIO64_SIZE,
	};

	build(t, &cfg);
}

static void rsdp_checksums(void **state)
{
	struct tables t;

	(void)state;
	build_cpus(&t, 1);
	assert_memory_equal(t.rsdp, "RSD PTR ", 8);
	assert_int_equal(sum8(t.rsdp, 20), 0);
	assert_int_equal(sum8(t.rsdp, 36), 0);
	assert_memory_equal(t.rsdp + 9, "SLUICE", 6);
	assert_int_equal(t.rsdp[15], 2);
	assert_int_equal(rd32(t.rsdp + 16), 0);		/* no RSDT */
	assert_int_equal(rd32(t.rsdp + 20), 36);
	free(t.buf);
}

/*
 * acpi_checksum() on known vectors: an RSDP made by ACPICA's iasl (the
 * `iasl -T RSDP` template, compiled: OEM "INTEL ", revision 2, checksums
 * 0x43 and 0xdc), valid over its first 20 bytes and over all 36; sums worked
 * out by hand; and the wrap at 256.
 */
static void checksum_known_vectors(void **state)
{
	static const uint8_t iasl_rsdp[36] = {
		'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ', 0x43, 'I', 'N', 'T', 'E', 'L', ' ', 0x02,
		0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0xdc, 0x00, 0x00, 0x00,
	};
	uint8_t ramp[256];
	size_t i;

	(void)state;
	assert_int_equal(acpi_checksum(iasl_rsdp, 20), 0);
	assert_int_equal(acpi_checksum(iasl_rsdp, 36), 0);
	assert_int_equal(acpi_checksum(iasl_rsdp, 8), 0x1f);	/* 0x21f: "RSD PTR " */
	assert_int_equal(acpi_checksum(iasl_rsdp, 9), 0x62);	/* + 0x43 */
	for (i = 0; i < sizeof(ramp); i++)
		ramp[i] = (uint8_t)i;
	assert_int_equal(acpi_checksum(ramp, sizeof(ramp)), 0x80);	/* 255 * 256 / 2 = 0x7f80 */
	assert_int_equal(acpi_checksum(ramp + 255, 1), 0xff);
	assert_int_equal(acpi_checksum((const uint8_t[]){ 0xff, 0x01 }, 2), 0);
	assert_int_equal(acpi_checksum(ramp, 0), 0);
	assert_int_equal(sum8(iasl_rsdp, 36), 0);	/* and the test's own sum agrees */
	assert_int_equal(sum8(ramp, sizeof(ramp)), 0x80);
}

static void xsdt_points_at_tables(void **state)
{
	struct tables t;

	(void)state;
	build_cpus(&t, 1);
	check_header(t.xsdt, "XSDT", 1);
	assert_int_equal(rd32(t.xsdt + 4), HDR + 3 * 8);
	check_header(t.fadt, "FACP", 6);
	check_header(t.madt, "APIC", 5);
	check_header(t.mcfg, "MCFG", 1);
	check_header(t.dsdt, "DSDT", 2);
	assert_memory_equal(t.facs, "FACS", 4);
	assert_int_equal(rd32(t.facs + 4), 64);
	free(t.buf);
}

/*
 * Each length field covers exactly the bytes written: tables do not overlap,
 * the gaps between them are zeroed alignment padding, and everything past
 * the last table still holds FILL.
 */
static void lengths_match_bytes_used(void **state)
{
	const uint8_t *tab[7];
	size_t len[7], i, j, pos = 0;
	struct tables t;

	(void)state;
	build_cpus(&t, 3);
	tab[0] = t.rsdp;
	tab[1] = t.facs;
	tab[2] = t.dsdt;
	tab[3] = t.fadt;
	tab[4] = t.madt;
	tab[5] = t.mcfg;
	tab[6] = t.xsdt;
	len[0] = 36;
	len[1] = 64;
	for (i = 2; i < 7; i++)
		len[i] = rd32(tab[i] + 4);
	for (i = 0; i < 7; i++) {	/* visit the tables in address order */
		size_t k = 0, next = SIZE_MAX;

		for (j = 0; j < 7; j++) {
			size_t off = (size_t)(tab[j] - t.buf);

			if (off >= pos && off < next) {
				next = off;
				k = j;
			}
		}
		assert_true(next != SIZE_MAX);
		assert_true(next - pos < 64);	/* alignment padding only */
		for (; pos < next; pos++)
			assert_int_equal(t.buf[pos], 0);
		pos = next + len[k];
	}
	assert_int_equal(pos, t.end);
	for (; pos < LAYOUT_ACPI_SIZE; pos++)
		assert_int_equal(t.buf[pos], FILL);
	free(t.buf);
}

static void fadt_fields(void **state)
{
	const uint8_t *f;
	struct tables t;

	(void)state;
	build_cpus(&t, 1);
	f = t.fadt;
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(rd32(f + 40), rd64(f + 140));		/* DSDT, X_DSDT */
	assert_int_not_equal(rd32(f + 36), 0);			/* FIRMWARE_CTRL */
	assert_int_equal(rd32(f + 36) % 64, 0);			/* the FACS is 64-byte aligned, §5.2.10 */
	assert_int_equal(rd64(f + 132), 0);			/* X_FIRMWARE_CTRL: zero, §5.2.9 */
	assert_int_equal(rd16(f + 46), LAYOUT_IRQ_SCI);
	assert_int_equal(rd32(f + 48), 0);			/* SMI_CMD */
	assert_int_equal(rd32(f + 56), LAYOUT_PORT_PM1A_EVT);
	assert_int_equal(rd32(f + 64), LAYOUT_PORT_PM1A_CNT);
	assert_int_equal(rd32(f + 60) | rd32(f + 68) | rd32(f + 72), 0);	/* PM1b, PM2 */
	assert_int_equal(rd32(f + 76) | rd32(f + 80) | rd32(f + 84), 0);	/* PM_TMR, GPE */
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91] | f[92] | f[93], 0);
	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK: system I/O, 32 and 16 bits */
	assert_int_equal(f[148], 1);
	assert_int_equal(f[149], 32);
	assert_int_equal(rd64(f + 152), LAYOUT_PORT_PM1A_EVT);
	assert_int_equal(f[172], 1);
	assert_int_equal(f[173], 16);
	assert_int_equal(rd64(f + 176), LAYOUT_PORT_PM1A_CNT);
	assert_int_equal(rd64(f + 212) | rd64(f + 224) | rd64(f + 236), 0);
	/* RESET_REG: system I/O, 8 bits, byte access */
	assert_int_equal(f[116], 1);
	assert_int_equal(f[117], 8);
	assert_int_equal(f[119], 1);
	assert_int_equal(rd64(f + 120), LAYOUT_PORT_RESET);
	assert_int_equal(f[128], LAYOUT_RESET_VALUE);
	/* WBINVD, PWR_BUTTON, SLP_BUTTON, RESET_REG_SUP; not HW_REDUCED_ACPI */
	assert_int_equal(rd32(f + 112), 0x431);
	/* LEGACY_DEVICES, VGA Not Present, ASPM Controls, CMOS RTC Not Present; no 8042 and
	 * not MSI Not Supported (bits 1 and 3 clear) */
	assert_int_equal(rd16(f + 109), 0x35);
	assert_int_equal(f[131], 4);
	free(t.buf);
}

static void check_madt_cpus(unsigned n)
{
	const uint8_t *m, *e;
	unsigned cpus = 0;
	struct tables t;
	uint32_t len;

	build_cpus(&t, n);
	m = t.madt;
	len = rd32(m + 4);
	assert_int_equal(len, 44 + 8 * n + 12 + 10 + 6);
	assert_int_equal(rd32(m + 36), LAYOUT_LAPIC);
	assert_int_equal(rd32(m + 40), 1);			/* PCAT_COMPAT */
	for (e = m + 44; e < m + len; e += e[1]) {
		assert_true(e[1] >= 2);
		if (e[0] != 0)
			continue;
		assert_int_equal(e[1], 8);
		assert_int_equal(e[2], cpus);			/* processor UID */
		assert_int_equal(e[3], cpus);			/* APIC ID */
		assert_int_equal(rd32(e + 4), 1);		/* enabled */
		cpus++;
	}
	assert_ptr_equal(e, m + len);
	assert_int_equal(cpus, n);
	free(t.buf);
}

static void madt_cpus(void **state)
{
	(void)state;
	check_madt_cpus(1);
	check_madt_cpus(2);
	check_madt_cpus(64);
	check_madt_cpus(ACPI_MAX_CPUS);
}

static void madt_ioapic_and_overrides(void **state)
{
	const uint8_t *m, *e;
	unsigned ioapics = 0, isos = 0, nmis = 0;
	struct tables t;

	(void)state;
	build_cpus(&t, 2);
	m = t.madt;
	for (e = m + 44; e < m + rd32(m + 4); e += e[1]) {
		if (e[0] == 1) {
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], 0);
			assert_int_equal(rd32(e + 4), LAYOUT_IOAPIC);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
		} else if (e[0] == 2) {
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);		/* ISA */
			assert_int_equal(e[3], LAYOUT_IRQ_SCI);
			assert_int_equal(rd32(e + 4), LAYOUT_IRQ_SCI);
			assert_int_equal(rd16(e + 8), 0x0d);	/* level, active high */
			isos++;
		} else if (e[0] == 4) {
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);		/* all processors */
			assert_int_equal(e[5], 1);		/* LINT1 */
			nmis++;
		}
	}
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
	free(t.buf);
}

static void mcfg_entry(void **state)
{
	struct tables t;

	(void)state;
	build_cpus(&t, 1);
	assert_int_equal(rd32(t.mcfg + 4), 60);
	assert_int_equal(rd64(t.mcfg + 44), LAYOUT_ECAM_BASE);
	assert_int_equal(rd16(t.mcfg + 52), 0);
	assert_int_equal(t.mcfg[54], 0);
	assert_int_equal(t.mcfg[55], 0);
	free(t.buf);
}

/* AML: PkgLength encodings at the edges of each size (§20.2.4). */
static void pkglen_boundaries(void **state)
{
	static const struct {
		uint32_t value;
		size_t n;
		uint8_t bytes[4];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 63, 1, { 0x3f } },
		{ 64, 2, { 0x40, 0x04 } },
		{ 4095, 2, { 0x4f, 0xff } },
		{ 4096, 3, { 0x80, 0x00, 0x01 } },
		{ 1048575, 3, { 0x8f, 0xff, 0xff } },
		{ 1048576, 4, { 0xc0, 0x00, 0x00, 0x01 } },
		{ AML_PKGLEN_MAX, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[4];
	uint32_t v;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(aml_pkglen_encode(out, cases[i].value), cases[i].n);
		assert_memory_equal(out, cases[i].bytes, cases[i].n);
		assert_int_equal(aml_pkglen_decode(out, cases[i].n, &v), cases[i].n);
		assert_int_equal(v, cases[i].value);
		assert_int_equal(aml_pkglen_decode(out, cases[i].n - 1, &v), 0);
	}
	assert_int_equal(aml_pkglen_encode(out, AML_PKGLEN_MAX + 1), 0);
}

/*
 * Scope(\) { @body - 2 filler bytes }: the PkgLength counts its own bytes, so
 * the largest body for n bytes is max(n) - n, and one more byte needs n + 1.
 */
static void check_emitted_pkglen(size_t body, size_t want_n)
{
	size_t filler = body - 2, cap = body + 16, n, i;
	uint8_t *buf = malloc(cap), *fill = malloc(filler);
	struct aml a;
	size_t mark;
	uint32_t v;

	assert_non_null(buf);
	assert_non_null(fill);
	memset(fill, 0x77, filler);
	aml_init(&a, buf, cap);
	mark = aml_scope_begin(&a, "\\");
	aml_bytes(&a, fill, filler);
	aml_end(&a, mark);
	assert_int_equal(aml_error(&a), 0);
	assert_int_equal(buf[0], 0x10);
	n = aml_pkglen_decode(buf + 1, a.len - 1, &v);
	assert_int_equal(n, want_n);
	assert_int_equal(v, n + body);
	assert_int_equal(a.len, 1 + n + body);
	assert_int_equal(buf[1 + n], 0x5c);
	assert_int_equal(buf[2 + n], 0x00);
	for (i = 0; i < filler; i++)
		assert_int_equal(buf[3 + n + i], 0x77);
	free(fill);
	free(buf);
}

static void pkglen_emitted(void **state)
{
	(void)state;
	check_emitted_pkglen(62, 1);
	check_emitted_pkglen(63, 2);
	check_emitted_pkglen(4093, 2);
	check_emitted_pkglen(4094, 3);
	check_emitted_pkglen(1048572, 3);
	check_emitted_pkglen(1048573, 4);
}

#define EMIT(call, ...) do {						\
	static const uint8_t want_[] = { __VA_ARGS__ };			\
	aml_init(&a, buf, sizeof(buf));					\
	call;								\
	assert_int_equal(aml_error(&a), 0);				\
	assert_int_equal(a.len, sizeof(want_));				\
	assert_memory_equal(buf, want_, sizeof(want_));			\
} while (0)

#define EMIT_FAILS(call, err) do {					\
	aml_init(&a, buf, sizeof(buf));					\
	call;								\
	assert_int_equal(aml_error(&a), err);				\
} while (0)

static void aml_encodings(void **state)
{
	uint8_t buf[64];
	struct aml a;

	(void)state;
	EMIT(aml_namestring(&a, "\\_SB.PCI0"),
	     0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	EMIT(aml_namestring(&a, "_S5"), '_', 'S', '5', '_');
	EMIT(aml_namestring(&a, "^^AB"), 0x5e, 0x5e, 'A', 'B', '_', '_');
	EMIT(aml_namestring(&a, "\\"), 0x5c, 0x00);
	EMIT(aml_namestring(&a, "A.B.C"), 0x2f, 3, 'A', '_', '_', '_',
	     'B', '_', '_', '_', 'C', '_', '_', '_');
	EMIT_FAILS(aml_namestring(&a, "1ABC"), -EINVAL);
	EMIT_FAILS(aml_namestring(&a, "ABCDE"), -EINVAL);
	EMIT_FAILS(aml_namestring(&a, "pci0"), -EINVAL);
	EMIT_FAILS(aml_namestring(&a, "A..B"), -EINVAL);
	EMIT(aml_int(&a, 0), 0x00);
	EMIT(aml_int(&a, 1), 0x01);
	EMIT(aml_int(&a, 5), 0x0a, 0x05);
	EMIT(aml_int(&a, 0x1234), 0x0b, 0x34, 0x12);
	EMIT(aml_int(&a, 0x12345678), 0x0c, 0x78, 0x56, 0x34, 0x12);
	EMIT(aml_int(&a, 1ull << 32), 0x0e, 0, 0, 0, 0, 1, 0, 0, 0);
	EMIT(aml_eisaid(&a, "PNP0A03"), 0x0c, 0x41, 0xd0, 0x0a, 0x03);
	EMIT(aml_eisaid(&a, "PNP0501"), 0x0c, 0x41, 0xd0, 0x05, 0x01);
	EMIT_FAILS(aml_eisaid(&a, "pnp0a03"), -EINVAL);
	EMIT_FAILS(aml_eisaid(&a, "PNP0A0"), -EINVAL);
	EMIT(aml_string(&a, "QEMU0001"), 0x0d, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0);
	EMIT({ size_t m_ = aml_method_begin(&a, "_STA", 0, false);
	       aml_return(&a); aml_int(&a, 0x0f); aml_end(&a, m_); },
	     0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f);
	EMIT({ size_t m_ = aml_restemplate_begin(&a);
	       aml_res_irq(&a, 4); aml_restemplate_end(&a, m_); },
	     0x11, 0x09, 0x0b, 0x05, 0x00, 0x22, 0x10, 0x00, 0x79, 0x00);
	EMIT_FAILS(aml_res_irq(&a, 16), -EINVAL);
}

/* Method flags, If/Else, operators, ArgN/LocalN, buffers and ToUUID (§20.2.5, §19.6.142). */
static void aml_method_encodings(void **state)
{
	static const uint8_t bytes[3] = { 0xde, 0xad, 0xbe };
	uint8_t buf[64];
	struct aml a;

	(void)state;
	/* Method (_OSC, 4, Serialized) { Return (Arg3) }: flags 4 | 0x08 */
	EMIT({ size_t m_ = aml_method_begin(&a, "_OSC", 4, true);
	       aml_return(&a); aml_arg(&a, 3); aml_end(&a, m_); },
	     0x14, 0x08, '_', 'O', 'S', 'C', 0x0c, 0xa4, 0x6b);
	EMIT_FAILS(aml_method_begin(&a, "_OSC", 8, false), -EINVAL);
	/* If (LEqual (Arg0, One)) { Return (Zero) } Else { Return (One) } */
	EMIT({ size_t i_ = aml_if_begin(&a); size_t e_;
	       aml_op(&a, AML_OP_LEQUAL); aml_arg(&a, 0); aml_int(&a, 1);
	       aml_return(&a); aml_int(&a, 0); aml_end(&a, i_);
	       e_ = aml_else_begin(&a); aml_return(&a); aml_int(&a, 1); aml_end(&a, e_); },
	     0xa0, 0x06, 0x93, 0x68, 0x01, 0xa4, 0x00, 0xa1, 0x03, 0xa4, 0x01);
	EMIT({ aml_arg(&a, 0); aml_arg(&a, 6); aml_local(&a, 0); aml_local(&a, 7); },
	     0x68, 0x6e, 0x60, 0x67);
	EMIT_FAILS(aml_arg(&a, 7), -EINVAL);
	EMIT_FAILS(aml_local(&a, 8), -EINVAL);
	/* Store (Local0, CDW3); And (CDW3, 0x10, Local0); Or; LNot; LLess; CreateDWordField */
	EMIT({ aml_op(&a, AML_OP_STORE); aml_op(&a, AML_OP_AND); aml_op(&a, AML_OP_OR);
	       aml_op(&a, AML_OP_CREATE_DWORD_FIELD); aml_op(&a, AML_OP_LNOT);
	       aml_op(&a, AML_OP_LEQUAL); aml_op(&a, AML_OP_LLESS); },
	     0x70, 0x7b, 0x7d, 0x8a, 0x92, 0x93, 0x95);
	EMIT(aml_buffer(&a, bytes, 3), 0x11, 0x06, 0x0a, 0x03, 0xde, 0xad, 0xbe);
	EMIT(aml_buffer(&a, bytes, 0), 0x11, 0x02, 0x00);
	/* Linux's OSC_UUID bytes for the PCI host bridge (drivers/pci/pci-acpi.c) */
	EMIT(aml_uuid(&a, "33DB4D5B-1FF7-401C-9657-7441C03DD766"),
	     0x11, 0x13, 0x0a, 0x10, 0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
	     0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66);
	EMIT(aml_uuid(&a, "33db4d5b-1ff7-401c-9657-7441c03dd766"),
	     0x11, 0x13, 0x0a, 0x10, 0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
	     0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66);
	EMIT_FAILS(aml_uuid(&a, "33DB4D5B-1FF7-401C-9657-7441C03DD76"), -EINVAL);
	EMIT_FAILS(aml_uuid(&a, "33DB4D5B-1FF7-401C-9657-7441C03DD7666"), -EINVAL);
	EMIT_FAILS(aml_uuid(&a, "33DB4D5B_1FF7-401C-9657-7441C03DD766"), -EINVAL);
	EMIT_FAILS(aml_uuid(&a, "33DB4D5B-1FF7-401C-9657-7441C03DD76G"), -EINVAL);
	EMIT_FAILS(aml_uuid(&a, "33DB4D5B1FF7-401C-9657-7441C03DD7661"), -EINVAL);
}

/* A full emitter stops at its capacity and writes nothing past it. */
static void aml_overflow(void **state)
{
	uint8_t buf[8];
	struct aml a;
	size_t len, i;

	(void)state;
	memset(buf, FILL, sizeof(buf));
	aml_init(&a, buf, 3);
	aml_int(&a, 0x12345678);
	assert_int_equal(aml_error(&a), -ENOSPC);
	assert_true(a.len <= 3);
	len = a.len;
	aml_int(&a, 0);		/* no-op after an error */
	assert_int_equal(a.len, len);
	for (i = 3; i < sizeof(buf); i++)
		assert_int_equal(buf[i], FILL);
}

/* The DSDT's devices, found by walking its top level (§20.2.5). */
struct dsdt {
	struct tables t;
	const uint8_t *end;
	const uint8_t *s5;		/* the PackageOp of \_S5 */
	struct { char name[5]; const uint8_t *start, *end; } dev[8];
	unsigned nr_devs;
};

/* Opcode, PkgLength: returns where the object ends; *p moves past PkgLength. */
static const uint8_t *pkg_end(const uint8_t **p, const uint8_t *limit)
{
	const uint8_t *start = *p;
	uint32_t v;
	size_t n = aml_pkglen_decode(start, (size_t)(limit - start), &v);

	assert_true(n > 0);
	assert_true(v <= (size_t)(limit - start));
	*p += n;
	return start + v;
}

static void walk_sb(struct dsdt *d, const uint8_t *p, const uint8_t *end)
{
	assert_memory_equal(p, "\\_SB_", 5);
	for (p += 5; p < end; ) {
		assert_true(d->nr_devs < ARRAY_SIZE(d->dev));
		assert_int_equal(p[0], 0x5b);
		assert_int_equal(p[1], 0x82);
		p += 2;
		d->dev[d->nr_devs].start = p;
		d->dev[d->nr_devs].end = pkg_end(&p, end);
		memcpy(d->dev[d->nr_devs].name, p, 4);
		d->dev[d->nr_devs].name[4] = '\0';
		p = d->dev[d->nr_devs++].end;
	}
	assert_ptr_equal(p, end);
}

/* DefinitionBlock { Scope (\_SB) { Device... } Name (\_S5, Package) } */
static void build_dsdt(struct dsdt *d, const struct acpi_config *cfg)
{
	const uint8_t *p, *sb_end;

	memset(d, 0, sizeof(*d));
	build(&d->t, cfg);
	p = d->t.dsdt + HDR;
	d->end = d->t.dsdt + rd32(d->t.dsdt + 4);
	assert_int_equal(*p++, 0x10);
	sb_end = pkg_end(&p, d->end);
	walk_sb(d, p, sb_end);
	p = sb_end;
	assert_int_equal(*p++, 0x08);
	assert_memory_equal(p, "\\_S5_", 5);
	p += 5;
	d->s5 = p;
	assert_int_equal(*p++, 0x12);
	assert_ptr_equal(pkg_end(&p, d->end), d->end);
}

static void build_dsdt_default(struct dsdt *d)
{
	struct acpi_config cfg = {
		.nr_cpus = 2,
		.mmio64_base = layout_mmio64_base(8 * GiB),
		.mmio64_size = LAYOUT_MMIO64_SIZE,
	};

	build_dsdt(d, &cfg);
}

static unsigned dev_index(const struct dsdt *d, const char *name)
{
	unsigned i;

	for (i = 0; i < d->nr_devs; i++)
		if (!strcmp(d->dev[i].name, name))
			return i;
	fail_msg("no device %s in the DSDT", name);
	return 0;
}

/* Name(@name, ...) inside device @dev: returns the object after the name. */
static const uint8_t *dev_name(const struct dsdt *d, const char *dev, const char *name)
{
	unsigned i = dev_index(d, dev);
	const uint8_t *p = memmem(d->dev[i].start, (size_t)(d->dev[i].end - d->dev[i].start),
				  name, 4);

	assert_non_null(p);
	assert_int_equal(p[-1], 0x08);
	return p + 4;
}

/* ComputationalData integer (§20.2.3); moves *p past it. */
static uint64_t dec_int(const uint8_t **p)
{
	static const unsigned size[] = { [0x0a] = 1, [0x0b] = 2, [0x0c] = 4, [0x0e] = 8 };
	uint8_t op = *(*p)++;
	uint64_t v = 0;
	unsigned i;

	if (op == 0x00 || op == 0x01)
		return op;
	assert_true(op < ARRAY_SIZE(size) && size[op]);
	for (i = 0; i < size[op]; i++)
		v |= (uint64_t)*(*p)++ << (8 * i);
	return v;
}

static void dsdt_layout_and_names(void **state)
{
	static const char *const names[] = { "_S5_", "PCI0", "COM1", "QEMU0001", "_PRT", "_OSC" };
	struct dsdt d;
	size_t i, len;

	(void)state;
	build_dsdt_default(&d);
	assert_int_equal(d.nr_devs, 4);
	assert_string_equal(d.dev[0].name, "PCI0");
	assert_string_equal(d.dev[1].name, "MRES");
	assert_string_equal(d.dev[2].name, "COM1");
	assert_string_equal(d.dev[3].name, "PEVT");
	len = rd32(d.t.dsdt + 4);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		assert_non_null(memmem(d.t.dsdt, len, names[i], strlen(names[i])));
	free(d.t.buf);
}

/* The value QEMU's and SeaBIOS's \_S5 use; a guest writes it to PM1a_CNT.SLP_TYP. */
_Static_assert(LAYOUT_SLP_TYP_S5 == 5, "\\_S5 SLP_TYP is 5");

static void dsdt_s5(void **state)
{
	const uint8_t *p, *end;
	struct dsdt d;

	(void)state;
	build_dsdt_default(&d);
	p = d.s5 + 1;
	end = pkg_end(&p, d.end);
	assert_int_equal(*p++, 4);
	assert_int_equal(dec_int(&p), LAYOUT_SLP_TYP_S5);
	assert_int_equal(dec_int(&p), LAYOUT_SLP_TYP_S5);
	assert_int_equal(dec_int(&p), 0);
	assert_int_equal(dec_int(&p), 0);
	assert_ptr_equal(p, end);
	free(d.t.buf);
}

static void dsdt_prt(void **state)
{
	const uint8_t *p, *end, *e_end;
	unsigned slot, pin;
	struct dsdt d;

	(void)state;
	build_dsdt_default(&d);
	p = dev_name(&d, "PCI0", "_PRT");
	assert_int_equal(*p++, 0x12);
	end = pkg_end(&p, d.end);
	assert_int_equal(*p++, 128);
	for (slot = 0; slot < 32; slot++) {
		for (pin = 0; pin < 4; pin++) {
			assert_int_equal(*p++, 0x12);
			e_end = pkg_end(&p, end);
			assert_int_equal(*p++, 4);
			assert_int_equal(dec_int(&p), (uint64_t)slot << 16 | 0xffff);
			assert_int_equal(dec_int(&p), pin);
			assert_int_equal(dec_int(&p), 0);
			assert_int_equal(dec_int(&p),
					 LAYOUT_PCI_INTX_GSI_BASE + (slot + pin) % 4);
			assert_ptr_equal(p, e_end);
		}
	}
	assert_ptr_equal(p, end);
	free(d.t.buf);
}

/* Name(_CRS, Buffer { WordConst size, descriptors, EndTag }) (§6.4) */
struct res {
	const uint8_t *d[16];
	unsigned n;
};

static void parse_crs(const struct dsdt *d, const char *dev, struct res *r)
{
	const uint8_t *p = dev_name(d, dev, "_CRS"), *end;

	uint64_t size;

	assert_int_equal(*p++, 0x11);
	end = pkg_end(&p, d->end);
	size = dec_int(&p);
	assert_int_equal(size, end - p);
	for (r->n = 0; p < end; r->n++) {
		assert_true(r->n < ARRAY_SIZE(r->d));
		r->d[r->n] = p;
		p += (*p & 0x80) ? 3u + rd16(p + 1) : 1u + (*p & 7);
	}
	assert_ptr_equal(p, end);
	assert_int_equal(r->d[r->n - 1][0], 0x79);
	assert_ptr_equal(r->d[r->n - 1] + 2, end);
}

/* Small I/O port descriptor, 16-bit decode, fixed at @base (§6.4.2.5) */
static void check_io(const uint8_t *p, uint16_t base, uint8_t len)
{
	assert_int_equal(p[0], 0x47);
	assert_int_equal(p[1], 1);
	assert_int_equal(rd16(p + 2), base);
	assert_int_equal(rd16(p + 4), base);
	assert_int_equal(p[7], len);
}

/* Word/DWord/QWord address space descriptor, producer, fixed (§6.4.3.5) */
static void check_window(const uint8_t *p, uint8_t type, uint64_t min, uint64_t len)
{
	unsigned w = p[0] == 0x8a ? 8 : p[0] == 0x87 ? 4 : 2;
	uint64_t v[5] = { 0 };
	unsigned i;

	assert_int_equal(rd16(p + 1), 3 + 5 * w);
	assert_int_equal(p[3], type);
	assert_int_equal(p[4], 0x0c);
	for (i = 0; i < 5; i++)
		memcpy(&v[i], p + 6 + i * w, w);
	assert_int_equal(v[1], min);
	assert_int_equal(v[2], min + len - 1);
	assert_int_equal(v[3], 0);
	assert_int_equal(v[4], len);
}

static void dsdt_pci0_crs(void **state)
{
	struct acpi_config cfg = { .nr_cpus = 1, .mmio64_base = 16 * GiB, .mmio64_size = 64 * GiB };
	struct dsdt d;
	struct res r;

	(void)state;
	build_dsdt(&d, &cfg);
	parse_crs(&d, "PCI0", &r);
	assert_int_equal(r.n, 7);
	assert_int_equal(r.d[0][0], 0x88);
	check_window(r.d[0], 2, 0, 1);				/* bus 0-0 */
	assert_int_equal(r.d[1][0], 0x88);
	check_window(r.d[1], 1, 0, 0xcf8);			/* I/O 0-0xcf7 */
	check_io(r.d[2], LAYOUT_PORT_PCI_CF8, 8);
	assert_int_equal(r.d[3][0], 0x88);
	check_window(r.d[3], 1, 0xd00, 0x10000 - 0xd00);	/* I/O 0xd00-0xffff */
	assert_int_equal(r.d[4][0], 0x87);
	check_window(r.d[4], 0, LAYOUT_MMIO32_BASE, LAYOUT_MMIO32_SIZE);
	assert_int_equal(r.d[5][0], 0x8a);
	check_window(r.d[5], 0, 16 * GiB, 64 * GiB);
	free(d.t.buf);

	cfg.mmio64_size = 0;					/* no 64-bit window */
	build_dsdt(&d, &cfg);
	parse_crs(&d, "PCI0", &r);
	assert_int_equal(r.n, 6);
	assert_int_equal(r.d[4][0], 0x87);
	assert_int_equal(r.d[5][0], 0x79);
	free(d.t.buf);
}

static void dsdt_mres_com1_pvpanic(void **state)
{
	static const uint8_t sta[] = { 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f };
	const uint8_t *p;
	struct dsdt d;
	struct res r;

	(void)state;
	build_dsdt_default(&d);
	p = dev_name(&d, "MRES", "_HID");
	assert_memory_equal(p, ((const uint8_t[]){ 0x0c, 0x41, 0xd0, 0x0c, 0x02 }), 5);
	parse_crs(&d, "MRES", &r);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.d[0][0], 0x86);			/* Memory32Fixed */
	assert_int_equal(rd32(r.d[0] + 4), LAYOUT_ECAM_BASE);
	assert_int_equal(rd32(r.d[0] + 8), LAYOUT_ECAM_SIZE);
	check_io(r.d[1], LAYOUT_PORT_PM1A_EVT, 4);
	check_io(r.d[2], LAYOUT_PORT_PM1A_CNT, 2);
	check_io(r.d[3], LAYOUT_PORT_RESET, 1);

	p = dev_name(&d, "COM1", "_HID");
	assert_memory_equal(p, ((const uint8_t[]){ 0x0c, 0x41, 0xd0, 0x05, 0x01 }), 5);
	parse_crs(&d, "COM1", &r);
	assert_int_equal(r.n, 3);
	check_io(r.d[0], LAYOUT_PORT_COM1, 8);
	assert_int_equal(r.d[1][0], 0x22);
	assert_int_equal(rd16(r.d[1] + 1), 1u << LAYOUT_IRQ_COM1);

	p = dev_name(&d, "PEVT", "_HID");
	assert_memory_equal(p, "\x0dQEMU0001", 10);
	parse_crs(&d, "PEVT", &r);
	assert_int_equal(r.n, 2);
	check_io(r.d[0], LAYOUT_PORT_PVPANIC, 1);
	p = d.dev[dev_index(&d, "PEVT")].start;
	assert_non_null(memmem(p, (size_t)(d.dev[dev_index(&d, "PEVT")].end - p), sta, sizeof(sta)));
	free(d.t.buf);
}

/*
 * PCI0._OSC, assembled by hand from ACPI 6.4 §20 (PkgLengths count their own
 * bytes; two-byte ones are 0x40 | low nibble, then the rest >> 4). ACPICA
 * evaluates the same method in tests/acpi/run.
 */
#define CDW1 'C', 'D', 'W', '1'
#define CDW3 'C', 'D', 'W', '3'
static const uint8_t osc_method[] = {
	0x14, 0x44, 0x08, '_', 'O', 'S', 'C', 0x0c,	/* Method (_OSC, 4, Serialized), 132 */
	0x8a, 0x6b, 0x00, CDW1,				/* CreateDWordField (Arg3, Zero, CDW1) */
	0xa0, 0x46, 0x06, 0x93, 0x68,			/* If (LEqual (Arg0, ...)), 102 */
	0x11, 0x13, 0x0a, 0x10,				/* ToUUID ("33DB4D5B-1FF7-401C-...") */
	0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
	0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66,
	0xa0, 0x10, 0x92, 0x93, 0x69, 0x01,		/* If (LNotEqual (Arg1, One)), 16 */
	0x7d, CDW1, 0x0a, 0x08, CDW1,			/*   Or (CDW1, 8, CDW1): bad revision */
	0xa0, 0x10, 0x95, 0x6a, 0x0a, 0x03,		/* If (LLess (Arg2, 3)), 16 */
	0x7d, CDW1, 0x0a, 0x02, CDW1,			/*   Or (CDW1, 2, CDW1): failure */
	0xa1, 0x2b,					/* Else, 43 */
	0x8a, 0x6b, 0x0a, 0x08, CDW3,			/*   CreateDWordField (Arg3, 8, CDW3) */
	0x7b, CDW3, 0x0a, 0x10, 0x60,			/*   And (CDW3, 0x10, Local0) */
	0xa0, 0x13, 0x92, 0x93, 0x60, CDW3,		/*   If (LNotEqual (Local0, CDW3)), 19 */
	0x7d, CDW1, 0x0a, 0x10, CDW1,			/*     Or (CDW1, 0x10, CDW1): masked */
	0x70, 0x60, CDW3,				/*   Store (Local0, CDW3) */
	0xa1, 0x0c,					/* Else, 12 */
	0x7d, CDW1, 0x0a, 0x04, CDW1,			/*   Or (CDW1, 4, CDW1): bad UUID */
	0xa4, 0x6b,					/* Return (Arg3) */
};

static void dsdt_pci0_osc(void **state)
{
	const uint8_t *start, *p;
	struct dsdt d;
	unsigned i;

	(void)state;
	_Static_assert(sizeof(osc_method) == 133, "Method PkgLength 132 + opcode");
	_Static_assert(ACPI_PCI_OSC_GRANTED == 0x10, "the vector grants the PCIe capability only");
	build_dsdt_default(&d);
	i = dev_index(&d, "PCI0");
	start = d.dev[i].start;
	p = memmem(start, (size_t)(d.dev[i].end - start), "_OSC", 4);
	assert_non_null(p);
	assert_true(p - 3 >= start && p - 3 + sizeof(osc_method) <= d.dev[i].end);
	assert_memory_equal(p - 3, osc_method, sizeof(osc_method));
	free(d.t.buf);
}

/* Every length short of the full size fails, and writes nothing past it. */
static void too_small_is_enospc(void **state)
{
	struct acpi_config cfg = { .nr_cpus = 2, .mmio64_base = 16 * GiB, .mmio64_size = GiB };
	struct tables t;
	size_t need, len, i;
	uint8_t *buf;

	(void)state;
	build(&t, &cfg);
	need = t.end;
	free(t.buf);
	for (len = 0; len < need; len++) {
		buf = malloc(len + GUARD);
		assert_non_null(buf);
		memset(buf, FILL, len + GUARD);
		assert_int_equal(acpi_build(buf, len, LAYOUT_ACPI, &cfg, NULL), -ENOSPC);
		for (i = len; i < len + GUARD; i++)
			assert_int_equal(buf[i], FILL);
		free(buf);
	}
	buf = malloc(need);
	assert_non_null(buf);
	assert_int_equal(acpi_build(buf, need, LAYOUT_ACPI, &cfg, NULL), 0);
	free(buf);
}

static void bad_config_is_einval(void **state)
{
	struct acpi_config cfg = { .nr_cpus = 0 };
	static uint8_t buf[LAYOUT_ACPI_SIZE];
	uint64_t rsdp = 1;

	(void)state;
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &cfg, &rsdp), -EINVAL);
	assert_int_equal(rsdp, 1);
	cfg.nr_cpus = ACPI_MAX_CPUS + 1;
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &cfg, &rsdp), -EINVAL);
	cfg.nr_cpus = ACPI_MAX_CPUS;
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &cfg, &rsdp), 0);
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI, NULL, &rsdp), -EINVAL);
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI + 16, &cfg, &rsdp), -EINVAL);
	assert_int_equal(acpi_build(buf, sizeof(buf), 4 * GiB - 64, &cfg, &rsdp), -EINVAL);
	cfg.mmio64_base = UINT64_MAX - GiB + 2;
	cfg.mmio64_size = GiB;
	assert_int_equal(acpi_build(buf, sizeof(buf), LAYOUT_ACPI, &cfg, &rsdp), -EINVAL);
}

/*
 * VIOT (ACPI 6.5 §5.2.30, Linux include/acpi/actbl3.h): the fifth XSDT entry
 * when a virtio-iommu is present; its node bytes written out by hand: the
 * virtio-pci IOMMU node at offset 48, then one PCI range per endpoint whose
 * endpoint ID is its BDF and whose output node is offset 48.
 */
static void viot_nodes(void **state)
{
	struct acpi_config cfg = acpi_config_for(2, 256 * MiB);
	static const uint8_t want[48 + 16 + 2 * 24 - HDR] = {
		3, 0, 48, 0, 0, 0, 0, 0, 0, 0, 0, 0,		/* 2 + 1 nodes from offset 48 */
		3, 0, 16, 0, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* virtio-pci IOMMU 00:03.0 */
		1, 0, 24, 0, 0x20, 0, 0, 0, 0, 0, 0, 0,		/* PCI range, endpoint 0x20 */
		0x20, 0, 0x20, 0, 48, 0, 0, 0, 0, 0, 0, 0,	/* BDFs 00:04.0-00:04.0 -> node 48 */
		1, 0, 24, 0, 0x29, 0, 0, 0, 0, 0, 0, 0,		/* endpoint 0x29 (00:05.1) */
		0x29, 0, 0x29, 0, 48, 0, 0, 0, 0, 0, 0, 0,
	};
	const uint8_t *viot;
	struct tables t;

	(void)state;
	build(&t, &cfg);
	assert_int_equal(rd32(t.xsdt + 4), HDR + 3 * 8);	/* no VIOT without a virtio-iommu */
	free(t.buf);
	cfg.viot.nr_endpoints = 2;
	cfg.viot.iommu_bdf = 0x18;
	cfg.viot.endpoint_bdf[0] = 0x20;
	cfg.viot.endpoint_bdf[1] = 0x29;
	build(&t, &cfg);
	assert_int_equal(rd32(t.xsdt + 4), HDR + 4 * 8);
	viot = at_gpa(&t, rd64(t.xsdt + HDR + 24), HDR);
	check_header(viot, "VIOT", 0);
	assert_int_equal(rd32(viot + 4), sizeof(want) + HDR);
	assert_memory_equal(viot + HDR, want, sizeof(want));
	assert_int_equal(rd16(viot + HDR), 3);
	free(t.buf);
	cfg.viot.nr_endpoints = ACPI_VIOT_MAX_ENDPOINTS + 1;
	t.buf = malloc(LAYOUT_ACPI_SIZE);
	assert_non_null(t.buf);
	assert_int_equal(acpi_build(t.buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &cfg, NULL), -EINVAL);
	free(t.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checksum_known_vectors),
		cmocka_unit_test(rsdp_checksums),
		cmocka_unit_test(xsdt_points_at_tables),
		cmocka_unit_test(lengths_match_bytes_used),
		cmocka_unit_test(fadt_fields),
		cmocka_unit_test(madt_cpus),
		cmocka_unit_test(madt_ioapic_and_overrides),
		cmocka_unit_test(mcfg_entry),
		cmocka_unit_test(pkglen_boundaries),
		cmocka_unit_test(pkglen_emitted),
		cmocka_unit_test(aml_encodings),
		cmocka_unit_test(aml_method_encodings),
		cmocka_unit_test(aml_overflow),
		cmocka_unit_test(dsdt_layout_and_names),
		cmocka_unit_test(dsdt_s5),
		cmocka_unit_test(dsdt_prt),
		cmocka_unit_test(dsdt_pci0_crs),
		cmocka_unit_test(dsdt_pci0_osc),
		cmocka_unit_test(dsdt_mres_com1_pvpanic),
		cmocka_unit_test(too_small_is_enospc),
		cmocka_unit_test(bad_config_is_einval),
		cmocka_unit_test(viot_nodes),
	};
	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
