/* cmocka: the host-PCI helper on the recorded tree tests/fixtures/sysfs/hostpci (see regen). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio/hostpci.h"
#include "vfio/vfio.h"

#define SYS "tests/fixtures/sysfs/hostpci"

static int fixtures_present(void **state)
{
	(void)state;
	if (access(SYS "/bus/pci/devices/0000:01:00.0/config", F_OK) == 0)
		return 0;
	fprintf(stderr, "%s: not found: run the test from the source tree root\n", SYS);
	return -1;
}

static void netdev_of_a_vf(void **state)
{
	char bdf[HOSTPCI_BDF_LEN] = "", why[HOSTPCI_WHY_LEN];

	(void)state;
	assert_int_equal(hostpci_from_netdev(SYS, "eth1", bdf, why, sizeof(why)), 0);
	assert_string_equal(bdf, "0000:01:10.0");
}

static void netdev_of_a_pf(void **state)
{
	char bdf[HOSTPCI_BDF_LEN] = "", why[HOSTPCI_WHY_LEN];

	(void)state;
	assert_int_equal(hostpci_from_netdev(SYS, "enp1s0", bdf, why, sizeof(why)), 0);
	assert_string_equal(bdf, "0000:01:00.0");
}

static void netdev_not_pci(void **state)
{
	char bdf[HOSTPCI_BDF_LEN] = "", why[HOSTPCI_WHY_LEN] = "";

	(void)state;
	assert_int_equal(hostpci_from_netdev(SYS, "lo", bdf, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "lo is a virtual interface, not a PCI device"));
	assert_int_equal(hostpci_from_netdev(SYS, "usb0", bdf, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "usb0 sits on 2-1:1.0, which is not a PCI device"));
	assert_string_equal(bdf, "");
}

static void netdev_missing_or_malformed(void **state)
{
	char bdf[HOSTPCI_BDF_LEN] = "", why[HOSTPCI_WHY_LEN] = "";
	static const char *const bad[] = { "", "a/b", "sixteen-chars-xx", "..", "a b" };
	unsigned i;

	(void)state;
	assert_int_equal(hostpci_from_netdev(SYS, "nosuch0", bdf, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "no network interface 'nosuch0'"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (hostpci_from_netdev(SYS, bad[i], bdf, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' accepted as an interface name", bad[i]);
		assert_non_null(strstr(why, "neither a PCI address"));
	}
}

static void netdevs_of_a_function(void **state)
{
	char names[HOSTPCI_MAX_NETDEVS][IFNAMSIZ];

	(void)state;
	assert_int_equal(hostpci_netdevs(SYS, "0000:01:00.0", names, HOSTPCI_MAX_NETDEVS), 1);
	assert_string_equal(names[0], "enp1s0");
	assert_int_equal(hostpci_netdevs(SYS, "0000:01:10.0", names, HOSTPCI_MAX_NETDEVS), 1);
	assert_string_equal(names[0], "eth1");
	/* On vfio-pci a VF has no netdev. */
	assert_int_equal(hostpci_netdevs(SYS, "0000:01:10.2", names, HOSTPCI_MAX_NETDEVS), 0);
}

static void attributes(void **state)
{
	char buf[64];
	unsigned long v;
	uint8_t hdr;

	(void)state;
	assert_int_equal(hostpci_attr_ul(SYS, "0000:01:00.0", "vendor", &v), 0);
	assert_int_equal(v, 0x8086);
	assert_int_equal(hostpci_attr_ul(SYS, "0000:01:00.0", "device", &v), 0);
	assert_int_equal(v, 0x10c9);
	assert_int_equal(hostpci_attr_ul(SYS, "0000:01:00.0", "class", &v), 0);
	assert_int_equal(v, 0x020000);
	assert_int_equal(hostpci_header_type(SYS, "0000:01:00.0", &hdr), 0);
	assert_int_equal(hdr, 0x80);	/* multi-function bit, type 0 */
	assert_int_equal(hostpci_header_type(SYS, "0000:00:01.0", &hdr), 0);
	assert_int_equal(hdr, 1);
	assert_int_equal(hostpci_driver(SYS, "0000:01:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "igb");
	assert_int_equal(hostpci_driver(SYS, "0000:00:00.0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(hostpci_attr(SYS, "0000:01:00.0", "nosuch", buf, sizeof(buf)), -ENOENT);
	assert_true(hostpci_exists(SYS, "0000:01:10.2"));
	assert_false(hostpci_exists(SYS, "0000:05:00.0"));
}

static void pf_vf_links(void **state)
{
	char bdf[HOSTPCI_BDF_LEN];
	unsigned n, idx;

	(void)state;
	assert_int_equal(hostpci_sriov_totalvfs(SYS, "0000:01:00.0", &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(hostpci_sriov_numvfs(SYS, "0000:01:00.0", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(hostpci_virtfn(SYS, "0000:01:00.0", 0, bdf), 0);
	assert_string_equal(bdf, "0000:01:10.0");
	assert_int_equal(hostpci_virtfn(SYS, "0000:01:00.0", 1, bdf), 0);
	assert_string_equal(bdf, "0000:01:10.2");
	assert_int_equal(hostpci_virtfn(SYS, "0000:01:00.0", 2, bdf), -ENOENT);
	assert_int_equal(hostpci_physfn(SYS, "0000:01:10.2", bdf), 0);
	assert_string_equal(bdf, "0000:01:00.0");
	assert_int_equal(hostpci_vf_index(SYS, "0000:01:00.0", "0000:01:10.2", &idx), 0);
	assert_int_equal(idx, 1);
	/* A PF is no VF; a function without SR-IOV has no counts. */
	assert_int_equal(hostpci_physfn(SYS, "0000:01:00.0", bdf), -ENOENT);
	assert_int_equal(hostpci_sriov_totalvfs(SYS, "0000:00:03.0", &n), -ENOENT);
	assert_int_equal(hostpci_vf_index(SYS, "0000:00:03.0", "0000:01:10.0", &idx), -ENOENT);
}

static void refused(const char *bdf, const char *msg)
{
	char why[HOSTPCI_WHY_LEN] = "";

	if (hostpci_check_endpoint(SYS, bdf, why, sizeof(why)) != -EINVAL)
		fail_msg("%s: accepted as an endpoint", bdf);
	if (!strstr(why, msg))
		fail_msg("%s: '%s' does not say '%s'", bdf, why, msg);
}

static void bridges_refused(void **state)
{
	(void)state;
	refused("0000:00:00.0", "0000:00:00.0 is a host bridge: not a device a guest can own");
	refused("0000:00:1f.0", "0000:00:1f.0 is an ISA/LPC bridge: not a device a guest can own");
	refused("0000:00:01.0", "0000:00:01.0 is a bridge (header type 1): assign the devices behind it instead");
	refused("0000:00:1e.0", "0000:00:1e.0 is a bridge (class 0x0680)");
}

static void endpoints_accepted(void **state)
{
	char why[HOSTPCI_WHY_LEN] = "";

	(void)state;
	assert_int_equal(hostpci_check_endpoint(SYS, "0000:01:00.0", why, sizeof(why)), 0);
	assert_int_equal(hostpci_check_endpoint(SYS, "0000:01:10.0", why, sizeof(why)), 0);
	assert_int_equal(hostpci_check_endpoint(SYS, "0000:00:03.0", why, sizeof(why)), 0);
	assert_int_equal(hostpci_check_endpoint(SYS, "0000:05:00.0", why, sizeof(why)), -EIO);
	assert_non_null(strstr(why, "0000:05:00.0: cannot read its config space"));
}

static void assignable_uses_the_records(void **state)
{
	char dir[] = "/tmp/test_hostpci.XXXXXX", path[256], why[HOSTPCI_WHY_LEN] = "";
	const char *set[1] = { "0000:01:10.0" };
	int group = -1, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(hostpci_check_assignable(SYS, dir, set[0], set, 1, &group, why, sizeof(why)), 0);
	assert_int_equal(group, 3);
	/* A record left by a sluice that is gone (no process has pid 0x7ffffff0). */
	snprintf(path, sizeof(path), "%s/devices", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/devices/0000:01:10.0", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_true(dprintf(fd, "bdf=0000:01:10.0\npid=%d\nvm=gone\n", 0x7ffffff0) > 0);
	close(fd);
	assert_int_equal(hostpci_check_assignable(SYS, dir, set[0], set, 1, &group, why, sizeof(why)),
			 -ESTALE);
	assert_non_null(strstr(why, "run 'sluice release 0000:01:10.0' first"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/devices", dir);
	rmdir(path);
	rmdir(dir);
	/* A host bridge is refused by the same check, before its group is looked at. */
	set[0] = "0000:00:00.0";
	assert_int_equal(hostpci_check_assignable(SYS, "/nonexistent", set[0], set, 1, &group, why,
						  sizeof(why)), -EINVAL);
	assert_int_equal(group, -1);
}

/* What `--assign` resolves a name with (issue 16.1): the function behind it, not the PF. */
static void assign_resolves_names(void **state)
{
	char bdf[16] = "";

	(void)state;
	assert_int_equal(vfio_resolve(SYS, "eth1", bdf), 0);
	assert_string_equal(bdf, "0000:01:10.0");
	assert_int_equal(vfio_resolve(SYS, "enp1s0", bdf), 0);
	assert_string_equal(bdf, "0000:01:00.0");
	assert_int_equal(vfio_resolve(SYS, "01:10.2", bdf), 0);
	assert_string_equal(bdf, "0000:01:10.2");
	assert_int_equal(vfio_resolve(SYS, "lo", bdf), -ENODEV);
	assert_int_equal(vfio_resolve(SYS, "nosuch0", bdf), -ENODEV);
	assert_int_equal(vfio_resolve(SYS, "0000:05:00.0", bdf), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(netdev_of_a_vf),
		cmocka_unit_test(netdev_of_a_pf),
		cmocka_unit_test(netdev_not_pci),
		cmocka_unit_test(netdev_missing_or_malformed),
		cmocka_unit_test(netdevs_of_a_function),
		cmocka_unit_test(attributes),
		cmocka_unit_test(pf_vf_links),
		cmocka_unit_test(bridges_refused),
		cmocka_unit_test(endpoints_accepted),
		cmocka_unit_test(assignable_uses_the_records),
		cmocka_unit_test(assign_resolves_names),
	};

	return cmocka_run_group_tests(tests, fixtures_present, NULL);
}
