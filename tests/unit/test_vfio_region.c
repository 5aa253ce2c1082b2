/*
 * cmocka: VFIO_DEVICE_GET_REGION_INFO answers (vfio_region_parse_info), on
 * heap buffers of exactly the answer's size, so the sanitizers of `make asan`
 * see a read past it. The cut-off, misaligned and wrapping cases are what
 * fuzz_vfio_info found (tests/fuzz/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/vfio.h"

#define RW	(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)
#define MMAP	VFIO_REGION_INFO_FLAG_MMAP
#define CAPS	VFIO_REGION_INFO_FLAG_CAPS
#define RI	sizeof(struct vfio_region_info)		/* 32 */
#define SP	sizeof(struct vfio_region_info_cap_sparse_mmap)	/* 16 */
#define AREA	sizeof(struct vfio_region_sparse_mmap_area)	/* 16 */

/* An answer of @len bytes: the struct at 0, argsz = @len. */
static uint8_t *answer(size_t len, uint32_t flags, uint64_t size, uint32_t cap_offset)
{
	struct vfio_region_info ri = { .argsz = (uint32_t)len, .flags = flags, .index = 3,
				       .cap_offset = cap_offset, .size = size, .offset = 0x30000 };
	uint8_t *b = calloc(1, len);	/* not test_calloc: its guard bytes would hide an over-read */

	assert_non_null(b);

	memcpy(b, &ri, sizeof(ri));
	return b;
}

/* A sparse-mmap capability at @off with @n areas from @a (offset, size pairs). */
static void sparse(uint8_t *b, uint32_t off, uint32_t next, uint32_t n, const uint64_t *a)
{
	struct vfio_region_info_cap_sparse_mmap sp = {
		.header = { .id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1, .next = next },
		.nr_areas = n,
	};
	uint32_t i;

	memcpy(b + off, &sp, sizeof(sp));
	for (i = 0; i < n; i++)
		memcpy(b + off + SP + i * AREA, &a[2 * i], AREA);
}

static void parse(const uint8_t *b, size_t len, struct vfio_region *r)
{
	memset(r, 0xee, sizeof(*r));
	assert_int_equal(vfio_region_parse_info(r, b, len), 0);
}

static void plain_mmap_is_one_area(void **state)
{
	uint8_t *b = answer(RI, RW | MMAP, 0x4000, 0);
	struct vfio_region r;

	(void)state;
	parse(b, RI, &r);
	assert_int_equal(r.index, 3);
	assert_int_equal(r.size, 0x4000);
	assert_int_equal(r.offset, 0x30000);
	assert_int_equal(r.nr_areas, 1);
	assert_int_equal(r.area[0].off, 0);
	assert_int_equal(r.area[0].size, 0x4000);
	free(b);
}

static void no_mmap_no_areas(void **state)
{
	uint8_t *b = answer(RI, RW, 0x4000, 0);
	struct vfio_region r;

	(void)state;
	parse(b, RI, &r);
	assert_int_equal(r.nr_areas, 0);
	free(b);
}

static void too_short(void **state)
{
	uint8_t b[RI - 1] = { 0 };
	struct vfio_region r;

	(void)state;
	assert_int_equal(vfio_region_parse_info(&r, b, sizeof(b)), -EINVAL);
}

/* The MSI-X table's page left out: the areas around it. */
static void sparse_areas_kept(void **state)
{
	const uint64_t a[] = { 0, 0x1000, 0x3000, 0x1000 };
	size_t len = RI + SP + 2 * AREA;
	uint8_t *b = answer(len, RW | MMAP | CAPS, 0x4000, RI);
	struct vfio_region r;

	(void)state;
	sparse(b, RI, 0, 2, a);
	parse(b, len, &r);
	assert_int_equal(r.nr_areas, 2);
	assert_int_equal(r.area[1].off, 0x3000);
	assert_int_equal(r.area[1].size, 0x1000);
	free(b);
}

/* Found by fuzzing: only the 8-byte header fits; nr_areas was read past the answer. */
static void sparse_count_cut_off(void **state)
{
	size_t len = RI + 8;
	uint8_t *b = answer(len, RW | MMAP | CAPS, 0x4000, RI);
	struct vfio_region_info_cap_sparse_mmap sp = {
		.header = { .id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1 } };
	struct vfio_region r;

	(void)state;
	memcpy(b + RI, &sp.header, 8);
	parse(b, len, &r);
	assert_int_equal(r.nr_areas, 0);
	free(b);
}

/* More areas claimed than the answer holds: only the whole ones count. */
static void sparse_areas_cut_off(void **state)
{
	const uint64_t a[] = { 0, 0x1000, 0x2000, 0x1000 };
	size_t len = RI + SP + 2 * AREA - 1;
	uint8_t *b = answer(len + 1, RW | MMAP | CAPS, 0x4000, RI);
	struct vfio_region r;

	(void)state;
	sparse(b, RI, 0, 2, a);
	parse(b, len, &r);
	assert_int_equal(r.nr_areas, 1);
	free(b);
}

/* Found by fuzzing: offset + size wrapping past 2^64 passed the bounds check. */
static void sparse_area_wrapping_refused(void **state)
{
	const uint64_t a[] = { ~0ull - 0xfff, 0x2000, 0x1000, 0x1000 };
	size_t len = RI + SP + 2 * AREA;
	uint8_t *b = answer(len, RW | MMAP | CAPS, 0x4000, RI);
	struct vfio_region r;

	(void)state;
	sparse(b, RI, 0, 2, a);
	parse(b, len, &r);
	assert_int_equal(r.nr_areas, 1);
	assert_int_equal(r.area[0].off, 0x1000);
	free(b);
}

/* Found by fuzzing: a capability at an odd offset was read through a misaligned pointer. */
static void misaligned_capability(void **state)
{
	const uint64_t a[] = { 0, 0x1000 };
	size_t len = RI + 3 + SP + AREA;
	uint8_t *b = answer(len, RW | MMAP | CAPS, 0x4000, RI + 3);
	struct vfio_region r;

	(void)state;
	sparse(b, RI + 3, 0, 1, a);
	parse(b, len, &r);
	assert_int_equal(r.nr_areas, 1);
	assert_int_equal(r.area[0].size, 0x1000);
	free(b);
}

/* argsz bounds the chain even in a larger buffer; a loop back ends the walk. */
static void argsz_and_loops(void **state)
{
	const uint64_t a[] = { 0, 0x1000 };
	size_t len = RI + 8 + SP + AREA;
	uint8_t *b = answer(len, RW | MMAP | CAPS, 0x4000, RI);
	struct vfio_info_cap_header other = { .id = 99, .version = 1, .next = RI + 8 };
	struct vfio_region r;

	(void)state;
	memcpy(b + RI, &other, sizeof(other));
	sparse(b, RI + 8, RI, 1, a);
	parse(b, len, &r);
	assert_int_equal(r.nr_areas, 1);		/* found behind the other one */
	pci_put32(b, RI + 8);			/* argsz: the second one is not filled */
	parse(b, len, &r);
	assert_int_equal(r.nr_areas, 1);		/* no sparse capability: all of it */
	assert_int_equal(r.area[0].size, 0x4000);
	other.next = RI;			/* a loop onto itself */
	pci_put32(b, (uint32_t)len);
	memcpy(b + RI, &other, sizeof(other));
	parse(b, len, &r);
	assert_int_equal(r.area[0].size, 0x4000);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_mmap_is_one_area),
		cmocka_unit_test(no_mmap_no_areas),
		cmocka_unit_test(too_short),
		cmocka_unit_test(sparse_areas_kept),
		cmocka_unit_test(sparse_count_cut_off),
		cmocka_unit_test(sparse_areas_cut_off),
		cmocka_unit_test(sparse_area_wrapping_refused),
		cmocka_unit_test(misaligned_capability),
		cmocka_unit_test(argsz_and_loops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
