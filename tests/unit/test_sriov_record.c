/* cmocka: the records of VF and PF settings (sriov/record.c) and the VF picking logic (sriov/pf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sriov/sriov.h"

static const struct sriov_vf_record vf_rec = {
	.vf = "0000:01:10.2", .pf = "0000:01:00.0", .ifname = "enp1s0", .index = 1, .pid = 4242,
	.vm = "web", .changed = SRIOV_CHANGED_MAC | SRIOV_CHANGED_TRUST,
	.mac = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee }, .vlan = 0, .qos = 0, .spoofchk = 1,
	.trust = -1, .min_rate = 0, .max_rate = 300,
};

static void vf_record_round_trip(void **state)
{
	struct sriov_vf_record back;
	char text[1024];

	(void)state;
	assert_int_equal(sriov_vf_record_format(&vf_rec, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "mac=02:aa:bb:cc:dd:ee\n"));
	assert_non_null(strstr(text, "trust=-1\n"));
	assert_int_equal(sriov_vf_record_parse(text, &back), 0);
	assert_memory_equal(&back, &vf_rec, sizeof(back));
	/* Too small a buffer is an error, not a cut record. */
	assert_int_equal(sriov_vf_record_format(&vf_rec, text, 40), -EINVAL);
}

static void vf_record_refuses_damage(void **state)
{
	static const char *const bad[] = {
		"vf=0000:01:10.2\npf=0000:01:00.0\nifname=enp1s0\n",			/* no pid */
		"vf=0000:01:10.2\npf=0000:01:00.0\nifname=enp1s0\npid=0\n",		/* pid 0 */
		"vf=01:10.2\npf=0000:01:00.0\nifname=enp1s0\npid=5\n",			/* not canonical */
		"vf=0000:01:10.2\npf=0000:01:00.0\nifname=../x\npid=5\n",		/* a path */
		"vf=0000:01:10.2\npf=0000:01:00.0\nifname=enp1s0\npid=5\nvlan=4096\n",
		"vf=0000:01:10.2\npf=0000:01:00.0\nifname=enp1s0\npid=5\nmac=02:aa\n",
		"vf=0000:01:10.2\npf=0000:01:00.0\nifname=enp1s0\npid=5\nspoofchk=2\n",
		"vf=0000:01:10.2\npf=0000:01:00.0\nifname=enp1s0\npid=5\ngarbage\n",
		"",
	};
	struct sriov_vf_record r;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sriov_vf_record_parse(bad[i], &r) != -EINVAL)
			fail_msg("damaged record %u accepted", i);
	/* Keys of a newer sluice are ignored. */
	assert_int_equal(sriov_vf_record_parse("vf=0000:01:10.2\npf=0000:01:00.0\nifname=e\npid=5\nfuture=1\n", &r), 0);
	assert_int_equal(r.vlan, -1);	/* absent: unknown, never restored as 0 */
}

static void pf_record_round_trip(void **state)
{
	struct sriov_pf_record r, back;
	char text[256];

	(void)state;
	/* Zeroed whole, padding included, so the memory comparison below sees only fields. */
	memset(&r, 0, sizeof(r));
	snprintf(r.pf, sizeof(r.pf), "0000:01:00.0");
	snprintf(r.ifname, sizeof(r.ifname), "enp1s0");
	r.created = r.link_was_down = true;
	assert_int_equal(sriov_pf_record_format(&r, text, sizeof(text)), 0);
	assert_int_equal(sriov_pf_record_parse(text, &back), 0);
	assert_memory_equal(&back, &r, sizeof(r));
	assert_int_equal(sriov_pf_record_parse("pf=0000:01:00.0\nnumvfs=70000\n", &back), -EINVAL);
	assert_int_equal(sriov_pf_record_parse("ifname=enp1s0\n", &back), -EINVAL);
}

static void records_on_disk(void **state)
{
	char dir[] = "/tmp/test_sriov_record.XXXXXX", path[256];
	struct sriov_vf_record back;
	int lock;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sriov_vf_record_write(dir, &vf_rec), 0);
	/* O_EXCL: a second writer for the same VF loses. */
	assert_int_equal(sriov_vf_record_write(dir, &vf_rec), -EEXIST);
	assert_int_equal(sriov_vf_record_read(dir, "0000:01:10.2", &back), 0);
	assert_int_equal(back.pid, 4242);
	lock = sriov_pf_lock(dir, "0000:01:00.0");
	assert_true(lock >= 0);
	sriov_pf_unlock(lock);
	assert_int_equal(sriov_vf_record_remove(dir, "0000:01:10.2"), 0);
	assert_int_equal(sriov_vf_record_read(dir, "0000:01:10.2", &back), -ENOENT);
	snprintf(path, sizeof(path), "%s/sriov/0000:01:00.0.lock", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sriov", dir);
	assert_int_equal(rmdir(path), 0);	/* nothing else was left */
	rmdir(dir);
}

static void pick_first_free(void **state)
{
	struct sriov_slot s[4] = { { .held = true }, { .foreign = true }, { 0 }, { 0 } };
	unsigned idx = 99;

	(void)state;
	assert_int_equal(sriov_pick(s, 4, &idx), 0);
	assert_int_equal(idx, 2);
	s[2].held = true;
	assert_int_equal(sriov_pick(s, 4, &idx), 0);
	assert_int_equal(idx, 3);
	s[3].held = true;
	assert_int_equal(sriov_pick(s, 4, &idx), -EBUSY);
	assert_int_equal(sriov_pick(s, 0, &idx), -EBUSY);
}

#define SYS "tests/fixtures/sysfs/hostpci"

static void pf_model_on_fixtures(void **state)
{
	char why[HOSTPCI_WHY_LEN] = "";
	struct sriov_vf vfs[SRIOV_MAX_VFS];
	struct sriov_pf pf, pfs[4];

	(void)state;
	assert_int_equal(sriov_pf_resolve(SYS, "enp1s0", &pf, why, sizeof(why)), 0);
	assert_string_equal(pf.bdf, "0000:01:00.0");
	assert_string_equal(pf.driver, "igb");
	assert_int_equal(pf.numvfs, 2);
	assert_int_equal(pf.totalvfs, 7);
	assert_int_equal(sriov_pf_resolve(SYS, "01:00.0", &pf, why, sizeof(why)), 0);
	assert_string_equal(pf.ifname, "enp1s0");
	assert_int_equal(sriov_pf_resolve(SYS, "eth1", &pf, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "is a VF of PF 0000:01:00.0"));
	assert_int_equal(sriov_pf_resolve(SYS, "enp0s3", &pf, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "is not an SR-IOV PF (no SR-IOV capability)"));
	assert_int_equal(sriov_pf_resolve(SYS, "nosuch0", &pf, why, sizeof(why)), -ENODEV);
	assert_int_equal(sriov_pf_list(SYS, pfs, 4), 1);
	assert_int_equal(sriov_vf_list(SYS, "/nonexistent", &pfs[0], vfs, SRIOV_MAX_VFS), 2);
	assert_string_equal(vfs[1].bdf, "0000:01:10.2");
	assert_string_equal(vfs[1].driver, "vfio-pci");
	assert_string_equal(vfs[0].netdev, "eth1");
	assert_int_equal(vfs[0].holder, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vf_record_round_trip),
		cmocka_unit_test(vf_record_refuses_damage),
		cmocka_unit_test(pf_record_round_trip),
		cmocka_unit_test(records_on_disk),
		cmocka_unit_test(pick_first_free),
		cmocka_unit_test(pf_model_on_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
