/*
 * cmocka: the virtio-iommu's parameters from what the VFIO containers reported
 * (vfio/viommu_backend.c, pure): granule, input range, reserved regions, one
 * container or several merged. The MAP_DMA/UNMAP_DMA calls themselves are
 * tested in the bed (viommu).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "vfio/viommu_backend.h"

/* What QEMU's emulated VT-d in the bed's L1 reports: 39-bit aperture, the MSI window out. */
static const struct iommu_info vtd = {
	.pgsizes = 0x40201000, .have_ranges = true, .nr_ranges = 2,
	.range = { { 0, 0xfedfffff }, { 0xfef00000, (1ull << 39) - 1 } },
};

static const struct iommu_info *const *one(const struct iommu_info *info)
{
	static const struct iommu_info *list[1];

	list[0] = info;
	return list;
}

static void params_from_vtd(void **state)
{
	const uint16_t bdf[] = { 0x20 };
	struct viommu_params p;
	char err[256];

	(void)state;
	assert_int_equal(viommu_vfio_params(one(&vtd), 1, bdf, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nr_endpoints, 1);
	assert_int_equal(p.endpoint[0], 0x20);
	assert_int_equal(p.page_size_mask, ~0xfffull);
	assert_int_equal(p.input_start, 0);
	assert_int_equal(p.input_end, (1ull << 39) - 1);
	assert_true(p.domain_start <= p.domain_end);
	/* The hole is the MSI window: reported once, as MSI. */
	assert_int_equal(p.nr_resv, 1);
	assert_int_equal(p.resv[0].start, VIOMMU_MSI_START);
	assert_int_equal(p.resv[0].end, VIOMMU_MSI_END);
	assert_int_equal(p.resv[0].subtype, VIRTIO_IOMMU_RESV_MEM_T_MSI);
}

/* Other holes (an RMRR, say) become RESERVED regions; a 64K granule is taken as it is. */
static void other_holes_reserved(void **state)
{
	struct iommu_info info = {
		.pgsizes = 0x10000, .have_ranges = true, .nr_ranges = 3,
		.range = { { 0x10000, 0x7fffffff }, { 0x80100000, 0xfedfffff },
			   { 0xfef00000, 0xffffffffffull } },
	};
	const uint16_t bdf[] = { 0x18 };
	struct viommu_params p;
	char err[256];

	(void)state;
	assert_int_equal(viommu_vfio_params(one(&info), 1, bdf, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.page_size_mask, ~0xffffull);
	assert_int_equal(p.input_start, 0x10000);
	assert_int_equal(p.input_end, 0xffffffffffull);
	assert_int_equal(p.nr_resv, 2);
	assert_int_equal(p.resv[1].start, 0x80000000);
	assert_int_equal(p.resv[1].end, 0x800fffff);
	assert_int_equal(p.resv[1].subtype, VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
}

/* No ranges reported (Linux < 5.4), no page sizes: 4 KiB and a 48-bit space, the MSI window out. */
static void nothing_reported(void **state)
{
	const struct iommu_info info = { 0 };
	const uint16_t bdf[] = { 0x18 };
	struct viommu_params p;
	char err[256];

	(void)state;
	assert_int_equal(viommu_vfio_params(one(&info), 1, bdf, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.page_size_mask, ~0xfffull);
	assert_int_equal(p.input_end, (1ull << 48) - 1);
	assert_int_equal(p.nr_resv, 1);
}

static void refusals(void **state)
{
	struct iommu_info info = { .have_ranges = true, .nr_ranges = IOMMU_IOVA_RANGES_MAX };
	const uint16_t bdf[] = { 0x18, 0x20 };
	struct viommu_params p;
	char err[256];
	unsigned i;

	(void)state;
	assert_int_equal(viommu_vfio_params(one(&vtd), 1, bdf, 0, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0 devices"));
	assert_int_equal(viommu_vfio_params(one(&vtd), 0, bdf, 2, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "in 0 containers"));
	assert_int_equal(viommu_vfio_params(one(&vtd), 1, bdf, VIOMMU_BACKEND_MAX_DEVS + 1, &p, err,
					    sizeof(err)), -E2BIG);
	for (i = 0; i < info.nr_ranges; i++)	/* 31 holes of 4 KiB */
		info.range[i] = (struct iommu_iova_range){ i * 0x2000ull, i * 0x2000ull + 0xfff };
	assert_int_equal(viommu_vfio_params(one(&info), 1, bdf, 1, &p, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "reserved IOVA ranges"));
}

/* Two devices, a container each: @a's and @b's. */
static int params2(const struct iommu_info *a, const struct iommu_info *b, struct viommu_params *p,
		   char *err, size_t errlen)
{
	const struct iommu_info *info[] = { a, b };
	const uint16_t bdf[] = { 0x18, 0x20 };

	return viommu_vfio_params(info, 2, bdf, 2, p, err, errlen);
}

/* Two VT-d containers as the bed has them (a VF each): the same answer as for one, two endpoints. */
static void two_alike(void **state)
{
	struct viommu_params p;
	char err[256];

	(void)state;
	assert_int_equal(params2(&vtd, &vtd, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nr_endpoints, 2);
	assert_int_equal(p.endpoint[0], 0x18);
	assert_int_equal(p.endpoint[1], 0x20);
	assert_int_equal(p.page_size_mask, ~0xfffull);
	assert_int_equal(p.input_start, 0);
	assert_int_equal(p.input_end, (1ull << 39) - 1);
	assert_int_equal(p.nr_resv, 1);
	assert_int_equal(p.resv[0].subtype, VIRTIO_IOMMU_RESV_MEM_T_MSI);
}

/*
 * Different containers: the largest granule, the input range common to all,
 * each one's holes reserved (an RMRR in one), and one that reports no ranges
 * (Linux < 5.4) restricting nothing; the order of the containers does not matter.
 */
static void merged(void **state)
{
	const struct iommu_info rmrr = {
		.pgsizes = 0x10000 | 0x200000, .have_ranges = true, .nr_ranges = 3,
		.range = { { 0x10000, 0x7fffffff }, { 0x80100000, 0xfedfffff },
			   { 0xfef00000, (1ull << 48) - 1 } },
	};
	const struct iommu_info none = { 0 };
	const struct iommu_info *ab[] = { &vtd, &rmrr, &none }, *ba[] = { &none, &rmrr, &vtd };
	const uint16_t bdf[] = { 0x18, 0x20, 0x28 };
	struct viommu_params p, q;
	char err[256];

	(void)state;
	assert_int_equal(viommu_vfio_params(ab, 3, bdf, 3, &p, err, sizeof(err)), 0);
	assert_int_equal(viommu_vfio_params(ba, 3, bdf, 3, &q, err, sizeof(err)), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	assert_int_equal(p.page_size_mask, ~0xffffull);
	assert_int_equal(p.input_start, 0x10000);
	assert_int_equal(p.input_end, (1ull << 39) - 1);
	assert_int_equal(p.nr_resv, 2);
	assert_int_equal(p.resv[0].subtype, VIRTIO_IOMMU_RESV_MEM_T_MSI);
	assert_int_equal(p.resv[1].start, 0x80000000);
	assert_int_equal(p.resv[1].end, 0x800fffff);
	assert_int_equal(p.resv[1].subtype, VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
}

/* Ranges overlapping in pieces: each piece kept, the gaps between them reserved. */
static void pieces(void **state)
{
	const struct iommu_info a = {
		.have_ranges = true, .nr_ranges = 2,
		.range = { { 0x0, 0x3fffffff }, { 0x80000000, 0xffffffff } },
	};
	const struct iommu_info b = {
		.have_ranges = true, .nr_ranges = 1, .range = { { 0x20000000, 0x9fffffff } },
	};
	struct viommu_params p;
	char err[256];

	(void)state;
	assert_int_equal(params2(&a, &b, &p, err, sizeof(err)), 0);
	assert_int_equal(p.input_start, 0x20000000);
	assert_int_equal(p.input_end, 0x9fffffff);
	assert_int_equal(p.nr_resv, 2);
	assert_int_equal(p.resv[1].start, 0x40000000);
	assert_int_equal(p.resv[1].end, 0x7fffffff);
}

/* Containers with no IOVA in common cannot share a guest's domains: refused, saying so. */
static void nothing_in_common(void **state)
{
	const struct iommu_info low = { .have_ranges = true, .nr_ranges = 1, .range = { { 0, 0xfffff } } };
	const struct iommu_info high = {
		.have_ranges = true, .nr_ranges = 1, .range = { { 0x100000, 0xffffffff } },
	};
	struct viommu_params p;
	char err[256];

	(void)state;
	assert_int_equal(params2(&low, &high, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no address in common"));
}

/*
 * Behind the virtio-iommu each device needs a container, which a host IOMMU
 * group cannot split: two devices of one group are refused, naming both and
 * the group; devices in groups of their own (or with none known) pass.
 */
static void one_group_two_devices(void **state)
{
	char bdfs[3][16] = { "0000:01:10.0", "0000:01:10.2", "0000:02:00.0" };
	const int apart[] = { 5, 6, 7 }, shared[] = { 5, 6, 6 }, unknown[] = { -1, -1, 7 };
	char why[512] = "";

	(void)state;
	assert_int_equal(vfio_viommu_check_groups(bdfs, apart, 3, why, sizeof(why)), 0);
	assert_int_equal(vfio_viommu_check_groups(bdfs, unknown, 3, why, sizeof(why)), 0);
	assert_int_equal(vfio_viommu_check_groups(bdfs, shared, 1, why, sizeof(why)), 0);
	assert_int_equal(vfio_viommu_check_groups(bdfs, shared, 3, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--viommu: 0000:01:10.2 and 0000:02:00.0 are both in IOMMU group 6, "
				 "and the guest may give them different domains, which one host group "
				 "cannot hold: put only one of them behind the virtio-iommu, or assign "
				 "them without --viommu");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(params_from_vtd), cmocka_unit_test(other_holes_reserved),
		cmocka_unit_test(nothing_reported), cmocka_unit_test(refusals),
		cmocka_unit_test(two_alike), cmocka_unit_test(merged), cmocka_unit_test(pieces),
		cmocka_unit_test(nothing_in_common), cmocka_unit_test(one_group_two_devices),
	};
	return cmocka_run_group_tests_name("viommu_backend", tests, NULL, NULL);
}
