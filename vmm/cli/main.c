/* sluice: entry point and subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "vmm/cli/cli.h"
#include "vmm/cli/commands.h"
#include "vmm/log.h"
#include "vmm/cli/run.h"

struct subcommand {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct subcommand subcommands[] = {
	{ "run", "boot a Linux guest, optionally with host PCI devices", cmd_run },
	{ "devices", "list PCI devices and whether each can be assigned", cmd_devices },
	{ "release", "give back devices a killed sluice left bound to vfio-pci", cmd_release },
	{ "vf", "list, create, destroy and set SR-IOV virtual functions", cmd_vf },
	{ "driver-vm", "run a NIC driver in a supervised driver VM that serves a bridge", cmd_driver_vm },
	{ "help", "show this help", cmd_help },
	{ "version", "print sluice's version", cmd_version },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: sluice [--help] [--version] <command> [<args>]\n\n"
		   "sluice is a small KVM hypervisor that gives guests real PCI devices\n"
		   "and SR-IOV virtual functions through VFIO.\n\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\n'sluice <command> --help' describes a command.\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return SLUICE_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("sluice %s\n", SLUICE_VERSION);
	return SLUICE_EXIT_OK;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return SLUICE_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc - 1, argv + 1);
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);

	if (argv[1][0] == '-')
		pr_err("unknown option '%s'", argv[1]);
	else
		pr_err("unknown command '%s'", argv[1]);
	usage(stderr);
	return SLUICE_EXIT_USAGE;
}
