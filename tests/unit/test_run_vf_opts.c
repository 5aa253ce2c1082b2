/* cmocka: `sluice run --net vf:PF,...` parsing (vmm/cli/run_virtio_opts.c, pure). */
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

#include "vmm/cli/run.h"

/* run_opt_net with stderr captured into @msg. */
static int net(struct run_opts *o, const char *arg, char *msg, size_t len)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), rc;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	rc = run_opt_net(o, arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(msg, 1, len - 1, tmp);
	msg[n] = '\0';
	fclose(tmp);
	return rc;
}

static void parses_every_option(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x12, 0x34, 0x56 };
	struct run_opts o;
	char msg[512];

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(net(&o, "vf:enp1s0,mac=02:00:00:12:34:56,vlan=0,spoofchk=off,trust=on,rate=300",
			     msg, sizeof(msg)), 0);
	assert_int_equal(o.nr_vfs, 1);
	assert_int_equal(o.nr_nets, 0);
	assert_string_equal(o.vf[0].pf, "enp1s0");
	assert_true(o.vf[0].has_mac);
	assert_memory_equal(o.vf[0].mac, mac, 6);
	assert_int_equal(o.vf[0].vlan, 0);
	assert_int_equal(o.vf[0].spoofchk, 0);
	assert_int_equal(o.vf[0].trust, 1);
	assert_int_equal(o.vf[0].rate, 300);
	/* Nothing given: every setting left as it is, the MAC chosen at claim time. */
	assert_int_equal(net(&o, "vf:0000:01:00.0", msg, sizeof(msg)), 0);
	assert_string_equal(o.vf[1].pf, "0000:01:00.0");
	assert_false(o.vf[1].has_mac);
	assert_int_equal(o.vf[1].vlan, -1);
	assert_int_equal(o.vf[1].spoofchk, -1);
	assert_int_equal(o.vf[1].trust, -1);
	assert_int_equal(o.vf[1].rate, -1);
	/* A TAP NIC beside them. */
	assert_int_equal(net(&o, "tap:t0", msg, sizeof(msg)), 0);
	assert_int_equal(o.nr_nets, 1);
}

static void refuses_bad_input(void **state)
{
	static const struct { const char *arg, *says; } bad[] = {
		{ "vf:", "give the PF as an interface or PCI address" },
		{ "vf:,mac=02:00:00:00:00:01", "give the PF" },
		{ "vf:a/b", "give the PF" },
		{ "vf:eth0,mac=01:00:5e:00:00:01", "not a multicast or zero address" },
		{ "vf:eth0,mac=02:00:00:00:00", "bad mac" },
		{ "vf:eth0,mac=00:00:00:00:00:00", "not a multicast or zero address" },
		{ "vf:eth0,vlan=4096", "give 0-4095" },
		{ "vf:eth0,vlan=-1", "bad vlan" },
		{ "vf:eth0,vlan=", "unknown option" },
		{ "vf:eth0,rate=fast", "bad rate" },
		{ "vf:eth0,spoofchk=yes", "give on or off" },
		{ "vf:eth0,trust=", "unknown option" },
		{ "vf:eth0,queues=2", "unknown option 'queues=2'" },
		{ "vfx:eth0", "a TAP device, a host bridge or a VF" },
	};
	struct run_opts o;
	char msg[512];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&o, 0, sizeof(o));
		if (net(&o, bad[i].arg, msg, sizeof(msg)) != -EINVAL)
			fail_msg("--net %s accepted", bad[i].arg);
		if (!strstr(msg, bad[i].says))
			fail_msg("--net %s: '%s' does not say '%s'", bad[i].arg, msg, bad[i].says);
		assert_int_equal(o.nr_vfs, 0);
	}
}

static void refuses_one_mac_twice(void **state)
{
	struct run_opts o;
	char msg[512];

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(net(&o, "vf:eth0,mac=02:00:00:00:00:01", msg, sizeof(msg)), 0);
	assert_int_equal(net(&o, "vf:eth1,mac=02:00:00:00:00:01", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "is already vf0's"));
	assert_int_equal(net(&o, "tap,mac=02:00:00:00:00:01", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "is already vf0's"));
	assert_int_equal(o.nr_vfs, 1);
	assert_int_equal(o.nr_nets, 0);
}

static void at_most_eight_nics(void **state)
{
	struct run_opts o;
	char msg[512];
	unsigned i;

	(void)state;
	memset(&o, 0, sizeof(o));
	for (i = 0; i < 4; i++)
		assert_int_equal(net(&o, "vf:eth0", msg, sizeof(msg)), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(net(&o, "tap", msg, sizeof(msg)), 0);
	assert_int_equal(net(&o, "vf:eth0", msg, sizeof(msg)), -EINVAL);
	assert_int_equal(net(&o, "tap", msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "at most 8 network devices"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_option),
		cmocka_unit_test(refuses_bad_input),
		cmocka_unit_test(refuses_one_mac_twice),
		cmocka_unit_test(at_most_eight_nics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
