/*
 * cmocka: guest RAM layout around the 32-bit hole, and the default anonymous
 * allocation (a real mmap: no kernel interface is faked). Whether the kernel
 * really backs it with huge pages is checked in the bed (vmm-boot.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "vmm/layout.h"
#include "vmm/memory.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* Never dereferenced: the layout only does address arithmetic. */
#define FAKE_BASE ((uint8_t *)(uintptr_t)0x7f0000000000ull)

static void layout_below_hole_is_one_region(void **state)
{
	struct guest_mem m = { .fd = -1 };

	(void)state;
	guest_mem_layout(&m, FAKE_BASE, 256 * MiB);
	assert_int_equal(m.nr_regions, 1);
	assert_int_equal(m.region[0].gpa, 0);
	assert_int_equal(m.region[0].size, 256 * MiB);
	assert_ptr_equal(m.region[0].hva, FAKE_BASE);
}

/* RAM beyond 3 GiB continues at 4 GiB, from the same mapping. */
static void layout_above_hole_splits(void **state)
{
	struct guest_mem m = { .fd = -1 };

	(void)state;
	guest_mem_layout(&m, FAKE_BASE, 4 * GiB);
	assert_int_equal(m.nr_regions, 2);
	assert_int_equal(m.region[0].size, 3 * GiB);
	assert_int_equal(m.region[1].gpa, 4 * GiB);
	assert_int_equal(m.region[1].size, 1 * GiB);
	assert_int_equal(m.region[1].fd_offset, 3 * GiB);
	assert_ptr_equal(m.region[1].hva, FAKE_BASE + 3 * GiB);
	/* Both regions' guest addresses are 2 MiB-aligned, like the host mapping. */
	assert_int_equal(m.region[1].gpa % (2 * MiB), 0);
	assert_int_equal(LAYOUT_LOWMEM_MAX % (2 * MiB), 0);
}

static void ptr_stays_inside_a_region(void **state)
{
	struct guest_mem m = { .fd = -1 };

	(void)state;
	guest_mem_layout(&m, FAKE_BASE, 4 * GiB);
	assert_ptr_equal(guest_mem_ptr(&m, 3 * GiB - 8, 8), FAKE_BASE + 3 * GiB - 8);
	assert_null(guest_mem_ptr(&m, 3 * GiB - 8, 9));		/* runs into the hole */
	assert_null(guest_mem_ptr(&m, 3 * GiB + 4096, 1));		/* in the hole */
	assert_ptr_equal(guest_mem_ptr(&m, 4 * GiB, 1), FAKE_BASE + 3 * GiB);
	assert_null(guest_mem_ptr(&m, 5 * GiB - 1, 2));		/* past the end */
	assert_null(guest_mem_ptr(&m, 4 * GiB, UINT64_MAX));	/* no overflow */
}

/*
 * The default allocation: anonymous (no fd), 2 MiB-aligned so that each
 * aligned 2 MiB of guest memory can be one huge page, and usable to its last
 * byte even when the size is not a 2 MiB multiple.
 */
static void alloc_default_is_aligned_anonymous(void **state)
{
	struct guest_mem m;
	uint64_t size = 7 * MiB + 4096;

	(void)state;
	assert_int_equal(guest_mem_alloc(&m, size, false), 0);
	assert_int_equal(m.fd, -1);
	assert_false(m.hugepages);
	assert_int_equal((uintptr_t)m.region[0].hva % (2 * MiB), 0);
	assert_int_equal(m.region[0].size, size);
	memset(m.region[0].hva, 0xa5, size);
	assert_int_equal(m.region[0].hva[size - 1], 0xa5);
	guest_mem_free(&m);
	assert_int_equal(m.nr_regions, 0);
	assert_int_equal(m.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_below_hole_is_one_region),
		cmocka_unit_test(layout_above_hole_splits),
		cmocka_unit_test(ptr_stays_inside_a_region),
		cmocka_unit_test(alloc_default_is_aligned_anonymous),
	};
	return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
