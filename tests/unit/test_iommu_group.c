/* cmocka: PCI addresses, IOMMU groups and viability, on recorded sysfs trees. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iommu/group.h"

/* Relative to the source tree root, where `make unit` runs the tests. */
#define FIXTURES "tests/fixtures/sysfs"

static int fixtures_present(void **state)
{
	(void)state;
	if (access(FIXTURES "/vf_alone/bus/pci/devices", F_OK) == 0)
		return 0;
	fprintf(stderr, "%s: not found: run the test from the source tree root\n", FIXTURES);
	return -1;
}

static void bdf_accepts_both_forms(void **state)
{
	char out[IOMMU_BDF_LEN];

	(void)state;
	assert_int_equal(iommu_bdf_parse("0000:01:10.0", out, NULL, 0), 0);
	assert_string_equal(out, "0000:01:10.0");
	assert_int_equal(iommu_bdf_parse("01:10.2", out, NULL, 0), 0);
	assert_string_equal(out, "0000:01:10.2");
	assert_int_equal(iommu_bdf_parse("0000:0A:1F.7", out, NULL, 0), 0);
	assert_string_equal(out, "0000:0a:1f.7");
	assert_int_equal(iommu_bdf_parse("10000:00:02.0", out, NULL, 0), 0);	/* VMD domain */
	assert_string_equal(out, "10000:00:02.0");
	assert_int_equal(iommu_bdf_parse("FFFFFFF:ff:1f.7", out, NULL, 0), 0);	/* the longest that fits */
	assert_string_equal(out, "fffffff:ff:1f.7");
}

static void bdf_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "1:10.0", "01:20.0", "01:10.8", "0000:01:10", "0000:01:10.0 ", "000:01:10.0",
		"0000:01:10.00", "x1:10.0", "0000-01:10.0", "0000:01:10:0", ":01:10.0", "01.10.0",
		"0000:001:10.0", "12345678:01:10.0",
	};
	char out[IOMMU_BDF_LEN], err[IOMMU_ERR_LEN];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (iommu_bdf_parse(bad[i], out, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(err, "expected DDDD:BB:SS.F or BB:SS.F"));
	}
	assert_int_equal(iommu_bdf_parse(NULL, out, err, sizeof(err)), -EINVAL);
	assert_int_equal(iommu_bdf_parse("01:20.0", out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'01:20.0' is not a PCI address: expected DDDD:BB:SS.F or BB:SS.F in hex, "
				 "e.g. 0000:01:10.0 (slot <= 1f, function <= 7)");
}

static void group_of_each_device(void **state)
{
	int g = -1;

	(void)state;
	assert_int_equal(iommu_group_of(FIXTURES "/vf_alone", "0000:00:01.0", &g, NULL, 0), 0);
	assert_int_equal(g, 1);
	assert_int_equal(iommu_group_of(FIXTURES "/vf_alone", "01:00.0", &g, NULL, 0), 0);
	assert_int_equal(g, 2);
	assert_int_equal(iommu_group_of(FIXTURES "/vf_alone", "01:10.0", &g, NULL, 0), 0);
	assert_int_equal(g, 3);
	assert_int_equal(iommu_group_of(FIXTURES "/vf_alone", "0000:01:10.2", &g, NULL, 0), 0);
	assert_int_equal(g, 4);
	assert_int_equal(iommu_group_of(FIXTURES "/host_driver", "01:10.2", &g, NULL, 0), 0);
	assert_int_equal(g, 2);
}

static void group_of_missing_device(void **state)
{
	char err[IOMMU_ERR_LEN];
	int g = -1;

	(void)state;
	assert_int_equal(iommu_group_of(FIXTURES "/vf_alone", "02:00.0", &g, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no PCI device 0000:02:00.0: see `sluice devices`");
	assert_int_equal(g, -1);
	assert_int_equal(iommu_group_of(FIXTURES "/vf_alone", "01:10", &g, err, sizeof(err)), -EINVAL);
}

static void group_of_without_iommu(void **state)
{
	char err[IOMMU_ERR_LEN];
	int g = -1;

	(void)state;
	assert_int_equal(iommu_group_of(FIXTURES "/no_iommu", "01:10.0", &g, err, sizeof(err)), -ENODEV);
	assert_string_equal(err, "0000:01:10.0 has no IOMMU group: the host has no IOMMU or it is off: "
				 "enable VT-d/AMD-Vi in firmware and boot with intel_iommu=on / amd_iommu=on");
}

static void group_read_members(void **state)
{
	struct iommu_group g;

	(void)state;
	assert_int_equal(iommu_group_read(FIXTURES "/host_driver", 2, &g, NULL, 0), 0);
	assert_int_equal(g.id, 2);
	assert_int_equal(g.nr_members, 3);
	assert_string_equal(g.member[0].name, "0000:01:00.0");
	assert_string_equal(g.member[0].driver, "igb");
	assert_int_equal(g.member[0].vendor, 0x8086);
	assert_int_equal(g.member[0].device, 0x10c9);
	assert_false(g.member[0].bridge);
	assert_string_equal(g.member[1].name, "0000:01:10.0");
	assert_string_equal(g.member[1].driver, "vfio-pci");
	assert_string_equal(g.member[2].name, "0000:01:10.2");
	assert_string_equal(g.member[2].driver, "igbvf");
	assert_int_equal(g.member[2].device, 0x10ca);
	iommu_group_free(&g);
	assert_null(g.member);

	assert_int_equal(iommu_group_read(FIXTURES "/bridge", 1, &g, NULL, 0), 0);
	assert_int_equal(g.nr_members, 2);
	assert_string_equal(g.member[0].name, "0000:00:01.0");
	assert_string_equal(g.member[0].driver, "pcieport");
	assert_true(g.member[0].bridge);
	assert_false(g.member[1].bridge);
	iommu_group_free(&g);

	assert_int_equal(iommu_group_read(FIXTURES "/unbound", 3, &g, NULL, 0), 0);
	assert_int_equal(g.nr_members, 2);
	assert_string_equal(g.member[1].driver, "");
	iommu_group_free(&g);
}

static void group_read_missing_group(void **state)
{
	struct iommu_group g;
	char err[IOMMU_ERR_LEN];

	(void)state;
	assert_int_equal(iommu_group_read(FIXTURES "/vf_alone", 9, &g, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "group 9: cannot list "));
	assert_non_null(strstr(err, "no such IOMMU group; see `sluice devices`"));
	assert_null(g.member);
}

static void viable_vf_alone(void **state)
{
	const char *const vf0[] = { "0000:01:10.0" }, *const vf2[] = { "01:10.2" };

	(void)state;
	assert_int_equal(iommu_group_check(FIXTURES "/vf_alone", 3, vf0, 1, NULL, 0), 0);
	/* Still on igbvf, but it is the device being assigned: the caller rebinds it. */
	assert_int_equal(iommu_group_check(FIXTURES "/vf_alone", 4, vf2, 1, NULL, 0), 0);
	/* The PF on igb, alone in group 2, blocks only if someone asks for group 2 without it. */
	assert_int_equal(iommu_group_check(FIXTURES "/vf_alone", 2, vf0, 1, NULL, 0), -EBUSY);
}

static void not_viable_host_driver(void **state)
{
	const char *const one[] = { "0000:01:10.0" };
	const char *const two[] = { "0000:01:10.0", "01:10.2" };
	const char *const all[] = { "0000:01:10.0", "01:10.2", "01:00.0" };
	char err[IOMMU_ERR_LEN];

	(void)state;
	assert_int_equal(iommu_group_check(FIXTURES "/host_driver", 2, one, 1, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "group 2 also holds 0000:01:00.0 (8086:10c9), bound to igb, and "
				 "0000:01:10.2 (8086:10ca), bound to igbvf: unbind them or assign the whole group");
	assert_int_equal(iommu_group_check(FIXTURES "/host_driver", 2, two, 2, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "group 2 also holds 0000:01:00.0 (8086:10c9), bound to igb: "
				 "unbind it or assign the whole group");
	assert_int_equal(iommu_group_check(FIXTURES "/host_driver", 2, all, 3, err, sizeof(err)), 0);
}

static void viable_bridge_on_pcieport(void **state)
{
	const char *const pf[] = { "01:00.0" };

	(void)state;
	assert_int_equal(iommu_group_check(FIXTURES "/bridge", 1, pf, 1, NULL, 0), 0);
}

static void viable_unbound_sibling(void **state)
{
	const char *const vf0[] = { "01:10.0" };

	(void)state;
	assert_int_equal(iommu_group_check(FIXTURES "/unbound", 3, vf0, 1, NULL, 0), 0);
}

static void viable_pure_rules(void **state)
{
	struct iommu_group_member m[] = {
		{ .name = "0000:00:1c.0", .driver = "shpchp", .bridge = true },
		{ .name = "0000:03:00.0", .driver = "mlx5_vfio_pci" },
		{ .name = "0000:03:00.1", .driver = "pci-stub" },
		{ .name = "0000:03:00.2", .driver = "pcieport" },	/* not a bridge: blocks */
		{ .name = "0000:03:00.3", .driver = "vfio-pci" },
	};
	struct iommu_group g = { .id = 5, .nr_members = 5, .member = m };
	const char *const assign[] = { "03:00.3" }, *const bad[] = { "3:0.0" };
	char err[IOMMU_ERR_LEN], tiny[16];

	(void)state;
	assert_int_equal(iommu_group_viable(&g, assign, 1, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "group 5 also holds 0000:03:00.2 (0000:0000), bound to pcieport: "
				 "unbind it or assign the whole group");
	g.nr_members = 3;
	assert_int_equal(iommu_group_viable(&g, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(iommu_group_viable(&g, bad, 1, err, sizeof(err)), -EINVAL);
	/* A short buffer truncates, still terminated. */
	g.nr_members = 5;
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(iommu_group_viable(&g, assign, 1, tiny, sizeof(tiny)), -EBUSY);
	assert_string_equal(tiny, "group 5 also ho");
}

static void vfio_path(void **state)
{
	char buf[32], tiny[8];

	(void)state;
	assert_int_equal(iommu_group_vfio_path(3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/dev/vfio/3");
	assert_int_equal(iommu_group_vfio_path(12, tiny, sizeof(tiny)), -ENAMETOOLONG);
	assert_int_equal(iommu_group_vfio_path(-1, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bdf_accepts_both_forms),
		cmocka_unit_test(bdf_rejects_malformed),
		cmocka_unit_test(group_of_each_device),
		cmocka_unit_test(group_of_missing_device),
		cmocka_unit_test(group_of_without_iommu),
		cmocka_unit_test(group_read_members),
		cmocka_unit_test(group_read_missing_group),
		cmocka_unit_test(viable_vf_alone),
		cmocka_unit_test(not_viable_host_driver),
		cmocka_unit_test(viable_bridge_on_pcieport),
		cmocka_unit_test(viable_unbound_sibling),
		cmocka_unit_test(viable_pure_rules),
		cmocka_unit_test(vfio_path),
	};
	return cmocka_run_group_tests_name("iommu_group", tests, fixtures_present, NULL);
}
