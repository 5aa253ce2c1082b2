/*
 * cmocka: driver VMs (sandbox/drivervm): the supervisor's policy (backoff,
 * up/hung/late, failover, the restart limit, outage bookkeeping), the ARP
 * probe's bytes and the answers it accepts, and `driver-vm run`'s options.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sandbox/drivervm/dvm.h"
#include "vmm/cli/driver_vm.h"
#include "vmm/machine.h"

static const struct dvm_timing T = { .probe_ms = 10, .misses = 5, .boot_ms = 1000, .restart_limit = 2 };

static void backoff_doubles_to_a_cap(void **state)
{
	(void)state;
	assert_int_equal(dvm_backoff_ms(1), 100);
	assert_int_equal(dvm_backoff_ms(2), 200);
	assert_int_equal(dvm_backoff_ms(3), 400);
	assert_int_equal(dvm_backoff_ms(7), 5000);
	assert_int_equal(dvm_backoff_ms(1000), 5000);
}

static void status_to_failure(void **state)
{
	(void)state;
	assert_int_equal(dvm_fail_of_status(MACHINE_EXIT_PANIC), DVM_FAIL_PANIC);
	assert_int_equal(dvm_fail_of_status(128 + 9), DVM_FAIL_CRASH);
	assert_int_equal(dvm_fail_of_status(128 + 31), DVM_FAIL_CRASH);
	assert_int_equal(dvm_fail_of_status(MACHINE_EXIT_OK), DVM_FAIL_EXIT);
	assert_int_equal(dvm_fail_of_status(MACHINE_EXIT_RESET), DVM_FAIL_EXIT);
	assert_int_equal(dvm_fail_of_status(MACHINE_EXIT_FAIL), DVM_FAIL_EXIT);
	assert_int_equal(dvm_fail_of_status(MACHINE_EXIT_USAGE), DVM_FAIL_BOOT);
	assert_string_equal(dvm_fail_name(DVM_FAIL_HANG), "hang");
	assert_string_equal(dvm_state_name(DVM_UP), "up");
}

static void boot_then_up_then_hung(void **state)
{
	struct dvm_policy p;

	(void)state;
	dvm_policy_init(&p, &T, 1);
	dvm_policy_started(&p, 0, 1000);
	assert_int_equal(p.s[0].state, DVM_BOOTING);
	assert_int_equal(dvm_policy_overdue(&p, 0, 1999), DVM_FAIL_NONE);
	assert_int_equal(dvm_policy_answered(&p, 0, 1500), DVM_BECAME_UP);
	assert_int_equal(p.s[0].state, DVM_UP);
	assert_int_equal(dvm_policy_answered(&p, 0, 1510), 0);
	/* misses * period = 50 ms of silence is still alive; one ms more is hung. */
	assert_int_equal(dvm_policy_overdue(&p, 0, 1560), DVM_FAIL_NONE);
	assert_int_equal(dvm_policy_overdue(&p, 0, 1561), DVM_FAIL_HANG);
}

static void boot_timeout(void **state)
{
	struct dvm_policy p;

	(void)state;
	dvm_policy_init(&p, &T, 1);
	dvm_policy_started(&p, 0, 0);
	assert_int_equal(dvm_policy_overdue(&p, 0, 999), DVM_FAIL_NONE);
	assert_int_equal(dvm_policy_overdue(&p, 0, 1000), DVM_FAIL_BOOT);
	/* A failed (down) slot is not probed, so it is never late. */
	assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_BOOT, 1000), DVM_DO_RESTART);
	assert_int_equal(dvm_policy_overdue(&p, 0, 100000), DVM_FAIL_NONE);
	assert_int_equal(dvm_policy_answered(&p, 0, 1001), 0);
}

static void cold_restart_with_backoff_then_limit(void **state)
{
	struct dvm_policy p;
	uint64_t t = 0;
	unsigned i;

	(void)state;
	dvm_policy_init(&p, &T, 1);
	for (i = 1; i <= T.restart_limit; i++) {
		dvm_policy_started(&p, 0, t);
		assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_PANIC, t + 5), DVM_DO_RESTART);
		assert_int_equal(p.s[0].state, DVM_DOWN);
		assert_false(dvm_policy_restart_due(&p, 0, t + 5 + dvm_backoff_ms(i) - 1));
		assert_true(dvm_policy_restart_due(&p, 0, t + 5 + dvm_backoff_ms(i)));
		t += 10000;
	}
	dvm_policy_started(&p, 0, t);
	/* One failure past the limit, with no other driver VM: stop. */
	assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_PANIC, t + 5), DVM_DO_STOP);
	assert_int_equal(p.s[0].state, DVM_GONE);
	assert_int_equal(p.restarts, T.restart_limit);
	assert_int_equal(p.last_fail, DVM_FAIL_PANIC);
}

static void stable_uptime_forgives(void **state)
{
	struct dvm_policy p;
	uint64_t t = 0;
	unsigned i;

	(void)state;
	dvm_policy_init(&p, &T, 1);
	/* Failures after DVM_STABLE_MS up each count as the first: never the limit. */
	for (i = 0; i < 10; i++) {
		dvm_policy_started(&p, 0, t);
		dvm_policy_answered(&p, 0, t + 100);
		assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_CRASH, t + 100 + DVM_STABLE_MS), DVM_DO_RESTART);
		assert_int_equal(p.s[0].fails, 1);
		t += 2 * DVM_STABLE_MS;
	}
}

static void failover_to_an_up_spare(void **state)
{
	struct dvm_policy p;
	unsigned act;

	(void)state;
	dvm_policy_init(&p, &T, 2);
	dvm_policy_started(&p, 0, 0);
	dvm_policy_started(&p, 1, 0);
	dvm_policy_answered(&p, 0, 100);
	assert_int_equal(dvm_policy_answered(&p, 1, 120), DVM_BECAME_UP);	/* a spare: no failover */
	assert_int_equal(p.active, 0);
	dvm_policy_answered(&p, 0, 200);
	act = dvm_policy_failed(&p, 0, DVM_FAIL_CRASH, 230);
	assert_int_equal(act, DVM_DO_FAILOVER | DVM_DO_RESTART);
	assert_int_equal(p.active, 1);
	assert_int_equal(p.failovers, 1);
	assert_int_equal(p.last_detect_ms, 30);
	assert_int_equal(p.last_fail_at, 230);
	/* The outage runs from the old active's last answer to the new active's next one. */
	assert_int_equal(p.outage_from, 200);
	dvm_policy_answered(&p, 1, 260);
	assert_int_equal(p.last_outage_ms, 60);
	assert_int_equal(p.outage_from, 0);
	/* The old primary comes back as the spare: no failover back. */
	dvm_policy_started(&p, 0, 400);
	assert_int_equal(dvm_policy_answered(&p, 0, 500), DVM_BECAME_UP);
	assert_int_equal(p.active, 1);
}

static void no_failover_to_a_booting_spare(void **state)
{
	struct dvm_policy p;

	(void)state;
	dvm_policy_init(&p, &T, 2);
	dvm_policy_started(&p, 0, 0);
	dvm_policy_started(&p, 1, 0);
	dvm_policy_answered(&p, 0, 100);
	assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_HANG, 300), DVM_DO_RESTART);
	assert_int_equal(p.active, 0);
	/* The spare comes up while the primary is down: it takes over then. */
	assert_int_equal(dvm_policy_answered(&p, 1, 350), DVM_BECAME_UP | DVM_DO_FAILOVER);
	assert_int_equal(p.active, 1);
	assert_int_equal(p.last_outage_ms, 250);
}

static void primary_keeps_its_port_at_the_start(void **state)
{
	struct dvm_policy p;

	(void)state;
	dvm_policy_init(&p, &T, 2);
	dvm_policy_started(&p, 0, 0);
	dvm_policy_started(&p, 1, 0);
	/* The spare answers first: the primary is only booting, nothing failed. */
	assert_int_equal(dvm_policy_answered(&p, 1, 50), DVM_BECAME_UP);
	assert_int_equal(p.active, 0);
	assert_int_equal(p.failovers, 0);
	assert_int_equal(dvm_policy_answered(&p, 0, 90), DVM_BECAME_UP);
	assert_int_equal(p.active, 0);
}

static void spare_past_the_limit_is_dropped(void **state)
{
	struct dvm_policy p;
	unsigned i;

	(void)state;
	dvm_policy_init(&p, &T, 2);
	dvm_policy_started(&p, 0, 0);
	dvm_policy_answered(&p, 0, 10);
	for (i = 0; i < T.restart_limit; i++) {
		dvm_policy_started(&p, 1, 100 * i);
		assert_int_equal(dvm_policy_failed(&p, 1, DVM_FAIL_PANIC, 100 * i + 1), DVM_DO_RESTART);
	}
	dvm_policy_started(&p, 1, 1000);
	assert_int_equal(dvm_policy_failed(&p, 1, DVM_FAIL_PANIC, 1001), DVM_DO_DROP);
	assert_int_equal(p.active, 0);
	/* Now the primary alone: its own limit stops everything. */
	for (i = 0; i < T.restart_limit; i++) {
		assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_EXIT, 2000 + i), DVM_DO_RESTART);
		dvm_policy_started(&p, 0, 2000 + i);
	}
	assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_EXIT, 3000), DVM_DO_STOP);
}

static void primary_past_the_limit_hands_over(void **state)
{
	struct dvm_policy p;
	unsigned i;

	(void)state;
	dvm_policy_init(&p, &T, 2);
	dvm_policy_started(&p, 1, 0);
	for (i = 0; i < T.restart_limit; i++) {
		dvm_policy_started(&p, 0, 10 * i);
		assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_BOOT, 10 * i + 1), DVM_DO_RESTART);
	}
	dvm_policy_started(&p, 0, 100);
	/* The spare is still booting: it gets the bridge port, the primary is given up. */
	assert_int_equal(dvm_policy_failed(&p, 0, DVM_FAIL_BOOT, 101), DVM_DO_FAILOVER | DVM_DO_DROP);
	assert_int_equal(p.active, 1);
}

static void downlink_mac_is_stable(void **state)
{
	uint8_t a[6], b[6], c[6], d[6];
	uint32_t ip, ip2;

	(void)state;
	inet_pton(AF_INET, "10.99.0.1", &ip);
	inet_pton(AF_INET, "10.99.0.2", &ip2);
	dvm_downlink_mac("br0", ip, a);
	dvm_downlink_mac("br0", ip, b);
	dvm_downlink_mac("br1", ip, c);
	dvm_downlink_mac("br0", ip2, d);
	assert_memory_equal(a, b, 6);			/* the next supervisor's is the same */
	assert_memory_not_equal(a, c, 6);
	assert_memory_not_equal(a, d, 6);
	assert_int_equal(a[0] & 3, 2);			/* unicast, locally administered */
	assert_int_equal(c[0] & 3, 2);
}

static const uint8_t TAPMAC[6] = { 0xfe, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t VMMAC[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };

static void arp_probe_bytes(void **state)
{
	static const uint8_t want[DVM_ARP_LEN] = {
		0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xfe, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
		0xfe, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0, 0,		/* sender: the TAP, 0.0.0.0 */
		0, 0, 0, 0, 0, 0, 10, 99, 0, 1,				/* target: ?, 10.99.0.1 */
	};
	uint8_t buf[64];
	uint32_t ip;

	(void)state;
	inet_pton(AF_INET, "10.99.0.1", &ip);
	assert_int_equal(dvm_arp_probe(buf, sizeof(buf), TAPMAC, VMMAC, ip), DVM_ARP_LEN);
	assert_memory_equal(buf, want, DVM_ARP_LEN);
	assert_int_equal(dvm_arp_probe(buf, DVM_ARP_LEN - 1, TAPMAC, VMMAC, ip), 0);
}

/* The reply Linux sends to a probe (arp_process: RFC 5227 §2.1.1). */
static void make_reply(uint8_t *f, const uint8_t *mac, const char *ip)
{
	memset(f, 0, DVM_ARP_LEN);
	memcpy(f, TAPMAC, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08, f[13] = 0x06, f[15] = 1, f[16] = 8, f[18] = 6, f[19] = 4, f[21] = 2;
	memcpy(f + 22, mac, 6);
	inet_pton(AF_INET, ip, f + 28);
	memcpy(f + 32, TAPMAC, 6);
}

static void arp_answers(void **state)
{
	uint8_t f[DVM_ARP_LEN + 18];
	uint32_t ip;

	(void)state;
	inet_pton(AF_INET, "10.99.0.1", &ip);
	make_reply(f, VMMAC, "10.99.0.1");
	assert_true(dvm_arp_is_answer(f, DVM_ARP_LEN, ip, VMMAC));
	assert_true(dvm_arp_is_answer(f, sizeof(f), ip, VMMAC));	/* Ethernet padding */
	assert_false(dvm_arp_is_answer(f, DVM_ARP_LEN - 1, ip, VMMAC));
	make_reply(f, VMMAC, "10.99.0.2");				/* another address */
	assert_false(dvm_arp_is_answer(f, DVM_ARP_LEN, ip, VMMAC));
	make_reply(f, TAPMAC, "10.99.0.1");				/* another MAC */
	assert_false(dvm_arp_is_answer(f, DVM_ARP_LEN, ip, VMMAC));
	make_reply(f, VMMAC, "10.99.0.1");
	f[21] = 1;							/* a request, not a reply */
	assert_false(dvm_arp_is_answer(f, DVM_ARP_LEN, ip, VMMAC));
	make_reply(f, VMMAC, "10.99.0.1");
	f[13] = 0x00;							/* IPv4, not ARP */
	assert_false(dvm_arp_is_answer(f, DVM_ARP_LEN, ip, VMMAC));
}

static int parse(struct dvm_config *c, const char *const *args)
{
	static char store[24][96];
	static char *argv[25];
	int n = 0;

	snprintf(store[0], sizeof(store[0]), "run");
	argv[n] = store[n];
	for (n = 1; args[n - 1]; n++) {
		snprintf(store[n], sizeof(store[n]), "%s", args[n - 1]);
		argv[n] = store[n];
	}
	argv[n] = NULL;
	return dvm_parse_opts(n, argv, c);
}

static void options(void **state)
{
	struct dvm_config c;
	uint32_t ip;

	(void)state;
	assert_int_equal(parse(&c, (const char *[]){ "--device", "vf:eth0", "--bridge", "br0", NULL }), 0);
	assert_string_equal(c.device, "vf:eth0");
	assert_null(c.spare);
	assert_string_equal(c.kernel, DVM_DEFAULT_KERNEL);
	inet_pton(AF_INET, "10.99.0.1", &ip);
	assert_int_equal(c.addr, ip);
	assert_int_equal(c.prefix, 24);
	assert_int_equal(c.probe_ms, DVM_DEFAULT_PROBE_MS);
	assert_true(c.jail.enabled);
	assert_int_equal(parse(&c, (const char *[]){ "--device", "vf:eth0", "--spare", "vf:eth0", "--bridge",
				"br0", "--addr", "192.168.7.9/16", "--probe-period", "50", "--probe-misses", "40",
				"--boot-timeout", "300", "--restart-limit", "0", "--no-jail", "--append",
				"iomem=relaxed igb.debug=1", NULL }), 0);
	assert_string_equal(c.append, "iomem=relaxed igb.debug=1");
	assert_string_equal(c.spare, "vf:eth0");	/* two VFs of one PF */
	inet_pton(AF_INET, "192.168.7.9", &ip);
	assert_int_equal(c.addr, ip);
	assert_int_equal(c.prefix, 16);
	assert_int_equal(c.misses, 40);
	assert_int_equal(c.boot_s, 300);
	assert_int_equal(c.restart_limit, 0);
	assert_false(c.jail.enabled);
}

static void refused_options(void **state)
{
	static const char *const bad[][8] = {
		{ "--bridge", "br0", NULL },
		{ "--device", "vf:eth0", NULL },
		{ "--device", "vf:", "--bridge", "br0", NULL },
		{ "--device", "a b", "--bridge", "br0", NULL },
		{ "--device", "0000:01:10.0", "--spare", "0000:01:10.0", "--bridge", "br0", NULL },
		{ "--device", "eth1", "--bridge", "br/0", NULL },
		{ "--device", "eth1", "--bridge", "averyveryverylongname", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--addr", "10.99.0.0/24", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--addr", "10.99.0.255/24", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--addr", "10.99.0.1", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--addr", "10.99.0.1/31", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--probe-period", "0", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--probe-misses", "1", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--memory", "1M", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--bridge", "br1", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--no-jail", "--jail-user", "x", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--dev", "x", NULL },
		{ "--device", "eth1", "--bridge", "br0", "extra", NULL },
		{ "--device", "eth1", "--bridge", "br0", "--append", "a\nb", NULL },
	};
	struct dvm_config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&c, bad[i]) != -EINVAL)
			fail_msg("accepted: %s %s %s %s %s %s", bad[i][0], bad[i][1], bad[i][2] ? bad[i][2] : "",
				 bad[i][2] && bad[i][3] ? bad[i][3] : "", bad[i][2] && bad[i][3] && bad[i][4] ? bad[i][4] : "",
				 bad[i][2] && bad[i][3] && bad[i][4] && bad[i][5] ? bad[i][5] : "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backoff_doubles_to_a_cap),
		cmocka_unit_test(status_to_failure),
		cmocka_unit_test(boot_then_up_then_hung),
		cmocka_unit_test(boot_timeout),
		cmocka_unit_test(cold_restart_with_backoff_then_limit),
		cmocka_unit_test(stable_uptime_forgives),
		cmocka_unit_test(failover_to_an_up_spare),
		cmocka_unit_test(no_failover_to_a_booting_spare),
		cmocka_unit_test(primary_keeps_its_port_at_the_start),
		cmocka_unit_test(spare_past_the_limit_is_dropped),
		cmocka_unit_test(primary_past_the_limit_hands_over),
		cmocka_unit_test(downlink_mac_is_stable),
		cmocka_unit_test(arp_probe_bytes),
		cmocka_unit_test(arp_answers),
		cmocka_unit_test(options),
		cmocka_unit_test(refused_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
