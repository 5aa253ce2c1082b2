/* cmocka: MSI validation, every accept and refuse case (SDM vol 3A §11.11). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "irqremap/irqremap.h"

#define NCPUS	4
#define BDF	"0000:01:10.0"

enum { FIXED = 0, LOWEST = 1, SMI = 2, RSVD3 = 3, NMI = 4, INIT = 5, RSVD6 = 6, EXTINT = 7 };

/* A well-formed xAPIC message; tests then break one field. */
static struct msi_msg msg(unsigned dest, bool logical, unsigned dm, unsigned vector)
{
	return (struct msi_msg){
		.addr_lo = 0xfee00000u | dest << 12 | (logical ? 1u << 2 : 0),
		.data = dm << 8 | vector,
	};
}

static enum msi_verdict check(struct msi_msg m)
{
	return msi_check(&m, NCPUS);
}

static void accepts_fixed_and_lowest_physical(void **state)
{
	unsigned dest;

	(void)state;
	for (dest = 0; dest < NCPUS; dest++) {
		assert_int_equal(check(msg(dest, false, FIXED, 0x41)), MSI_OK);
		assert_int_equal(check(msg(dest, false, LOWEST, 0x41)), MSI_OK);
	}
}

static void accepts_physical_broadcast(void **state)
{
	(void)state;
	assert_int_equal(check(msg(0xff, false, FIXED, 0x30)), MSI_OK);
	assert_int_equal(check(msg(0xff, false, LOWEST, 0x30)), MSI_OK);
}

static void accepts_any_logical_destination(void **state)
{
	unsigned dest;

	(void)state;
	for (dest = 0; dest <= 0xff; dest++)
		assert_int_equal(check(msg(dest, true, FIXED, 0x30)), MSI_OK);
	assert_int_equal(check(msg(0x0f, true, LOWEST, 0x30)), MSI_OK);
}

static void accepts_redirection_hint(void **state)
{
	struct msi_msg m = msg(1, false, FIXED, 0x30);

	(void)state;
	m.addr_lo |= 1u << 3;
	assert_int_equal(check(m), MSI_OK);
	m = msg(0x03, true, LOWEST, 0x30);
	m.addr_lo |= 1u << 3;
	assert_int_equal(check(m), MSI_OK);
}

static void accepts_vector_bounds(void **state)
{
	(void)state;
	assert_int_equal(check(msg(0, false, FIXED, 16)), MSI_OK);
	assert_int_equal(check(msg(0, false, FIXED, 255)), MSI_OK);
	assert_int_equal(check(msg(0, false, LOWEST, 16)), MSI_OK);
}

/* Address bits 1:0 are don't-care; data bits 31:16, 14, 13:11 are read by no one. */
static void ignores_dont_care_bits(void **state)
{
	struct msi_msg m = msg(2, false, FIXED, 0x50);

	(void)state;
	m.addr_lo |= 3;
	m.data |= 0xffff0000u | 1u << 14 | 7u << 11;
	assert_int_equal(check(m), MSI_OK);
}

static void refuses_upper_address(void **state)
{
	struct msi_msg m = msg(0, false, FIXED, 0x30);

	(void)state;
	m.addr_hi = 1;
	assert_int_equal(check(m), MSI_BAD_ADDR_HI);
	m.addr_hi = 0x80000000u;
	assert_int_equal(check(m), MSI_BAD_ADDR_HI);
}

static void refuses_outside_window(void **state)
{
	static const uint32_t addrs[] = {
		0xfed00000u, 0xfec00000u, 0xfef00000u, 0xfe000000u, 0x00000000u, 0xffe00000u,
		0x0fee0000u,
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct msi_msg m = { .addr_lo = addrs[i], .data = 0x30 };

		assert_int_equal(check(m), MSI_BAD_WINDOW);
	}
}

static void refuses_remappable_format(void **state)
{
	struct msi_msg m = msg(0, false, FIXED, 0x30);

	(void)state;
	m.addr_lo |= 1u << 4;
	assert_int_equal(check(m), MSI_BAD_REMAPPABLE);
}

static void refuses_reserved_address_bits(void **state)
{
	unsigned bit;

	(void)state;
	for (bit = 5; bit <= 11; bit++) {
		struct msi_msg m = msg(0, false, FIXED, 0x30);

		m.addr_lo |= 1u << bit;
		assert_int_equal(check(m), MSI_BAD_ADDR_RESERVED);
	}
}

static void refuses_delivery_modes(void **state)
{
	static const unsigned bad[] = { SMI, RSVD3, NMI, INIT, RSVD6, EXTINT };
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(check(msg(0, false, bad[i], 0x30)), MSI_BAD_DELIVERY);
		assert_int_equal(check(msg(0, true, bad[i], 0)), MSI_BAD_DELIVERY);
	}
}

static void refuses_low_vectors(void **state)
{
	unsigned v;

	(void)state;
	for (v = 0; v < 16; v++) {
		assert_int_equal(check(msg(0, false, FIXED, v)), MSI_BAD_VECTOR);
		assert_int_equal(check(msg(0, true, LOWEST, v)), MSI_BAD_VECTOR);
	}
}

static void refuses_level_trigger(void **state)
{
	struct msi_msg m = msg(0, false, FIXED, 0x30);

	(void)state;
	m.data |= 1u << 15;
	assert_int_equal(check(m), MSI_BAD_TRIGGER);
	m.data |= 1u << 14;
	assert_int_equal(check(m), MSI_BAD_TRIGGER);
}

static void refuses_foreign_physical_destination(void **state)
{
	struct msi_msg m = msg(NCPUS - 1, false, FIXED, 0x30);

	(void)state;
	assert_int_equal(check(msg(NCPUS, false, FIXED, 0x30)), MSI_BAD_DEST);
	assert_int_equal(check(msg(0xfe, false, LOWEST, 0x30)), MSI_BAD_DEST);
	assert_int_equal(msi_check(&m, NCPUS - 1), MSI_BAD_DEST);
	assert_int_equal(msi_check(&m, NCPUS), MSI_OK);
	m = msg(0, false, FIXED, 0x30);
	assert_int_equal(msi_check(&m, 1), MSI_OK);
	assert_int_equal(msi_check(&m, 0), MSI_BAD_DEST);
	m = msg(1, false, FIXED, 0x30);
	assert_int_equal(msi_check(&m, 255), MSI_OK);
}

/* The first broken field is the one reported, in address-then-data order. */
static void reports_first_problem(void **state)
{
	struct msi_msg m = { .addr_lo = 0xfed00000u | 1u << 4, .addr_hi = 0, .data = 5u << 8 | 3 };

	(void)state;
	assert_int_equal(check(m), MSI_BAD_WINDOW);
	m.addr_hi = 1;
	assert_int_equal(check(m), MSI_BAD_ADDR_HI);
	m = msg(9, false, INIT, 3);
	assert_int_equal(check(m), MSI_BAD_DELIVERY);
	m = msg(9, false, FIXED, 3);
	assert_int_equal(check(m), MSI_BAD_VECTOR);
}

static void explain_is(const struct msi_msg *m, unsigned nr_cpus, enum msi_verdict want,
		       const char *text)
{
	char buf[256];

	assert_int_equal(msi_check_explain(buf, sizeof(buf), BDF, 2, m, nr_cpus), want);
	assert_string_equal(buf, text);
}

static void explains_each_verdict(void **state)
{
	struct msi_msg m = { .addr_lo = 0xfed00000u, .data = 3 };

	(void)state;
	explain_is(&m, NCPUS, MSI_BAD_WINDOW, BDF " entry 2 (APIC vector 3): MSI address 0xfed00000 is outside"
		   " the local APIC window; dropped");
	m = (struct msi_msg){ .addr_lo = 0xfee00000u, .addr_hi = 0x1, .data = 0x30 };
	explain_is(&m, NCPUS, MSI_BAD_ADDR_HI, BDF " entry 2 (APIC vector 48): MSI address 0x00000001fee00000"
		   " is above 4 GiB, where no local APIC listens; dropped");
	m = (struct msi_msg){ .addr_lo = 0xfee00010u, .data = 0x30 };
	explain_is(&m, NCPUS, MSI_BAD_REMAPPABLE, BDF " entry 2 (APIC vector 48): MSI address 0xfee00010 uses"
		   " the remappable format (bit 4), but the guest has no IOMMU; dropped");
	m = (struct msi_msg){ .addr_lo = 0xfee00020u, .data = 0x30 };
	explain_is(&m, NCPUS, MSI_BAD_ADDR_RESERVED, BDF " entry 2 (APIC vector 48): MSI address 0xfee00020"
		   " sets reserved bits 11:5 (extended destination ID); dropped");
	m = msg(0, false, SMI, 0x30);
	explain_is(&m, NCPUS, MSI_BAD_DELIVERY, BDF " entry 2 (APIC vector 48): delivery mode SMI is not"
		   " allowed from a device; dropped");
	m = msg(0, false, RSVD6, 0x30);
	explain_is(&m, NCPUS, MSI_BAD_DELIVERY, BDF " entry 2 (APIC vector 48): delivery mode reserved (6) is"
		   " not allowed from a device; dropped");
	m = msg(0, false, FIXED, 3);
	explain_is(&m, NCPUS, MSI_BAD_VECTOR, BDF " entry 2 (APIC vector 3): vectors 0-15 are illegal for a"
		   " local APIC; dropped");
	m = msg(0, false, FIXED, 0x30);
	m.data |= 1u << 15;
	explain_is(&m, NCPUS, MSI_BAD_TRIGGER, BDF " entry 2 (APIC vector 48): level-triggered MSI, but PCI"
		   " messages are edges; dropped");
	m = msg(7, false, FIXED, 0x30);
	explain_is(&m, NCPUS, MSI_BAD_DEST, BDF " entry 2 (APIC vector 48): physical destination APIC ID 7 is"
		   " not one of the guest's 4 vCPUs; dropped");
	m = msg(2, true, FIXED, 0xef);
	explain_is(&m, NCPUS, MSI_OK, BDF " entry 2 (APIC vector 239): MSI to logical destination 0x2 accepted");
}

static void explain_survives_small_buffers(void **state)
{
	struct msi_msg m = { .addr_lo = 0xfed00000u, .data = 3 };
	char buf[16];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(msi_check_explain(buf, sizeof(buf), BDF, 2, &m, NCPUS), MSI_BAD_WINDOW);
	assert_string_equal(buf, "0000:01:10.0 en");
	assert_int_equal(msi_check_explain(buf, 0, BDF, 2, &m, NCPUS), MSI_BAD_WINDOW);
	assert_int_equal(msi_check_explain(buf, 1, BDF, 2, &m, NCPUS), MSI_BAD_WINDOW);
	assert_string_equal(buf, "");
}

static void verdicts_have_distinct_names(void **state)
{
	enum msi_verdict a, b;

	(void)state;
	for (a = MSI_OK; a <= MSI_BAD_DEST; a++) {
		assert_string_not_equal(msi_verdict_name(a), "unknown");
		for (b = a + 1; b <= MSI_BAD_DEST; b++)
			assert_string_not_equal(msi_verdict_name(a), msi_verdict_name(b));
	}
	assert_string_equal(msi_verdict_name((enum msi_verdict)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_fixed_and_lowest_physical),
		cmocka_unit_test(accepts_physical_broadcast),
		cmocka_unit_test(accepts_any_logical_destination),
		cmocka_unit_test(accepts_redirection_hint),
		cmocka_unit_test(accepts_vector_bounds),
		cmocka_unit_test(ignores_dont_care_bits),
		cmocka_unit_test(refuses_upper_address),
		cmocka_unit_test(refuses_outside_window),
		cmocka_unit_test(refuses_remappable_format),
		cmocka_unit_test(refuses_reserved_address_bits),
		cmocka_unit_test(refuses_delivery_modes),
		cmocka_unit_test(refuses_low_vectors),
		cmocka_unit_test(refuses_level_trigger),
		cmocka_unit_test(refuses_foreign_physical_destination),
		cmocka_unit_test(reports_first_problem),
		cmocka_unit_test(explains_each_verdict),
		cmocka_unit_test(explain_survives_small_buffers),
		cmocka_unit_test(verdicts_have_distinct_names),
	};
	return cmocka_run_group_tests_name("msi_check", tests, NULL, NULL);
}
