/*
 * cmocka: the virtio-iommu's parameters from what the VFIO container reported
 * (vfio/viommu_backend.c, pure): granule, input range, reserved regions.
 * The MAP_DMA/UNMAP_DMA calls themselves are tested in the bed (viommu).
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

static void params_from_vtd(void **state)
{
	const uint16_t bdf[] = { 0x20 };
	struct viommu_params p;
	char err[256];

	(void)state;
	assert_int_equal(viommu_vfio_params(&vtd, bdf, 1, &p, err, sizeof(err)), 0);
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
	assert_int_equal(viommu_vfio_params(&info, bdf, 1, &p, err, sizeof(err)), 0);
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
	assert_int_equal(viommu_vfio_params(&info, bdf, 1, &p, err, sizeof(err)), 0);
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
	assert_int_equal(viommu_vfio_params(&vtd, bdf, 0, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(viommu_vfio_params(&vtd, bdf, 2, &p, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "one VFIO container"));
	for (i = 0; i < info.nr_ranges; i++)	/* 31 holes of 4 KiB */
		info.range[i] = (struct iommu_iova_range){ i * 0x2000ull, i * 0x2000ull + 0xfff };
	assert_int_equal(viommu_vfio_params(&info, bdf, 1, &p, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "reserved IOVA ranges"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(params_from_vtd), cmocka_unit_test(other_holes_reserved),
		cmocka_unit_test(nothing_reported), cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests_name("viommu_backend", tests, NULL, NULL);
}
