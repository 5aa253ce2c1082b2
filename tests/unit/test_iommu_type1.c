/*
 * cmocka: the pure parts of the IOMMU backend: the VFIO_IOMMU_GET_INFO
 * capability chain, guest RAM against the usable IOVA ranges, and the
 * RLIMIT_MEMLOCK decision. Every chain is parsed from a heap buffer of its
 * exact length, so ASan catches any read past its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/group.h"
#include "iommu/iommu.h"
#include "vmm/layout.h"
#include "vmm/memory.h"

#define INFO_SIZE sizeof(struct vfio_iommu_type1_info)	/* 24: the first capability goes here */

struct chain {
	uint8_t b[1024];
	size_t len;
};

static void put(struct chain *c, size_t off, const void *p, size_t n)
{
	memcpy(c->b + off, p, n);
	if (off + n > c->len)
		c->len = off + n;
}

static void put_info(struct chain *c, uint32_t flags, uint64_t pgsizes, uint32_t cap_offset)
{
	struct vfio_iommu_type1_info i = {
		.argsz = 0, .flags = flags, .iova_pgsizes = pgsizes, .cap_offset = cap_offset,
	};

	put(c, 0, &i, sizeof(i));
}

static void put_hdr(struct chain *c, size_t off, uint16_t id, uint32_t next)
{
	struct vfio_info_cap_header h = { .id = id, .version = 1, .next = next };

	put(c, off, &h, sizeof(h));
}

/* An IOVA_RANGE capability at @off with @n ranges; returns its size. */
static size_t put_ranges(struct chain *c, size_t off, uint32_t next, const struct vfio_iova_range *r, uint32_t n)
{
	struct vfio_iommu_type1_info_cap_iova_range h = { .nr_iovas = n };

	h.header = (struct vfio_info_cap_header){ .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1,
						  .next = next };
	put(c, off, &h, sizeof(h));
	put(c, off + sizeof(h), r, n * sizeof(*r));
	return sizeof(h) + n * sizeof(*r);
}

static void put_dma_avail(struct chain *c, size_t off, uint32_t next, uint32_t avail)
{
	struct vfio_iommu_type1_info_dma_avail d = { .avail = avail };

	d.header = (struct vfio_info_cap_header){ .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, .version = 1,
						  .next = next };
	put(c, off, &d, sizeof(d));
}

/* Parse @c from an exact-size heap copy. */
static int parse(const struct chain *c, struct iommu_info *info, char *err, size_t errlen)
{
	void *p = malloc(c->len ? c->len : 1);
	int ret;

	assert_non_null(p);
	memcpy(p, c->b, c->len);
	ret = iommu_type1_parse_info(p, c->len, info, err, errlen);
	free(p);
	return ret;
}

static const struct vfio_iova_range x86_ranges[] = {
	{ 0, 0xfedfffff },			/* below the MSI window */
	{ 0xfef00000, 0xffffffffffffull },	/* 48-bit address width */
};

static void info_without_caps(void **state)
{
	struct chain c = { .len = 0 };
	struct iommu_info info;

	(void)state;
	put_info(&c, VFIO_IOMMU_INFO_PGSIZES, 0x40201000, 0);
	assert_int_equal(parse(&c, &info, NULL, 0), 0);
	assert_int_equal(info.pgsizes, 0x40201000);
	assert_false(info.have_ranges);
	assert_false(info.have_dma_avail);
	/* CAPS set but the chain did not fit: cap_offset is 0 (uapi vfio.h). */
	put_info(&c, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, 0x1000, 0);
	assert_int_equal(parse(&c, &info, NULL, 0), 0);
	assert_false(info.have_ranges);
}

static void info_several_ranges(void **state)
{
	const struct vfio_iova_range r[] = {
		{ 0, 0x7fffffff }, { 0x80100000, 0xfedfffff }, { 0xfef00000, 0x7fffffffffull },
	};
	struct chain c = { .len = 0 };
	struct iommu_info info;

	(void)state;
	put_info(&c, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, 0x1000, INFO_SIZE);
	put_ranges(&c, INFO_SIZE, 0, r, 3);
	assert_int_equal(parse(&c, &info, NULL, 0), 0);
	assert_true(info.have_ranges);
	assert_int_equal(info.nr_ranges, 3);
	assert_int_equal(info.range[1].start, 0x80100000);
	assert_int_equal(info.range[1].end, 0xfedfffff);
	assert_int_equal(info.range[2].end, 0x7fffffffffull);
	assert_false(info.have_dma_avail);
}

static void info_chain_of_two(void **state)
{
	struct chain c = { .len = 0 };
	struct iommu_info info;
	size_t off2;

	(void)state;
	off2 = INFO_SIZE + 16 + 2 * 16;	/* header + nr_iovas/reserved + 2 ranges */
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, INFO_SIZE);
	assert_int_equal(put_ranges(&c, INFO_SIZE, (uint32_t)off2, x86_ranges, 2), off2 - INFO_SIZE);
	put_dma_avail(&c, off2, 0, 65535);
	assert_int_equal(parse(&c, &info, NULL, 0), 0);
	assert_int_equal(info.nr_ranges, 2);
	assert_true(info.have_dma_avail);
	assert_int_equal(info.dma_avail, 65535);

	/* The same two in the other order, with an unknown (migration) capability between. */
	c.len = 0;
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, INFO_SIZE);
	put_dma_avail(&c, INFO_SIZE, INFO_SIZE + 16, 7);
	put_hdr(&c, INFO_SIZE + 16, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, INFO_SIZE + 48);
	put_ranges(&c, INFO_SIZE + 48, 0, x86_ranges, 1);
	assert_int_equal(parse(&c, &info, NULL, 0), 0);
	assert_int_equal(info.dma_avail, 7);
	assert_int_equal(info.nr_ranges, 1);
}

static void info_next_points_backwards(void **state)
{
	struct chain c = { .len = 0 };
	struct iommu_info info;
	char err[IOMMU_ERR_LEN];

	(void)state;
	/* A capability pointing at itself would loop forever. */
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, INFO_SIZE);
	put_dma_avail(&c, INFO_SIZE, INFO_SIZE, 1);
	assert_int_equal(parse(&c, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "capability offset 24 points backwards"));
	/* The second points back at the first. */
	put_dma_avail(&c, INFO_SIZE, INFO_SIZE + 16, 1);
	put_dma_avail(&c, INFO_SIZE + 16, INFO_SIZE, 1);
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	/* Into the middle of the previous header. */
	put_dma_avail(&c, INFO_SIZE + 16, INFO_SIZE + 20, 1);
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	/* The first one inside struct vfio_iommu_type1_info. */
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, 8);
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
}

static void info_next_past_end(void **state)
{
	struct chain c = { .len = 0 };
	struct iommu_info info;
	char err[IOMMU_ERR_LEN];

	(void)state;
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, INFO_SIZE);
	put_dma_avail(&c, INFO_SIZE, 4096, 1);
	assert_int_equal(parse(&c, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "capability offset 4096 is past the end"));
	/* A header that would straddle the end. */
	put_dma_avail(&c, INFO_SIZE, (uint32_t)c.len - 4, 1);
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	put_dma_avail(&c, INFO_SIZE, 0xffffffff, 1);
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, 0xfffffff8);
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
}

static void info_truncated_bodies(void **state)
{
	struct chain c = { .len = 0 };
	struct iommu_info info;
	struct vfio_iova_range many[IOMMU_IOVA_RANGES_MAX + 1] = { { 0, 0 } };
	const struct vfio_iova_range upside_down = { 0x2000, 0x1000 };

	(void)state;
	c.len = INFO_SIZE - 1;
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	/* nr_iovas larger than the buffer, including one that would overflow a size computation. */
	c.len = 0;
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, INFO_SIZE);
	put_ranges(&c, INFO_SIZE, 0, x86_ranges, 2);
	c.len -= 1;
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	c.len = 0;
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, INFO_SIZE);
	put_ranges(&c, INFO_SIZE, 0, x86_ranges, 0);
	memcpy(c.b + INFO_SIZE + 8, &(uint32_t){ 0xffffffff }, 4);
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	/* An IOVA_RANGE header cut short, a DMA_AVAIL cut short. */
	c.len = INFO_SIZE + 12;
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	put_dma_avail(&c, INFO_SIZE, 0, 1);
	c.len = INFO_SIZE + 8;
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	/* A range whose end comes before its start; too many ranges. */
	c.len = 0;
	put_info(&c, VFIO_IOMMU_INFO_CAPS, 0, INFO_SIZE);
	put_ranges(&c, INFO_SIZE, 0, &upside_down, 1);
	assert_int_equal(parse(&c, &info, NULL, 0), -EINVAL);
	put_ranges(&c, INFO_SIZE, 0, many, IOMMU_IOVA_RANGES_MAX + 1);
	assert_int_equal(parse(&c, &info, NULL, 0), -E2BIG);
	put_ranges(&c, INFO_SIZE, 0, many, IOMMU_IOVA_RANGES_MAX);
	assert_int_equal(parse(&c, &info, NULL, 0), 0);
}

/* Host addresses are never touched: any non-NULL base will do. */
#define FAKE_HVA ((uint8_t *)(uintptr_t)0x7f0000000000ull)

static struct iommu_info ranges(const struct vfio_iova_range *r, unsigned n)
{
	struct iommu_info info = { .have_ranges = true, .nr_ranges = n };
	unsigned i;

	for (i = 0; i < n; i++)
		info.range[i] = (struct iommu_iova_range){ r[i].start, r[i].end };
	return info;
}

static void ram_fits_x86_ranges(void **state)
{
	const uint64_t sizes[] = { 256 * MiB, 3 * GiB, 4 * GiB, 64 * GiB };
	struct iommu_info info = ranges(x86_ranges, 2);
	const struct vfio_iova_range adjacent[] = { { 0x80000000, 0xffffffffffffull }, { 0, 0x7fffffff } };
	struct guest_mem m;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		guest_mem_layout(&m, FAKE_HVA, sizes[i]);
		assert_int_equal(iommu_check_ram_ranges(&m, &info, NULL, 0), 0);
	}
	/* Unsorted, touching ranges cover RAM between them. */
	info = ranges(adjacent, 2);
	assert_int_equal(iommu_check_ram_ranges(&m, &info, NULL, 0), 0);
	/* No capability (Linux < 5.4): nothing to check. */
	info.have_ranges = false;
	info.nr_ranges = 0;
	assert_int_equal(iommu_check_ram_ranges(&m, &info, NULL, 0), 0);
}

static void ram_over_msi_window(void **state)
{
	struct iommu_info info = ranges(x86_ranges, 2);
	struct guest_mem m = {
		.nr_regions = 1, .size = 32 * MiB,
		.region[0] = { .gpa = 0xfe000000, .size = 32 * MiB, .hva = FAKE_HVA },
	};
	char err[IOMMU_ERR_LEN];

	(void)state;
	assert_int_equal(iommu_check_ram_ranges(&m, &info, err, sizeof(err)), -ERANGE);
	assert_string_equal(err, "guest RAM 0xfe000000-0xffffffff overlaps IOVA 0xfee00000-0xfeefffff, "
				 "which the host IOMMU reserves (see /sys/kernel/iommu_groups/*/reserved_regions): "
				 "use --memory of at most 14 MiB");
}

static void ram_over_reserved_low_range(void **state)
{
	const struct vfio_iova_range rmrr[] = {
		{ 0, 0x7fffffff }, { 0x80100000, 0xfedfffff }, { 0xfef00000, 0xffffffffffffull },
	};
	struct iommu_info info = ranges(rmrr, 3);
	struct guest_mem m;
	char err[IOMMU_ERR_LEN];

	(void)state;
	guest_mem_layout(&m, FAKE_HVA, 4 * GiB);
	assert_int_equal(iommu_check_ram_ranges(&m, &info, err, sizeof(err)), -ERANGE);
	assert_string_equal(err, "guest RAM 0x0-0xbfffffff overlaps IOVA 0x80000000-0x800fffff, which the "
				 "host IOMMU reserves (see /sys/kernel/iommu_groups/*/reserved_regions): "
				 "use --memory of at most 2048 MiB");
	guest_mem_layout(&m, FAKE_HVA, 2 * GiB);
	assert_int_equal(iommu_check_ram_ranges(&m, &info, NULL, 0), 0);
}

static void ram_beyond_address_width(void **state)
{
	const struct vfio_iova_range w39[] = { { 0, 0xfedfffff }, { 0xfef00000, 0x7fffffffffull } };
	struct iommu_info info = ranges(w39, 2);
	struct guest_mem m;
	char err[IOMMU_ERR_LEN];

	(void)state;
	guest_mem_layout(&m, FAKE_HVA, 1024 * GiB);
	assert_int_equal(iommu_check_ram_ranges(&m, &info, err, sizeof(err)), -ERANGE);
	assert_string_equal(err, "guest RAM 0x100000000-0x1003fffffff ends beyond the host IOMMU's reach "
				 "(usable IOVA stops at 0x7fffffffff): use --memory of at most 523264 MiB");
	/* Nothing usable at all. */
	info = ranges(w39, 0);
	assert_int_equal(iommu_check_ram_ranges(&m, &info, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "0x0-0xbfffffff overlaps IOVA 0x0-0xffffffffffffffff"));
	assert_non_null(strstr(err, "no guest RAM size avoids it"));
}

static void memlock_need_is_all_ram(void **state)
{
	struct guest_mem m;

	(void)state;
	guest_mem_layout(&m, FAKE_HVA, 512 * MiB);
	assert_int_equal(iommu_memlock_need(&m), 512 * MiB);
	guest_mem_layout(&m, FAKE_HVA, 6 * GiB);
	assert_int_equal(iommu_memlock_need(&m), 6 * GiB);
}

/*
 * --viommu, a container per device: type1 pins and counts each container's
 * mappings on its own, so the worst a guest can ask is all RAM in every one.
 */
static void memlock_need_dma_per_container(void **state)
{
	struct guest_mem m, huge = { .nr_regions = 1, .region = { { .size = 1ull << 62 } } };

	(void)state;
	guest_mem_layout(&m, FAKE_HVA, 6 * GiB);
	assert_int_equal(iommu_memlock_need_dma(&m, 1), 6 * GiB);
	assert_int_equal(iommu_memlock_need_dma(&m, 2), 12 * GiB);
	assert_int_equal(iommu_memlock_need_dma(&m, 8), 48 * GiB);
	assert_int_equal(iommu_memlock_need_dma(&m, 0), 0);
	/* Saturates rather than wraps: the limit asked is then "unlimited" (RLIM_INFINITY). */
	assert_int_equal(iommu_memlock_need_dma(&huge, 3), 3ull << 62);
	assert_true(iommu_memlock_need_dma(&huge, 4) == UINT64_MAX);
	assert_true(iommu_memlock_need_dma(&huge, 8) == UINT64_MAX);
}

/*
 * --viommu: the jailed VMM maps without CAP_IPC_LOCK, so the soft limit itself
 * must cover guest RAM: raised to the hard one, the hard one to the need if lower.
 */
static void memlock_plan_dropped(void **state)
{
	struct rlimit lim = { .rlim_cur = 8 * MiB, .rlim_max = 8 * MiB }, want;

	(void)state;
	assert_int_equal(iommu_memlock_plan_dropped(8 * MiB, &lim, &want), 0);
	assert_int_equal(iommu_memlock_plan_dropped(256 * MiB, &lim, &want), 1);
	assert_int_equal(want.rlim_cur, 256 * MiB);
	assert_int_equal(want.rlim_max, 256 * MiB);
	lim.rlim_max = GiB;
	assert_int_equal(iommu_memlock_plan_dropped(256 * MiB, &lim, &want), 1);
	assert_int_equal(want.rlim_cur, GiB);
	assert_int_equal(want.rlim_max, GiB);
	lim.rlim_max = RLIM_INFINITY;
	assert_int_equal(iommu_memlock_plan_dropped(256 * MiB, &lim, &want), 1);
	assert_true(want.rlim_cur == RLIM_INFINITY && want.rlim_max == RLIM_INFINITY);
	lim.rlim_cur = RLIM_INFINITY;
	assert_int_equal(iommu_memlock_plan_dropped(256 * GiB, &lim, &want), 0);
}

static void memlock_plan(void **state)
{
	enum iommu_memlock_verdict v;
	struct rlimit lim = { .rlim_cur = 8 * MiB, .rlim_max = 8 * MiB };
	char err[IOMMU_ERR_LEN];

	(void)state;
	assert_int_equal(iommu_memlock_plan(512 * MiB, &lim, true, &v, NULL, 0), 0);
	assert_int_equal(v, IOMMU_MEMLOCK_EXEMPT);
	assert_int_equal(iommu_memlock_plan(8 * MiB, &lim, false, &v, NULL, 0), 0);
	assert_int_equal(v, IOMMU_MEMLOCK_OK);
	assert_int_equal(iommu_memlock_plan(512 * MiB, &lim, false, &v, err, sizeof(err)), -ENOMEM);
	assert_string_equal(err, "guest RAM pinned for device DMA needs 512 MiB of locked memory, limit is "
				 "8 MiB: run `ulimit -l 524288` or raise memlock in /etc/security/limits.conf");
	lim.rlim_max = GiB;
	assert_int_equal(iommu_memlock_plan(512 * MiB, &lim, false, &v, NULL, 0), 0);
	assert_int_equal(v, IOMMU_MEMLOCK_RAISE);
	lim.rlim_max = RLIM_INFINITY;
	assert_int_equal(iommu_memlock_plan(512 * GiB, &lim, false, &v, NULL, 0), 0);
	assert_int_equal(v, IOMMU_MEMLOCK_RAISE);
	lim.rlim_cur = RLIM_INFINITY;
	assert_int_equal(iommu_memlock_plan(512 * GiB, &lim, false, &v, NULL, 0), 0);
	assert_int_equal(v, IOMMU_MEMLOCK_OK);
	lim = (struct rlimit){ .rlim_cur = 64 * KiB, .rlim_max = 64 * KiB };
	assert_int_equal(iommu_memlock_plan(GiB + 1, &lim, false, &v, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "needs 1048577 KiB of locked memory, limit is 64 KiB: run `ulimit -l 1048577`"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(info_without_caps),
		cmocka_unit_test(info_several_ranges),
		cmocka_unit_test(info_chain_of_two),
		cmocka_unit_test(info_next_points_backwards),
		cmocka_unit_test(info_next_past_end),
		cmocka_unit_test(info_truncated_bodies),
		cmocka_unit_test(ram_fits_x86_ranges),
		cmocka_unit_test(ram_over_msi_window),
		cmocka_unit_test(ram_over_reserved_low_range),
		cmocka_unit_test(ram_beyond_address_width),
		cmocka_unit_test(memlock_need_is_all_ram),
		cmocka_unit_test(memlock_need_dma_per_container),
		cmocka_unit_test(memlock_plan),
		cmocka_unit_test(memlock_plan_dropped),
	};
	return cmocka_run_group_tests_name("iommu_type1", tests, NULL, NULL);
}
