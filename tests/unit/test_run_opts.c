/*
 * cmocka: `sluice run` argument parsing (vmm/run_opts.c): the defaults, every
 * flag, and a table of refusals, each with the words its message must carry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/cli/run.h"

#define MAX_ARGS 32
#define ARG_LEN 128

/* argv for run_parse_opts: "run" then @args (NULL-ended), in writable storage. */
static char arg_store[MAX_ARGS][ARG_LEN];
static char *argv_buf[MAX_ARGS + 1];
static char err_buf[4096];

static int make_argv(const char *const *args)
{
	int n = 0;

	snprintf(arg_store[n], ARG_LEN, "run");
	argv_buf[n] = arg_store[n];
	for (n = 1; args[n - 1]; n++) {
		assert_true(n < MAX_ARGS);
		assert_true(strlen(args[n - 1]) < ARG_LEN);
		snprintf(arg_store[n], ARG_LEN, "%s", args[n - 1]);
		argv_buf[n] = arg_store[n];
	}
	argv_buf[n] = NULL;
	return n;
}

/* Run the parser on @args with stdout and stderr captured into err_buf. */
static int parse(const char *const *args, struct run_opts *o)
{
	int argc = make_argv(args), out = dup(STDOUT_FILENO), err = dup(STDERR_FILENO), rc;
	FILE *cap = tmpfile();
	size_t n;

	assert_non_null(cap);
	assert_true(out >= 0 && err >= 0);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(cap), STDOUT_FILENO);
	dup2(fileno(cap), STDERR_FILENO);
	rc = run_parse_opts(argc, argv_buf, o);
	fflush(stdout);
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	rewind(cap);
	n = fread(err_buf, 1, sizeof(err_buf) - 1, cap);
	err_buf[n] = '\0';
	fclose(cap);
	return rc;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void defaults(void **state)
{
	struct run_opts o;

	(void)state;
	assert_int_equal(parse(ARGS("--kernel", "bz"), &o), 0);
	assert_string_equal(err_buf, "");
	assert_string_equal(o.kernel, "bz");
	assert_null(o.initrd);
	assert_string_equal(o.cmdline, RUN_DEFAULT_CMDLINE);
	assert_string_equal(o.name, "vm");
	assert_int_equal(o.cpus, 1);
	assert_int_equal(o.memory, RUN_DEFAULT_MEMORY);
	assert_false(o.hugepages);
	assert_int_equal(o.nr_assign, 0);
	assert_false(o.allow_unsafe_interrupts);
	assert_false(o.stats);
	assert_int_equal(o.nr_disks, 0);
	assert_int_equal(o.nr_nets, 0);
	assert_false(o.viommu);
}

/* --viommu with one device behind it, by --assign or by --net vf:, with --hugepages too. */
static void viommu_one_device(void **state)
{
	struct run_opts o;

	(void)state;
	assert_int_equal(parse(ARGS("--kernel", "bz", "--viommu", "--assign", "0000:01:10.0"), &o), 0);
	assert_true(o.viommu);
	assert_int_equal(parse(ARGS("--kernel", "bz", "--net", "vf:eth0", "--viommu", "--hugepages"), &o), 0);
	assert_true(o.viommu);
	assert_int_equal(o.nr_vfs, 1);
}

/* Several devices, each in a container of its own: --assign and --net vf: mixed, and 8 of them. */
static void viommu_several_devices(void **state)
{
	struct run_opts o;

	(void)state;
	assert_int_equal(parse(ARGS("--kernel", "bz", "--viommu", "--assign", "a0", "--net", "vf:eth0"), &o), 0);
	assert_true(o.viommu);
	assert_int_equal(o.nr_assign + o.nr_vfs, 2);
	assert_int_equal(parse(ARGS("--kernel", "bz", "--viommu", "--net", "vf:eth0", "--net", "vf:eth0"), &o), 0);
	assert_int_equal(o.nr_vfs, 2);
	assert_int_equal(parse(ARGS("--kernel", "bz", "--viommu", "--assign", "a0", "--assign", "a1",
				    "--assign", "a2", "--assign", "a3", "--assign", "a4", "--assign", "a5",
				    "--assign", "a6", "--assign", "a7"), &o), 0);
	assert_int_equal(o.nr_assign, 8);
}

static void every_flag(void **state)
{
	struct run_opts o;

	(void)state;
	assert_int_equal(parse(ARGS("--kernel", "bz", "--initrd", "rd", "--cmdline", "console=hvc0 quiet",
				    "--cpus", "4", "--memory", "1G", "--hugepages", "--name", "web-1",
				    "--assign", "0000:01:10.0", "--assign", "eth1", "--allow-unsafe-interrupts",
				    "--stats", "--disk", "/img,ro", "--net", "tap:t0"), &o), 0);
	assert_string_equal(err_buf, "");
	assert_string_equal(o.kernel, "bz");
	assert_string_equal(o.initrd, "rd");
	assert_string_equal(o.cmdline, "console=hvc0 quiet");
	assert_int_equal(o.cpus, 4);
	assert_int_equal(o.memory, 1ull << 30);
	assert_true(o.hugepages);
	assert_string_equal(o.name, "web-1");
	assert_int_equal(o.nr_assign, 2);
	assert_string_equal(o.assign[0], "0000:01:10.0");
	assert_string_equal(o.assign[1], "eth1");
	assert_true(o.allow_unsafe_interrupts);
	assert_true(o.stats);
	assert_int_equal(o.nr_disks, 1);
	assert_string_equal(o.disk[0].path, "/img");
	assert_true(o.disk[0].ro);
	assert_int_equal(o.nr_nets, 1);
	assert_string_equal(o.net[0].ifname, "t0");
}

/* --opt=value, the smallest memory, hugepages with a 2M multiple, 8 --assign. */
static void accepted_edges(void **state)
{
	struct run_opts o;

	(void)state;
	assert_int_equal(parse(ARGS("--kernel=bz", "--memory=2M", "--cpus=255"), &o), 0);
	assert_string_equal(o.kernel, "bz");
	assert_int_equal(o.memory, RUN_MIN_MEMORY);
	assert_int_equal(o.cpus, 255);
	assert_int_equal(parse(ARGS("--kernel", "bz", "--memory", "2052K"), &o), 0);
	assert_int_equal(o.memory, 2052 << 10);
	assert_int_equal(parse(ARGS("--kernel", "bz", "--hugepages", "--memory", "6M"), &o), 0);
	assert_int_equal(o.memory, 6 << 20);
	assert_int_equal(parse(ARGS("--kernel", "bz", "--assign", "a0", "--assign", "a1", "--assign", "a2",
				    "--assign", "a3", "--assign", "a4", "--assign", "a5", "--assign", "a6",
				    "--assign", "a7"), &o), 0);
	assert_int_equal(o.nr_assign, RUN_MAX_ASSIGN);
	assert_string_equal(o.assign[7], "a7");
	assert_int_equal(parse(ARGS("--kernel", "bz", "--name", "a234567890123456789012345678901234567890"
				    "123456789012345678901234"), &o), 0);
	assert_int_equal(strlen(o.name), 64);
	assert_string_equal(err_buf, "");
}

static void help(void **state)
{
	struct run_opts o;

	(void)state;
	assert_int_equal(parse(ARGS("--help"), &o), 1);
	assert_non_null(strstr(err_buf, "usage: sluice run --kernel BZIMAGE"));
	assert_int_equal(parse(ARGS("--kernel", "bz", "-h"), &o), 1);
	assert_non_null(strstr(err_buf, "usage: sluice run"));
}

struct refusal {
	const char *what;
	const char *const *args;
	const char *msg;	/* must appear in what is printed */
};

static const struct refusal refusals[] = {
	{ "no kernel", ARGS("--cpus", "2"), "no kernel: give --kernel BZIMAGE" },
	{ "stray argument", ARGS("--kernel", "bz", "extra"), "unexpected argument 'extra'" },
	{ "unknown option", ARGS("--kernel", "bz", "--frob"), "unknown option '--frob'" },
	{ "unknown short option", ARGS("-x", "--kernel", "bz"), "unknown option '-x'" },
	{ "ambiguous prefix", ARGS("--kernel", "bz", "--a", "x"), "unknown option '--a'" },
	{ "missing value", ARGS("--kernel"), "missing value for '--kernel'" },
	{ "missing value, last", ARGS("--kernel", "bz", "--memory"), "missing value for '--memory'" },
	{ "abbreviation", ARGS("--kernel", "bz", "--mem", "256M"), "'--mem': spell the option out: --memory" },
	{ "abbreviation with =", ARGS("--kern=bz"), "'--kern=bz': spell the option out: --kernel" },
	{ "abbreviated help", ARGS("--he"), "'--he': spell the option out: --help" },
	{ "memory not a size", ARGS("--kernel", "bz", "--memory", "lots"), "--memory 'lots': give a size above zero" },
	{ "memory zero", ARGS("--kernel", "bz", "--memory", "0"), "--memory '0': give a size above zero" },
	{ "memory 4K", ARGS("--kernel", "bz", "--memory", "4K"), "--memory '4K': give at least 2M" },
	{ "memory 64K", ARGS("--kernel", "bz", "--memory", "64K"), "--memory '64K': give at least 2M" },
	{ "memory just under 2M", ARGS("--kernel", "bz", "--memory", "2044K"), "give at least 2M" },
	{ "memory not 4K pages", ARGS("--kernel", "bz", "--memory", "2049K"), "whole number of 4 KiB pages" },
	{ "memory bytes not 4K", ARGS("--kernel", "bz", "--memory", "4194305"), "whole number of 4 KiB pages" },
	{ "hugepages odd size", ARGS("--kernel", "bz", "--hugepages", "--memory", "3M"),
	  "--memory must be a multiple of 2M with --hugepages" },
	{ "hugepages odd size, flag last", ARGS("--kernel", "bz", "--memory", "257M", "--hugepages"),
	  "multiple of 2M with --hugepages" },
	{ "cpus zero", ARGS("--kernel", "bz", "--cpus", "0"), "--cpus '0': give a whole number from 1 to 255" },
	{ "cpus 256", ARGS("--kernel", "bz", "--cpus", "256"), "--cpus '256'" },
	{ "cpus not a number", ARGS("--kernel", "bz", "--cpus", "two"), "--cpus 'two'" },
	{ "assign empty", ARGS("--kernel", "bz", "--assign", ""), "--assign needs a PCI address or an interface name" },
	{ "assign nine", ARGS("--kernel", "bz", "--assign", "a0", "--assign", "a1", "--assign", "a2",
			      "--assign", "a3", "--assign", "a4", "--assign", "a5", "--assign", "a6",
			      "--assign", "a7", "--assign", "a8"), "--assign a8: at most 8 devices per VM" },
	{ "name empty", ARGS("--kernel", "bz", "--name", ""), "use 1-64 characters" },
	{ "name too long", ARGS("--kernel", "bz", "--name", "a2345678901234567890123456789012345678901234567890"
				"123456789012345"), "use 1-64 characters without '/' or spaces" },
	{ "name with slash", ARGS("--kernel", "bz", "--name", "a/b"), "--name 'a/b': use 1-64 characters" },
	{ "name with space", ARGS("--kernel", "bz", "--name", "a b"), "--name 'a b'" },
	{ "kernel twice", ARGS("--kernel", "bz", "--kernel", "bz2"), "--kernel given twice" },
	{ "initrd twice", ARGS("--kernel", "bz", "--initrd", "a", "--initrd", "b"), "--initrd given twice" },
	{ "cmdline twice", ARGS("--kernel", "bz", "--cmdline", "a", "--cmdline=b"), "--cmdline given twice" },
	{ "memory twice", ARGS("--kernel", "bz", "--memory", "1G", "--memory", "1G"), "--memory given twice" },
	{ "cpus twice", ARGS("--kernel", "bz", "--cpus", "1", "--cpus", "2"), "--cpus given twice" },
	{ "name twice", ARGS("--kernel", "bz", "--name", "a", "--name", "b"), "--name given twice" },
	{ "viommu, no device", ARGS("--kernel", "bz", "--viommu"),
	  "--viommu puts the assigned devices behind a virtio-iommu, and none is given" },
	{ "viommu, a disk is no device", ARGS("--kernel", "bz", "--viommu", "--disk", "/img"),
	  "none is given: add --assign or --net vf:" },
};

static void refused(void **state)
{
	struct run_opts o;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		rc = parse(refusals[i].args, &o);
		if (rc != -EINVAL || !strstr(err_buf, refusals[i].msg))
			fail_msg("%s: got %d and \"%s\", want -EINVAL and \"%s\"", refusals[i].what, rc, err_buf,
				 refusals[i].msg);
		/* One line starting "sluice run: " names the problem, whatever follows. */
		assert_int_equal(strncmp(err_buf, "sluice run: ", 12), 0);
	}
}

/* A refusal part-way through leaves no state behind for the next parse. */
static void parses_again_after_refusal(void **state)
{
	struct run_opts o;

	(void)state;
	assert_int_equal(parse(ARGS("--kernel", "a", "--kernel", "b"), &o), -EINVAL);
	assert_int_equal(parse(ARGS("--kernel", "b", "--memory", "512M"), &o), 0);
	assert_string_equal(o.kernel, "b");
	assert_int_equal(o.memory, 512ull << 20);
	assert_int_equal(parse(ARGS("-x"), &o), -EINVAL);
	assert_int_equal(parse(ARGS("--kernel", "c"), &o), 0);
	assert_string_equal(o.kernel, "c");
	assert_int_equal(o.memory, RUN_DEFAULT_MEMORY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_flag),
		cmocka_unit_test(viommu_one_device),
		cmocka_unit_test(viommu_several_devices),
		cmocka_unit_test(accepted_edges),
		cmocka_unit_test(help),
		cmocka_unit_test(refused),
		cmocka_unit_test(parses_again_after_refusal),
	};
	return cmocka_run_group_tests_name("run_opts", tests, NULL, NULL);
}
