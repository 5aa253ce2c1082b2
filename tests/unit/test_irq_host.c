/* cmocka: host interrupt-remapping checks, on text and on tests/fixtures/irq/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "irqremap/irqremap.h"

/* tests/fixtures/irq/<name>, found from this file's path so any cwd above it works. */
static const char *fixture(char *buf, size_t len, const char *name)
{
	const char *file = __FILE__, *slash = strrchr(file, '/');
	int dir = slash ? (int)(slash - file + 1) : 0;

	snprintf(buf, len, "%.*s../fixtures/irq/%s", dir, file, name);
	return buf;
}

static struct irq_host_facts parse(const char *text)
{
	struct irq_host_facts f = { .ir_capable = -1 };

	irq_host_parse_interrupts(text, &f);
	return f;
}

static void interrupts_counts_chips(void **state)
{
	struct irq_host_facts f = parse(
		"           CPU0       CPU1\n"
		"  0:         44          0  IR-IO-APIC    2-edge      timer\n"
		" 24:          0          0  DMAR-MSI    0-edge      dmar0\n"
		" 26:          0         12  IR-PCI-MSIX-0000:01:00.0    0-edge      vfio-msix[0]\n"
		" 27:          0          0  IR-PCI-MSI 16384-edge      aerdrv\n"
		" 28:          0          0   PCI-MSI 2048-edge      AMD-Vi\n"
		" 29:          0          0 PCI-MSIX-0000:00:01.0   0-edge      virtio0-config\n"
		"  9:          0          0   IO-APIC   9-fasteoi   acpi\n"
		"NMI:          0          0   Non-maskable interrupts\n");

	(void)state;
	assert_true(f.proc_read);
	assert_int_equal(f.ir_lines, 3);
	assert_int_equal(f.plain_lines, 3);
}

/* Only the chip column counts: names, labels and odd lines are not chips. */
static void interrupts_ignores_the_rest(void **state)
{
	struct irq_host_facts f = parse(
		"           CPU0\n"
		"  5:          1   XT-PIC      IR-IO-APIC-fake-name\n"
		"  6:          1   PCI-MSI-edge\n"		/* old kernels: "PCI-MSI-edge" */
		"PIN:          0   IR-IO-APIC in free text\n"
		"LOC:      23111   Local timer interrupts\n"
		"ERR:          0\n"
		"  7:          0\n"
		"  x:          0   IR-IO-APIC\n"
		":             0   IR-IO-APIC\n"
		"\n"
		" 30:  0 IR-PCI-MSI 1-edge last line without newline");

	(void)state;
	assert_int_equal(f.plain_lines, 1);
	assert_int_equal(f.ir_lines, 1);
	f = parse("");
	assert_true(f.proc_read);
	assert_int_equal(f.ir_lines + f.plain_lines, 0);
}

static void ecap_ir_bit(void **state)
{
	bool ir = false;

	(void)state;
	assert_int_equal(irq_host_parse_ecap("f00f1a\n", &ir), 0);
	assert_true(ir);
	assert_int_equal(irq_host_parse_ecap("f00f02\n", &ir), 0);
	assert_false(ir);
	assert_int_equal(irq_host_parse_ecap("0x8", &ir), 0);
	assert_true(ir);
	assert_int_equal(irq_host_parse_ecap("f7", &ir), 0);
	assert_false(ir);
	assert_int_equal(irq_host_parse_ecap("", &ir), -EINVAL);
	assert_int_equal(irq_host_parse_ecap("zz\n", &ir), -EINVAL);
	assert_int_equal(irq_host_parse_ecap("-8\n", &ir), -EINVAL);
	assert_int_equal(irq_host_parse_ecap("8 \n", &ir), -EINVAL);
	assert_int_equal(irq_host_parse_ecap("8\n\n", &ir), -EINVAL);
	assert_int_equal(irq_host_parse_ecap("1ffffffffffffffff\n", &ir), -EINVAL);
	assert_int_equal(irq_host_parse_ecap(NULL, &ir), -EINVAL);
}

static void bool_param(void **state)
{
	bool on = false;

	(void)state;
	assert_int_equal(irq_host_parse_param("Y\n", &on), 0);
	assert_true(on);
	assert_int_equal(irq_host_parse_param("N\n", &on), 0);
	assert_false(on);
	assert_int_equal(irq_host_parse_param("1", &on), 0);
	assert_true(on);
	assert_int_equal(irq_host_parse_param("0", &on), 0);
	assert_false(on);
	assert_int_equal(irq_host_parse_param("", &on), -EINVAL);
	assert_int_equal(irq_host_parse_param("Yes\n", &on), -EINVAL);
	assert_int_equal(irq_host_parse_param("Y\n\n", &on), -EINVAL);
	assert_int_equal(irq_host_parse_param("?", &on), -EINVAL);
	assert_int_equal(irq_host_parse_param(NULL, &on), -EINVAL);
}

static enum irq_host_verdict judge(const struct irq_host_facts *f, char *msg)
{
	return irq_host_judge(f, msg, 512);
}

/* Every verdict from facts alone, and the advice each one gives. */
static void judge_combinations(void **state)
{
	struct irq_host_facts on = { .proc_read = true, .ir_lines = 3, .ir_capable = 1 };
	struct irq_host_facts off = { .proc_read = true, .plain_lines = 3, .ir_capable = -1 };
	struct irq_host_facts f;
	char msg[512];

	(void)state;
	assert_int_equal(judge(&on, msg), IRQ_HOST_OK);
	on.ir_capable = 0;	/* the kernel's use wins over a unit's register */
	assert_int_equal(judge(&on, msg), IRQ_HOST_OK);
	on.plain_lines = 1;	/* AMD-Vi's own PCI-MSI next to IR lines */
	assert_int_equal(judge(&on, msg), IRQ_HOST_OK);
	on.unsafe = true;
	assert_int_equal(judge(&on, msg), IRQ_HOST_UNSAFE_ALLOWED);
	assert_non_null(strstr(msg, "set it to N"));
	assert_null(strstr(msg, "not on"));

	assert_int_equal(judge(&off, msg), IRQ_HOST_NO_REMAPPING);
	assert_non_null(strstr(msg, "intel_iommu=on or amd_iommu=on"));
	assert_non_null(strstr(msg, "--allow-unsafe-interrupts knowingly"));
	f = off;
	f.ir_capable = 1;
	snprintf(f.unit, sizeof(f.unit), "dmar1");
	assert_int_equal(judge(&f, msg), IRQ_HOST_NO_REMAPPING);
	assert_non_null(strstr(msg, "dmar1 supports it"));
	f.ir_capable = 0;
	assert_int_equal(judge(&f, msg), IRQ_HOST_NO_REMAPPING);
	assert_non_null(strstr(msg, "dmar1 cannot remap"));
	f.unsafe = true;
	assert_int_equal(judge(&f, msg), IRQ_HOST_UNSAFE_ALLOWED);
	assert_non_null(strstr(msg, "interrupt remapping is not on"));

	f = (struct irq_host_facts){ .proc_read = false, .ir_capable = -1 };
	assert_int_equal(judge(&f, msg), IRQ_HOST_UNKNOWN);
	assert_non_null(strstr(msg, "unreadable"));
	f.proc_read = true;
	assert_int_equal(judge(&f, msg), IRQ_HOST_UNKNOWN);
	assert_non_null(strstr(msg, "lists no IO-APIC or PCI-MSI"));
	f.unsafe = true;
	assert_int_equal(judge(&f, msg), IRQ_HOST_UNSAFE_ALLOWED);
}

struct fixture_case {
	const char *name;
	enum irq_host_verdict want;
	const char *says;	/* a phrase the message must hold */
};

static void fixtures(void **state)
{
	static const struct fixture_case cases[] = {
		{ "remap_on", IRQ_HOST_OK, "interrupt remapping is on (10 interrupts" },
		{ "unsafe_absent", IRQ_HOST_OK, "interrupt remapping is on" },
		{ "amd_on", IRQ_HOST_OK, "interrupt remapping is on (4 interrupts" },
		{ "remap_off", IRQ_HOST_NO_REMAPPING, "/sys/class/iommu is empty" },
		{ "remap_capable_off", IRQ_HOST_NO_REMAPPING, "dmar0 supports it" },
		{ "no_ir_unit", IRQ_HOST_NO_REMAPPING, "dmar0 cannot remap" },
		{ "unsafe_y", IRQ_HOST_UNSAFE_ALLOWED, "allow_unsafe_interrupts is Y and" },
		{ "unsafe_y_remap_on", IRQ_HOST_UNSAFE_ALLOWED, "is Y, so VFIO" },
		{ "unknown", IRQ_HOST_UNKNOWN, "lists no IO-APIC" },
		{ "no_proc", IRQ_HOST_UNKNOWN, "unreadable" },
		{ "no_such_case", IRQ_HOST_UNKNOWN, "unreadable" },
	};
	char root[512], msg[512];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct irq_host_facts f;

		assert_int_equal(irq_host_probe(fixture(root, sizeof(root), cases[i].name), &f), 0);
		if (irq_host_judge(&f, msg, sizeof(msg)) != cases[i].want || !strstr(msg, cases[i].says))
			fail_msg("%s: got \"%s\", want verdict %d with \"%s\"", cases[i].name, msg,
				 cases[i].want, cases[i].says);
	}
}

static void fixture_facts(void **state)
{
	struct irq_host_facts f;
	char root[512];

	(void)state;
	assert_int_equal(irq_host_probe(fixture(root, sizeof(root), "remap_on"), &f), 0);
	assert_true(f.proc_read);
	assert_int_equal(f.ir_lines, 10);
	assert_int_equal(f.plain_lines, 0);
	assert_int_equal(f.iommu_units, 1);
	assert_int_equal(f.ir_capable, 1);
	assert_string_equal(f.unit, "dmar0");
	assert_false(f.unsafe);
	assert_int_equal(irq_host_probe(fixture(root, sizeof(root), "amd_on"), &f), 0);
	assert_int_equal(f.plain_lines, 1);
	assert_int_equal(f.ir_capable, 1);
	assert_string_equal(f.unit, "ivhd0");
	assert_int_equal(irq_host_probe(fixture(root, sizeof(root), "unsafe_absent"), &f), 0);
	assert_false(f.unsafe);
	assert_int_equal(irq_host_probe(fixture(root, sizeof(root), "unsafe_y"), &f), 0);
	assert_true(f.unsafe);
	assert_int_equal(f.ir_capable, -1);
	assert_int_equal(f.iommu_units, 0);
}

/* Policy: refuse unless told, then pass with a warning (on stderr). */
static void require_policy(void **state)
{
	char root[512];

	(void)state;
	assert_int_equal(irq_host_require(fixture(root, sizeof(root), "remap_on"), false), 0);
	assert_int_equal(irq_host_require(fixture(root, sizeof(root), "remap_off"), false), -EPERM);
	assert_int_equal(irq_host_require(fixture(root, sizeof(root), "remap_off"), true), 0);
	assert_int_equal(irq_host_require(fixture(root, sizeof(root), "unsafe_y"), false), -EPERM);
	assert_int_equal(irq_host_require(fixture(root, sizeof(root), "unknown"), false), -EPERM);
	assert_int_equal(irq_host_require(fixture(root, sizeof(root), "unknown"), true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interrupts_counts_chips),
		cmocka_unit_test(interrupts_ignores_the_rest),
		cmocka_unit_test(ecap_ir_bit),
		cmocka_unit_test(bool_param),
		cmocka_unit_test(judge_combinations),
		cmocka_unit_test(fixtures),
		cmocka_unit_test(fixture_facts),
		cmocka_unit_test(require_policy),
	};
	return cmocka_run_group_tests_name("irq_host", tests, NULL, NULL);
}
